"""National-scale benchmark inputs: a register of N centres (one workbook) and hourly
telemetry for them, one export per month, as CSV.gz and as Parquet. Vectorised
(polars) and cached: a second bench with the same sizes reuses them."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from openpyxl import Workbook

from pipelines.progress import Report, quiet
from pipelines.reference import Reference

FORMATS = ("csv.gz", "parquet")
REGISTER_HEADERS = ["centre_id", "centre_name", "operator_name", "province", "design_racks",
                    "design_it_kw", "design_pue", "centre_type", "licence_issued",
                    "licence_expires", "commissioned", "status"]


@dataclass(frozen=True)
class BenchInputs:
    register: Path  # the workbook
    exports: dict[str, list[Path]]  # format -> one file per month, in month order
    rows_per_month: list[int]


def prepare(cache: Path, reference: Reference, centres: int, months: int,
            start: dt.date = dt.date(2025, 1, 1), seed: int = 2025,
            report: Report = quiet) -> BenchInputs:
    folder = cache / f"c{centres}_m{months}_{start:%Y%m}_s{seed}"
    done = folder / "READY"
    register = folder / "register" / "bench_register_2024-12.xlsx"
    exports = {f: [folder / f.replace(".", "_") / f"bench_{_month(start, i):%Y-%m}.{f}"
                   for i in range(months)] for f in FORMATS}
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        register.parent.mkdir(parents=True)
        frame = _centres(reference, centres, np.random.default_rng(seed))
        _write_register(register, frame)
        for i in range(months):
            report(f"inputs: telemetry of {_month(start, i):%Y-%m} ({i + 1}/{months}) …")
            samples = _month_samples(frame, _month(start, i), seed + i)
            _write_export(samples, exports["csv.gz"][i], exports["parquet"][i])
        done.write_text("\n".join(str(n) for n in _rows(frame, start, months)))
    rows = [int(n) for n in done.read_text().split()]
    return BenchInputs(register, exports, rows)


def _month(start: dt.date, offset: int) -> dt.date:
    index = start.year * 12 + start.month - 1 + offset
    return dt.date(index // 12, index % 12 + 1, 1)


def _hours(month: dt.date) -> pl.Series:
    """The month's hours (China time) as UTC instants."""
    china = dt.timezone(dt.timedelta(hours=8))
    first = dt.datetime(month.year, month.month, 1, tzinfo=china)
    following = _month(month, 1)
    last = dt.datetime(following.year, following.month, 1, tzinfo=china)
    return pl.datetime_range(first, last, "1h", closed="left", time_unit="us",
                             time_zone="UTC", eager=True).alias("ts")


def _rows(frame: pl.DataFrame, start: dt.date, months: int) -> list[int]:
    operating = frame.filter(pl.col("status") == "operating").height
    return [operating * _hours(_month(start, i)).len() for i in range(months)]


def _centres(reference: Reference, count: int, rng: np.random.Generator) -> pl.DataFrame:
    provinces = reference.provinces.filter(pl.col("province_code") < "70").sort("province_code")
    index = np.arange(count)
    province = provinces[index % provinces.height]
    racks = rng.integers(200, 5000, count)
    return pl.DataFrame({
        "centre_id": [f"DC{code}0100-{n // provinces.height + 1:04d}"
                      for code, n in zip(province["province_code"], index, strict=True)],
        "centre_name": [f"Bench centre {n + 1}" for n in index],
        "operator_name": [f"Operator {n % 40 + 1}" for n in index],
        "province": province["name_zh"],
        "design_racks": racks,
        "design_it_kw": np.round(racks * 2.5 * rng.uniform(0.8, 1.5, count), 1),
        "design_pue": np.round(rng.uniform(1.15, 1.6, count), 2),
        "centre_type": np.where(rng.random(count) < 0.2, "intelligent", "general"),
        "licence_issued": "2018-03-01", "licence_expires": "2033-02-28",
        "commissioned": "2019-06-01",
        "status": np.where(rng.random(count) < 0.9, "operating", "construction"),
        "base_util": rng.uniform(0.15, 0.9, count),
    })


def _write_register(path: Path, frame: pl.DataFrame) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("register")
    sheet.append(REGISTER_HEADERS)
    for row in frame.select(REGISTER_HEADERS).iter_rows():
        sheet.append(list(row))
    book.save(path)


def _month_samples(frame: pl.DataFrame, month: dt.date, seed: int) -> pl.DataFrame:
    """Hourly samples of every operating centre: a daily cycle around its base load."""
    centres = frame.filter(pl.col("status") == "operating")
    grid = centres.join(_hours(month).to_frame(), how="cross")
    noise = np.random.default_rng(seed).uniform(-0.05, 0.05, grid.height)
    hour = pl.col("ts").dt.hour().cast(pl.Float64)
    util = (pl.col("base_util") + 0.08 * (hour * (2 * np.pi / 24)).sin()
            + pl.Series(noise)).clip(0.0, 1.0)
    intelligent = pl.col("centre_type") == "intelligent"
    return grid.select(
        "centre_id",
        ts=pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        racks_in_use=(pl.col("design_racks") * util).round(0),
        it_load_kw=(pl.col("design_it_kw") * util).round(1),
        facility_load_kw=(pl.col("design_it_kw") * util * pl.col("design_pue")).round(1),
        cpu_util_pct=(util * 100).round(1),
        compute_capacity_pflops=pl.when(intelligent).then(pl.col("design_racks") / 100.0),
        compute_used_pflops=pl.when(intelligent).then(
            (pl.col("design_racks") / 100.0 * util).round(3)),
    )


def _write_export(samples: pl.DataFrame, csv_gz: Path, parquet: Path) -> None:
    for path in (csv_gz, parquet):
        path.parent.mkdir(parents=True, exist_ok=True)
    samples.write_parquet(parquet)
    plain = csv_gz.with_suffix("")
    samples.write_csv(plain)
    with open(plain, "rb") as source, gzip.open(csv_gz, "wb", compresslevel=1) as target:
        shutil.copyfileobj(source, target, 1 << 22)
    plain.unlink()

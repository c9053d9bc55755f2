"""Telemetry exports as monitoring platforms send them: one export per source (a
province's platform or a carrier's national one) and month, each source with its own
format, encoding, separator, column names, units, timestamp form and cadence.

Values follow a daily cycle; utilisation grows slowly in the eastern hubs and stays
low in the western ones; some centres report compute; some months have gaps. Planted
faults, a restatement and a never-registered centre come with their truth."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.generate.centres import Centre, CentreState
from pipelines.generate.geography import EASTERN_HUB_PROVINCES, WESTERN_HUB_PROVINCES
from pipelines.reference import Reference
from pipelines.settings import CHINA_TIME
from schemas.telemetry import MEASURES

CHINA = dt.timezone(dt.timedelta(hours=8))
CARRIERS = {"中国电信": "china_telecom", "中国移动": "china_mobile", "中国联通": "china_unicom"}
# Canonical value precision: what is written is exactly this value (or it in MW / ratio).
DECIMALS = {"racks_in_use": 0, "it_load_kw": 1, "facility_load_kw": 1, "cpu_util_pct": 2,
            "gpu_util_pct": 2, "compute_capacity_pflops": 3, "compute_used_pflops": 3}
NAMES = {
    "centre_id": ["centre_id", "dc_id", "site_id", "数据中心编号"],
    "ts": ["ts", "timestamp", "time", "时间"],
    "racks_in_use": ["racks_in_use", "racks_active", "在用机架数"],
    "compute_capacity_pflops": ["compute_capacity_pflops", "pflops_capacity"],
    "compute_used_pflops": ["compute_used_pflops", "pflops_used"],
}
# (format, encoding, separator): every one the contract names appears.
CONTAINERS = [("csv", "utf-8", ","), ("parquet", "", ""), ("jsonl", "utf-8", ""),
              ("csv", "utf-8-sig", ";"), ("csv", "gb18030", "\t"), ("csv.gz", "utf-8", ","),
              ("jsonl.gz", "utf-8", ""), ("csv", "gb18030", ","), ("csv", "utf-8", "\t"),
              ("ndjson", "utf-8", "")]
TS_FORMS = ["offset", "naive", "epoch_ms", "utc", "epoch_s"]
CADENCES = [60, 15, 30, 60, 5]


@dataclass(frozen=True)
class Style:
    fmt: str
    encoding: str
    separator: str
    ts_form: str
    cadence: int  # minutes
    names: dict[str, str]  # canonical -> column name written
    mw: bool
    ratio: bool


@dataclass
class Export:
    file_name: str
    style: Style
    samples: pl.DataFrame  # canonical: centre_id, ts (UTC), MEASURES
    faults: list[tuple[dict, list[tuple[str, str]]]]  # (cells, [(column, rule)])


def choose_styles(rng: random.Random, sources: list[str]) -> dict[str, Style]:
    styles = {}
    for i, source in enumerate(sources):
        fmt, encoding, separator = CONTAINERS[i % len(CONTAINERS)]
        mw, ratio = rng.random() < 0.3, rng.random() < 0.3
        names = {c: rng.choice(options) for c, options in NAMES.items()}
        chinese = encoding == "gb18030"
        names["it_load_kw"] = "it_load_mw" if mw else ("IT负载(kW)" if chinese else
                                                      rng.choice(["it_load_kw", "it_kw"]))
        names["facility_load_kw"] = "facility_load_mw" if mw else (
            "总负载(kW)" if chinese else rng.choice(["facility_load_kw", "facility_kw"]))
        names["cpu_util_pct"] = "cpu_util_ratio" if ratio else "cpu_util_pct"
        names["gpu_util_pct"] = "gpu_util_ratio" if ratio else "gpu_util_pct"
        styles[source] = Style(fmt, encoding, separator, TS_FORMS[i % len(TS_FORMS)],
                               CADENCES[i % len(CADENCES)], names, mw, ratio)
    return styles


def source_of(state: CentreState, carrier_provinces: set[str], reference: Reference) -> str:
    """The platform exporting a centre's telemetry: its carrier's national platform in
    some provinces, else the province's."""
    carrier = next((code for name, code in CARRIERS.items()
                    if state.operator_name.startswith(name)), None)
    if carrier and state.province_code in carrier_provinces:
        return carrier
    name = reference.provinces.filter(province_code=state.province_code)["name_en"][0]
    return name.lower().replace(" ", "_")


def month_starts(start: str, months: int) -> list[dt.date]:
    year, month = (int(part) for part in start.split("-"))
    firsts = []
    for offset in range(months):
        y, m = divmod(month - 1 + offset, 12)
        firsts.append(dt.date(year + y, m + 1, 1))
    return firsts


def plan_exports(rng: random.Random, centres: list[Centre], vintages: list[dt.date],
                 start: str, months: int, reference: Reference) -> list[Export]:
    """Samples for every operating centre and month, grouped into exports."""
    firsts = month_starts(start, months)
    carrier_provinces = {p for p in sorted(reference.province_codes) if rng.random() < 0.3}
    sources = {id(c): source_of(next(s for s in c.states if s), carrier_provinces, reference)
               for c in centres}
    styles = choose_styles(rng, sorted(set(sources.values())))
    noise = np.random.default_rng(rng.randrange(2**32))
    per_export: dict[tuple[str, dt.date], list[pl.DataFrame]] = {}
    for centre in centres:
        states = [s for s in centre.states if s]
        source = sources[id(centre)]
        profile = _profile(rng, states[0])
        smallest = min(s.design_racks for s in states)
        for index, month in enumerate(firsts):
            state = _state_in(centre, vintages, month)
            if state is None or state.status != "operating" or (
                    state.commissioned is not None and state.commissioned > month):
                continue
            per_export.setdefault((source, month), []).append(_month_samples(
                noise, rng, state, smallest, profile, index, month, styles[source].cadence))
    return [Export(f"telemetry/{source}_{month:%Y-%m}.{styles[source].fmt}", styles[source],
                   pl.concat(frames).sort("ts", "centre_id"), [])
            for (source, month), frames in sorted(per_export.items())]


def _state_in(centre: Centre, vintages: list[dt.date], month: dt.date) -> CentreState | None:
    quarter = next(q for q, v in enumerate(vintages) if month <= v)
    return centre.states[quarter]


def _profile(rng: random.Random, state: CentreState) -> dict[str, float]:
    if state.province_code in WESTERN_HUB_PROVINCES:  # the planned glut: idle racks
        base, growth = rng.uniform(0.10, 0.27), 0.0
    elif state.province_code in EASTERN_HUB_PROVINCES:  # tight: well used, growing
        base, growth = rng.uniform(0.70, 0.86), 0.01
    else:
        base, growth = rng.uniform(0.35, 0.6), 0.003
    reports_compute = state.design_pflops is not None and (
        state.centre_type != "general" or rng.random() < 0.3)
    return {"base": base, "growth": growth, "per_rack": rng.uniform(0.6, 1.0),
            "pue": state.design_pue + rng.uniform(0.0, 0.12),
            "compute": 1.0 if reports_compute else 0.0, "gaps": rng.random()}


def _month_samples(noise: np.random.Generator, rng: random.Random, state: CentreState,
                   racks: int, profile: dict[str, float], index: int, month: dt.date,
                   cadence: int) -> pl.DataFrame:
    """One centre's samples of one month at the export's cadence, in canonical units
    and at the precision written."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=CHINA)
    following = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1,
                            tzinfo=CHINA)
    minutes = np.arange(0, int((following - start).total_seconds() // 60), cadence)
    keep = np.ones(minutes.size, dtype=bool)
    if profile["gaps"] < 0.12:  # a platform outage: only the first days reported
        keep &= minutes < rng.randrange(4, 13) * 1440
    hour = minutes // 60
    keep &= ~(noise.random(hour.max() + 1) < 0.02)[hour]  # lost hours
    minutes = minutes[keep]
    n = minutes.size
    daily = 1 + 0.12 * np.sin(2 * np.pi * ((minutes % 1440) / 60 - 14) / 24)
    utilisation = min(profile["base"] * (1 + profile["growth"] * index), 0.97)
    racks_in_use = np.clip(np.round(racks * utilisation * (1 + 0.01 * noise.standard_normal(n))),
                           0, racks)
    it = np.round(racks_in_use * 2.5 * profile["per_rack"] * daily
                  * (1 + 0.02 * noise.standard_normal(n)), 1)
    cpu = np.clip(15 + 70 * utilisation * daily + 3 * noise.standard_normal(n), 0, 100)
    gpu = (np.clip(20 + 75 * utilisation * daily, 0, 100)
           if state.centre_type == "intelligent" else np.full(n, np.nan))
    if profile["compute"]:
        capacity = np.full(n, round(state.design_pflops * rng.uniform(0.9, 1.0), 3))
        used = np.round(capacity * np.clip(utilisation * daily
                                           * (1 + 0.05 * noise.standard_normal(n)), 0, 0.99), 3)
    else:
        capacity = used = np.full(n, np.nan)
    epoch_us = int(start.timestamp()) * 1_000_000 + minutes.astype(np.int64) * 60_000_000
    return pl.DataFrame({
        "centre_id": pl.Series([state.centre_id]).extend_constant(state.centre_id, n - 1)
        if n else pl.Series([], dtype=pl.String),
        "ts": pl.Series(epoch_us).cast(pl.Datetime("us", "UTC")),
        "racks_in_use": racks_in_use, "it_load_kw": it,
        "facility_load_kw": np.round(it * profile["pue"], 1),
        "cpu_util_pct": np.round(cpu, 2), "gpu_util_pct": np.round(gpu, 2),
        "compute_capacity_pflops": capacity, "compute_used_pflops": used,
    }).with_columns(pl.col(MEASURES).fill_nan(None))


# Row faults of §1.2: (column, rule, value to write given the base sample and the
# centre's largest design racks). None is an empty cell; text goes to text formats only.
ROW_FAULTS: list[tuple[str, str, Callable[[dict, int], object]]] = [
    ("centre_id", "missing", lambda b, d: None),
    ("ts", "missing", lambda b, d: None),
    ("ts", "unparseable", lambda b, d: "2025-13-45T25:00:00"),
    ("racks_in_use", "missing", lambda b, d: None),
    ("racks_in_use", "unparseable", lambda b, d: "n/a"),
    ("racks_in_use", "out_of_range", lambda b, d: -3.0),
    ("racks_in_use", "out_of_range", lambda b, d: float(round(d * 1.25))),
    ("it_load_kw", "out_of_range", lambda b, d: -10.0),
    ("it_load_kw", "missing", lambda b, d: None),
    ("facility_load_kw", "inconsistent", lambda b, d: round(b["it_load_kw"] * 0.8, 1)),
    ("facility_load_kw", "missing", lambda b, d: None),
    ("cpu_util_pct", "out_of_range", lambda b, d: 120.0),
    ("cpu_util_pct", "missing", lambda b, d: None),
    ("gpu_util_pct", "out_of_range", lambda b, d: 150.0),
    ("compute_capacity_pflops", "out_of_range", lambda b, d: -5.0),
    ("compute_used_pflops", "out_of_range", lambda b, d: -1.0),
    ("compute_used_pflops", "inconsistent", lambda b, d: 99999.0),
]


def plant_faults(rng: random.Random, exports: list[Export], centres: list[Centre]) -> None:
    """One faulty row per rule, an unregistered centre, a conflicting and an identical
    duplicate. Faulty rows sit at minutes no export samples, so no real sample moves."""
    design_max = {s.centre_id: max(x.design_racks for x in c.states if x)
                  for c in centres for s in c.states if s}
    for column, rule, value in ROW_FAULTS:
        written = value({"it_load_kw": 1.0}, 1)
        pool = [e for e in exports if e.style.fmt != "parquet" or not isinstance(written, str)]
        export = rng.choice(pool)
        base = export.samples.row(rng.randrange(export.samples.height), named=True)
        cells = {**base, "ts": base["ts"] + dt.timedelta(minutes=7),
                 "compute_capacity_pflops": base["compute_capacity_pflops"] or 10.0}
        if column == "compute_capacity_pflops":
            cells["compute_used_pflops"] = None  # else used > capacity would fire too
        cells[column] = value(base, design_max[base["centre_id"]])
        export.faults.append((cells, [(column, rule)]))
    export = rng.choice(exports)
    base = export.samples.row(0, named=True)
    export.faults.append(({**base, "centre_id": base["centre_id"][:9] + "8888"},
                          [("centre_id", "unknown_centre")]))
    export = rng.choice(exports)
    base = export.samples.row(export.samples.height // 3, named=True)
    moment = {**base, "ts": base["ts"] + dt.timedelta(minutes=3)}
    export.faults.append((moment, [("ts", "conflicting_duplicate")]))
    export.faults.append(({**moment, "racks_in_use": moment["racks_in_use"] + 1},
                          [("ts", "conflicting_duplicate")]))
    export = rng.choice(exports)
    export.faults.append((export.samples.row(export.samples.height // 2, named=True), []))


def plan_restatement(rng: random.Random, exports: list[Export]) -> Export:
    """A later export of one source and month restating three days with corrected
    loads; its name sorts after the original's."""
    original = rng.choice([e for e in exports if e.samples["centre_id"].n_unique() > 1]
                          or exports)
    days = original.samples["ts"].dt.convert_time_zone(CHINA_TIME).dt.day()
    present = sorted(set(days))
    first = present[rng.randrange(len(present))]  # a day with samples
    restated = original.samples.filter(days.is_between(first, first + 2)).with_columns(
        (pl.col("it_load_kw") * 1.03).round(1).alias("it_load_kw"),
    ).with_columns((pl.col("it_load_kw") * 1.4).round(1).alias("facility_load_kw"))
    stem, _, _ = original.file_name.rpartition(".")
    return Export(f"{stem}_restated.{original.style.fmt}", original.style, restated, [])


def write_export(export: Export, out: Path) -> list[dict]:
    """Write the export with its faulty rows in the middle; returns the planted
    findings with their row numbers (CSV line, JSON line, Parquet record)."""
    style, bulk = export.style, export.samples
    middle = bulk.height // 2
    first_row = 2 if style.fmt.startswith("csv") else 1
    findings = [{"file_name": export.file_name, "source_row": first_row + middle + k,
                 "centre_id": cells["centre_id"], "column_name": column, "rule": rule}
                for k, (cells, rules) in enumerate(export.faults) for column, rule in rules]
    path = out / export.file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    if style.fmt == "parquet":  # faulty rows carry no text here: they type like the rest
        faults = pl.DataFrame([c for c, _ in export.faults], schema=bulk.schema)
        frame = pl.concat([bulk.head(middle), faults, bulk.slice(middle)])
        _written(frame, style, text=False).write_parquet(path)
        return findings
    records = [_fault_record(cells, style) for cells, _ in export.faults]
    bulk_text = _written(bulk, style, text=True)
    if style.fmt.startswith("csv"):
        lines = bulk_text.write_csv(separator=style.separator, null_value="").splitlines()
        lines[1 + middle:1 + middle] = [
            style.separator.join("" if v is None else str(v) for v in r.values())
            for r in records]
    else:
        lines = [json.dumps(_json_record(r), ensure_ascii=False)
                 for r in bulk_text.iter_rows(named=True)]
        lines[middle:middle] = [json.dumps(r, ensure_ascii=False) for r in records]
    data = ("\n".join(lines) + "\n").encode(
        "utf-8-sig" if style.encoding == "utf-8-sig" else style.encoding)
    path.write_bytes(gzip.compress(data, mtime=0) if style.fmt.endswith(".gz") else data)
    return findings


def _divisor(style: Style, measure: str) -> int:
    if style.mw and measure in ("it_load_kw", "facility_load_kw"):
        return 1000
    if style.ratio and measure in ("cpu_util_pct", "gpu_util_pct"):
        return 100
    return 1


def _written(frame: pl.DataFrame, style: Style, text: bool) -> pl.DataFrame:
    """Typed canonical samples as the source writes them: its names, units (MW,
    ratio), timestamp form, and in text formats its number format (`;`: decimal comma)."""
    ts = pl.col("ts")
    local = ts.dt.convert_time_zone(CHINA_TIME)
    written_ts = {
        "offset": local.dt.strftime("%Y-%m-%dT%H:%M:%S+08:00") if text else ts,
        "utc": ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ") if text else ts,
        "naive": (local.dt.strftime("%Y-%m-%d %H:%M:%S") if text
                  else local.dt.replace_time_zone(None)),
        "epoch_ms": ts.dt.epoch("ms"), "epoch_s": ts.dt.epoch("s"),
    }[style.ts_form]
    columns = [pl.col("centre_id").alias(style.names["centre_id"]),
               written_ts.alias(style.names["ts"])]
    for m in MEASURES:
        divisor = _divisor(style, m)
        value = (pl.col(m) / divisor).round(4 if divisor > 1 else DECIMALS[m])
        if text:
            value = value.cast(pl.String)
            if style.separator == ";":
                value = value.str.replace(".", ",", literal=True)
        columns.append(value.alias(style.names.get(m, m)))
    return frame.select(columns)


def _fault_record(cells: dict, style: Style) -> dict[str, object]:
    """A faulty row as the source would write it, wrong values and all."""
    record: dict[str, object] = {style.names["centre_id"]: cells["centre_id"]}
    ts = cells["ts"]
    if isinstance(ts, dt.datetime):
        local = ts.astimezone(CHINA)
        ts = {"offset": local.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
              "utc": ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "naive": local.strftime("%Y-%m-%d %H:%M:%S"),
              "epoch_ms": int(ts.timestamp()) * 1000,
              "epoch_s": int(ts.timestamp())}[style.ts_form]
    record[style.names["ts"]] = ts
    for m in MEASURES:
        value = cells[m]
        if isinstance(value, float):
            value = round(value / _divisor(style, m), 4)
            if style.fmt.startswith("csv") and style.separator == ";":
                value = str(value).replace(".", ",")
        record[style.names.get(m, m)] = value
    return record


def _json_record(record: dict) -> dict:
    """Bulk text cells back to JSON numbers (JSON carries numbers as numbers)."""
    out = {}
    for key, value in record.items():
        if isinstance(value, str) and key != "centre_id":
            try:
                out[key] = int(value) if value.lstrip("-").isdigit() else float(value)
                continue
            except ValueError:
                pass
        out[key] = value
    return out


def write_telemetry_truth(exports: list[Export], faults: list[dict], truth: Path) -> int:
    """The hourly values the warehouse must hold: per file in path order, the mean of
    its accepted samples per centre and hour, a later file's hours replacing earlier
    ones; how many each file restates; and the planted findings. Returns the samples."""
    ordered = sorted(exports, key=lambda e: e.file_name)
    hours = pl.concat([
        e.samples.group_by("centre_id", hour_start=pl.col("ts").dt.truncate("1h")).agg(
            *[pl.col(m).mean() for m in MEASURES], samples=pl.len(),
        ).with_columns(source_file=pl.lit(e.file_name), rank=pl.lit(rank))
        for rank, e in enumerate(ordered)])
    latest = hours.sort("rank").group_by("centre_id", "hour_start").last()
    latest.drop("rank").sort("centre_id", "hour_start").write_parquet(
        truth / "telemetry_hourly.parquet")
    first_rank = hours.group_by("centre_id", "hour_start").agg(first=pl.col("rank").min())
    restated = hours.join(first_rank, on=["centre_id", "hour_start"]).group_by(
        "source_file").agg(restated=(pl.col("rank") > pl.col("first")).sum())
    files = pl.DataFrame({"file_name": [e.file_name for e in ordered]}).join(
        restated.rename({"source_file": "file_name"}), on="file_name", how="left")
    files.with_columns(status=pl.lit("loaded")).write_csv(truth / "telemetry_files.csv")
    schema = {"file_name": pl.String, "source_row": pl.Int64, "centre_id": pl.String,
              "column_name": pl.String, "rule": pl.String}
    pl.DataFrame(faults, schema=schema).sort("file_name", "source_row", "column_name").write_csv(
        truth / "telemetry_faults.csv")
    return sum(e.samples.height for e in exports)


GLUT_SIGNALS = "low_utilisation;idle_centres"  # what the glut profile plants


def write_glut_plan(truth: Path) -> None:
    """The provinces and hubs planned as glut (with the signals planted) and as tight."""
    hubs = {"15": "NMG", "52": "GZ", "62": "GS", "64": "NX"}
    rows = [{"level": "province", "region_code": p, "plan": "glut", "signals": GLUT_SIGNALS}
            for p in sorted(WESTERN_HUB_PROVINCES)]
    rows += [{"level": "hub", "region_code": hubs[p], "plan": "glut", "signals": GLUT_SIGNALS}
             for p in sorted(WESTERN_HUB_PROVINCES)]
    rows += [{"level": "province", "region_code": p, "plan": "tight", "signals": ""}
             for p in sorted(EASTERN_HUB_PROVINCES)]
    rows += [{"level": "hub", "region_code": h, "plan": "tight", "signals": ""}
             for h in ("CY", "GBA", "JJJ", "YRD")]
    pl.DataFrame(rows).write_csv(truth / "glut_plan.csv")

"""Peak memory and speed of ingesting one large telemetry export, against DuckDB's own
read_csv of the same file (no validation) as the baseline, each in a fresh process.

    .venv/bin/python benchmarks/telemetry_memory.py [--rows 10000000] [--cache DIR]

Prints seconds, rows per second and peak RSS for both, and the ratios."""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl

from pipelines.generate import generate

CENTRES = 300


def prepare(cache: Path, rows: int) -> tuple[Path, Path]:
    """A register (from the generator) and one big CSV export for its centres."""
    landing, export = cache / "landing", cache / f"export_{rows}.csv"
    if not (landing / "_truth").exists():
        shutil.rmtree(landing, ignore_errors=True)
        generate(seed=11, centres=CENTRES, months=3, start="2025-01", out=landing)
        shutil.rmtree(landing / "telemetry")
    if not export.exists():
        register = pl.read_csv(landing / "_truth" / "register_versions.csv", infer_schema=False)
        centres = register.group_by("centre_id").agg(pl.col("design_racks").cast(pl.Int64).min())
        per_centre = -(-rows // centres.height)
        step = pl.int_range(0, per_centre, eager=True)
        frame = centres.join(pl.DataFrame({"step": step}), how="cross").head(rows).select(
            dc_id="centre_id",
            timestamp=(pl.datetime(2025, 1, 1, time_zone="UTC")
                       + pl.duration(minutes=pl.col("step") * 5)).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
            racks_active=(pl.col("design_racks") * 0.5).round(0),
            it_kw=(pl.col("design_racks") * 1.2 + pl.col("step") % 7).round(1),
            facility_kw=(pl.col("design_racks") * 1.6 + pl.col("step") % 7).round(1),
            cpu_util_pct=(40 + pl.col("step") % 30).cast(pl.Float64),
        )
        frame.write_csv(export)
    return landing, export


def child_baseline(export: Path, work: Path) -> dict:
    con = duckdb.connect(str(work / "baseline.duckdb"))
    started = time.perf_counter()
    con.execute("CREATE OR REPLACE TABLE raw AS SELECT * FROM read_csv(?)", [str(export)])
    rows = con.execute("SELECT count(*) FROM raw").fetchone()[0]
    return {"rows": rows, "seconds": time.perf_counter() - started}


def child_pipeline(landing: Path, export: Path, work: Path) -> dict:
    from pipelines.defs.resources import Warehouse
    from pipelines.ingest.files import LandingFile, discover
    from pipelines.ingest.licensing import ingest_licensing
    from pipelines.ingest.telemetry_load import ingest_telemetry
    from pipelines.reference import Reference
    from pipelines.settings import setting

    warehouse = Warehouse(path=str(work / "census.duckdb"))
    with warehouse.writer() as con:
        ingest_licensing(con, discover(landing, "licensing"),
                         Reference.load(setting("CENSUS_REFERENCE_DIR")))
    file = LandingFile(export, f"telemetry/{export.name}", "benchmark")
    with warehouse.writer() as con:
        started = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        report = ingest_telemetry(con, [file], "benchmark", work / "scratch")
        con.execute("COMMIT")
        seconds = time.perf_counter() - started
        hours = con.execute("SELECT count(*) FROM core.telemetry_hourly").fetchone()[0]
    outcome = report.outcomes[0]
    return {"rows": outcome.rows_loaded, "rejected": outcome.rows_rejected, "hours": hours,
            "seconds": seconds}


def run_child(kind: str, landing: Path, export: Path, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--landing", str(landing),
         "--export", str(export), "--work", str(work)],
        capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--cache", type=Path, default=Path("data/bench"))
    parser.add_argument("--child", choices=["baseline", "pipeline"])
    parser.add_argument("--landing", type=Path)
    parser.add_argument("--export", type=Path)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if args.child:
        result = (child_baseline(args.export, args.work) if args.child == "baseline"
                  else child_pipeline(args.landing, args.export, args.work))
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    landing, export = prepare(args.cache, args.rows)
    size = export.stat().st_size / 2**20
    work = args.cache / "work"
    shutil.rmtree(work, ignore_errors=True)
    baseline = run_child("baseline", landing, export, work / "baseline")
    pipeline = run_child("pipeline", landing, export, work / "pipeline")
    print(f"one telemetry export: {args.rows:,} rows, {size:,.0f} MiB CSV")
    print(f"{'':28}{'seconds':>10}{'rows/s':>14}{'peak RSS MiB':>15}")
    for name, r in (("(a) DuckDB read_csv", baseline), ("(b) census ingestion", pipeline)):
        print(f"{name:28}{r['seconds']:>10.1f}{r['rows'] / r['seconds']:>14,.0f}"
              f"{r['peak_rss_mib']:>15,.0f}")
    print(f"ratio (b)/(a): time {pipeline['seconds'] / baseline['seconds']:.2f}, "
          f"peak RSS {pipeline['peak_rss_mib'] / baseline['peak_rss_mib']:.2f}; "
          f"{pipeline['hours']:,} centre-hours, {pipeline['rejected']} rows rejected")


if __name__ == "__main__":
    main()

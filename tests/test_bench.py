"""`census bench` scaled down (the CI smoke test of the benchmark): the pipeline loads
exactly the rows the raw DuckDB baseline reads; times are printed, not asserted. Its Spark
variant (`--engine spark`) only sets CENSUS_ENGINE for the same runs, which
tests/test_spark.py runs on Spark; its figures are the README's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb

from tests.test_cli import CENSUS, env_for


def test_bench_smoke_counts_equal_the_baseline(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    done = subprocess.run(
        [*CENSUS, "bench", "--centres", "200", "--months", "2",
         "--cache", str(tmp_path / "cache"), "--json", str(figures), "--engine", "duckdb"],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "ratio (b)/(a)" in done.stdout
    # the targets are the full scale's, and a smaller bench says so
    assert "the targets are for 7,000 centres × 12 months" in done.stdout
    assert "telemetry and models on duckdb" in done.stdout
    assert "(b) the ingestion read " in done.stdout
    assert "(c) the monthly models read " in done.stdout
    result = json.loads(figures.read_text())
    assert (result["engine"], result["cores"]) == ("duckdb", 2)
    phases = {p["name"][:3]: p for p in result["phases"]}
    assert set(phases) == {"(a)", "(b)", "(c)", "(d)", "(e)"}
    ready = (tmp_path / "cache").glob("c200_m2_*/READY")
    january, february = (int(n) for n in next(ready).read_text().split())
    assert phases["(a)"]["rows"] == phases["(b)"]["rows"] == january
    assert phases["(d)"]["rows"] == february
    assert phases["(e)"]["rows"] == 200
    assert phases["(c)"]["rows"] > 0
    assert all(p["seconds"] > 0 and p["peak_rss_mib"] > 0 for p in phases.values())
    assert set(result["ratios"]) == {"b_over_a", "d_over_b"}
    # Where (b), (c) and (d) spend their time: the jobs they run, each within its phase.
    assert list(phases["(d)"]["runs"]) == ["ingest", "monthly", "publish"]
    assert list(phases["(c)"]["runs"]) == ["monthly", "publish"]
    assert 0 < sum(phases["(d)"]["runs"].values()) <= phases["(d)"]["seconds"]
    assert "    run `monthly`" in done.stdout
    # The engine asked for built every month of (c) and (d), and wrote nothing in a lake.
    work = tmp_path / "cache" / "work"
    con = duckdb.connect(str(work / "warehouse" / "census.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT engine FROM audit.model_builds").fetchall() == [
            ("duckdb",)]
    finally:
        con.close()
    committed = sorted(p.parent.name for p in (work / "lake" / "marts" / "centre_monthly")
                       .glob("month=*/_SUCCESS"))
    assert committed == []

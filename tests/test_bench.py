"""`census bench` scaled down (the CI smoke test of the benchmark), on either engine: the
pipeline loads exactly the rows the raw DuckDB baseline reads; times are printed, not
asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.test_cli import env_for


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.slow)])
def test_bench_smoke_counts_equal_the_baseline(tmp_path: Path, engine: str) -> None:
    figures = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "bench", "--centres", "200", "--months", "2",
         "--cache", str(tmp_path / "cache"), "--json", str(figures), "--engine", engine],
        env=env_for(tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "ratio (b)/(a)" in done.stdout
    assert f"models on {engine}" in done.stdout
    assert "(c) the monthly models read " in done.stdout
    result = json.loads(figures.read_text())
    assert (result["engine"], result["cores"]) == (engine, 2)
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
    # The engine asked for built every month of (c) and (d); Spark's last is its own in the
    # lake (the one before, copied in from the warehouse by the step of (d)).
    work = tmp_path / "cache" / "work"
    con = duckdb.connect(str(work / "warehouse" / "census.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT engine FROM audit.model_builds").fetchall() == [
            (engine,)]
    finally:
        con.close()
    committed = sorted(p.parent.name for p in (work / "lake" / "marts" / "centre_monthly")
                       .glob("month=*/_SUCCESS"))
    assert committed == (["month=2025-02-01"] if engine == "spark" else [])

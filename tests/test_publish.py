"""Atomic publishing (contract §2.1): an analyst holding a read-only connection on the
published warehouse is not blocked by a run, does not block it, and keeps seeing the
previous complete state until reconnecting. Two real processes."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import Census, copy_into, good_workbooks
from tests.test_cli import CENSUS

ANALYST = r"""
import json, sys, time, duckdb
from pathlib import Path
warehouse, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
con = duckdb.connect(warehouse, read_only=True)
count = lambda c: c.execute("SELECT count(*) FROM core.centre_register").fetchone()[0]
seen = {"before": count(con)}
ready.touch()
deadline = time.monotonic() + 300
while not go.exists() and time.monotonic() < deadline:
    seen["during"] = count(con)  # querying all along the run
    time.sleep(0.05)
seen["held"] = count(con)
con.close()
con = duckdb.connect(warehouse, read_only=True)
seen["reconnected"] = count(con)
print(json.dumps(seen))
"""


def census_env(census: Census, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CENSUS_LANDING_DIR": str(census.landing),
            "CENSUS_WAREHOUSE": str(census.warehouse),
            "DAGSTER_HOME": str(tmp_path / "dagster_home")}


def test_analyst_and_run_do_not_block_each_other(census: Census, generated: Path,
                                                 tmp_path: Path) -> None:
    workbooks = good_workbooks(generated)
    copy_into(workbooks[0], census)
    env = census_env(census, tmp_path)
    cli = [*CENSUS, "run"]
    subprocess.run(cli, env=env, check=True, capture_output=True, timeout=300)
    assert census.query("SELECT count(*) FROM core.centre_register").item() > 0
    ready, go = tmp_path / "ready", tmp_path / "go"
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(census.warehouse), str(ready), str(go)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert time.monotonic() < deadline and analyst.poll() is None, analyst.stderr.read()
            time.sleep(0.05)
        for workbook in workbooks[1:4]:
            copy_into(workbook, census)
        run = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        assert "files loaded 3" in run.stdout
        go.touch()
        out, err = analyst.communicate(timeout=60)
    finally:
        analyst.kill()
    assert analyst.returncode == 0, err
    seen = json.loads(out)
    assert seen["before"] == seen["during"] == seen["held"]  # never a half-written state
    after = census.query("SELECT count(*) FROM core.centre_register").item()
    assert seen["reconnected"] == after > seen["before"]

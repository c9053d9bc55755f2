"""Two `census run` started at once on the same landing folder and warehouse:
both succeed without a lock error, each file is attempted once, and the warehouse
equals what one run alone builds, every table to the last bit (the hourly means too:
they are added in value order). (An analyst's connection held through a run:
test_publish.py; a manual run beside the sensor's runs: test_service.py.)"""

import shutil
import subprocess
from pathlib import Path

from tests.compare import differences, problems
from tests.conftest import Census, copy_into, good_workbooks
from tests.test_cli import CENSUS
from tests.test_publish import census_env

CLI = [*CENSUS, "run"]


def test_two_runs_at_once_load_each_file_once(census: Census, generated: Path,
                                               tmp_path: Path) -> None:
    for workbook in good_workbooks(generated)[:8]:
        copy_into(workbook, census)
    for export in sorted((generated / "telemetry").glob("*_2025-0[12].*"))[:8]:
        copy_into(export, census, folder="telemetry")
    env = census_env(census, tmp_path)
    runs = [subprocess.Popen(CLI, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
        assert "succeeded" in out and "lock" not in err.lower()
    assert problems(census.warehouse) == []
    attempts = census.query("SELECT file_name, count(*) AS n FROM audit.ingestion_log "
                            "GROUP BY ALL")
    assert attempts.height == 16 and set(attempts["n"]) == {1}

    alone = Census(tmp_path / "alone" / "landing", tmp_path / "alone" / "census.duckdb")
    shutil.copytree(census.landing, alone.landing)
    subprocess.run(CLI, env=census_env(alone, tmp_path / "alone"), check=True,
                   capture_output=True, timeout=600)
    assert differences(census.warehouse, alone.warehouse) == []

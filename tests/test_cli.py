"""The `census` command as a newcomer uses it (real processes)."""

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, RunsFilter

from tests.conftest import Census, truth

CENSUS = [sys.executable, "-m", "pipelines.cli"]


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "CENSUS_LANDING_DIR": str(tmp_path / "landing"),
            "CENSUS_WAREHOUSE": str(tmp_path / "warehouse" / "census.duckdb"),
            "CENSUS_EXPORT_DIR": str(tmp_path / "exports"),
            "DAGSTER_HOME": str(tmp_path / "dagster_home"), **extra}


@pytest.mark.parametrize("command", [[], ["demo"], ["run"], ["generate"], ["export"], ["check"],
                                     ["ui"]])
def test_every_subcommand_has_help(command: list[str]) -> None:
    done = subprocess.run([*CENSUS, *command, "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "usage: census" in done.stdout


@pytest.mark.slow
def test_demo_generates_then_runs_and_summarises(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    small = ["--centres", "10", "--months", "2"]
    done = subprocess.run([*CENSUS, "demo", *small], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert "generated" in done.stdout
    assert "licensing: files loaded" in done.stdout and "rows loaded" in done.stdout
    con = duckdb.connect(env["CENSUS_WAREHOUSE"], read_only=True)
    centres = {c for (c,) in con.execute(
        "SELECT DISTINCT centre_id FROM core.centre_register").fetchall()}
    con.close()
    # every centre the generated register versions hold
    assert centres == set(truth(tmp_path / "landing", "register_versions")["centre_id"])
    # the demo ends with the ministry export of the last month
    assert f"census export 2025-02: {tmp_path / 'exports' / '2025-02'}" in done.stdout
    assert (tmp_path / "exports" / "2025-02" / "census_summary_2025-02.xlsx").exists()
    later = subprocess.run([*CENSUS, "export", "--month", "2025-03"], env=env,
                           capture_output=True, text=True, timeout=300)
    assert later.returncode == 1
    assert "no data for 2025-03: the marts hold 2025-01 to 2025-02" in later.stderr
    wrong = subprocess.run([*CENSUS, "export", "--month", "2025-13"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "not a month (YYYY-MM): '2025-13'" in wrong.stderr
    # The first day of March from one centre, before the other exports arrive: the month is
    # exported, and said to be incomplete.
    header = "centre_id,ts,racks_in_use,it_load_kw,facility_load_kw,cpu_util_pct\n"
    (tmp_path / "landing" / "telemetry" / "early_2025-03.csv").write_text(header + "".join(
        f"{min(centres)},2025-03-01T{hour:02d}:00:00+08:00,1,10,12,50\n" for hour in range(24)))
    assert subprocess.run([*CENSUS, "run"], env=env, capture_output=True,
                          timeout=600).returncode == 0
    early = subprocess.run([*CENSUS, "export", "--month", "2025-03"], env=env,
                           capture_output=True, text=True, timeout=300)
    assert early.returncode == 0, early.stderr
    con = duckdb.connect(env["CENSUS_WAREHOUSE"], read_only=True)
    operating, reporting = con.execute(
        "SELECT centres_operating, centres_reporting FROM marts.region_monthly "
        "WHERE month = DATE '2025-03-01' AND level = 'national'").fetchone()
    con.close()
    assert (reporting, operating > 0) == (0, True)
    assert f"warning: only 0 of {operating} operating centres reported 2025-03: its " \
           "telemetry is incomplete" in early.stdout
    again = subprocess.run([*CENSUS, "demo", *small], env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0
    assert "is not empty" in again.stdout and "no new files" in again.stdout
    # the generator's options given again shape nothing now, and it says so
    assert "not used: --centres 10, --months 2 (they shape" in again.stdout
    assert (tmp_path / "dagster_home" / "dagster.yaml").read_text().startswith(
        "telemetry:\n  enabled: false")


def test_a_run_with_nothing_to_read_succeeds_and_names_the_files_it_does_not_read(
        tmp_path: Path) -> None:
    # Files outside licensing/ and telemetry/: at the top, in a misspelt folder; and the
    # generator's truth, a hidden file, which are not named.
    landing = tmp_path / "landing"
    for name in ("hebei_2025-01.csv", "Telemetry/anhui_2025-01.csv", "_truth/centres.csv",
                 ".DS_Store"):
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_text("centre_id\n", encoding="utf-8")
    env = env_for(tmp_path)
    done = subprocess.run([*CENSUS, "run"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "no new files" in done.stdout
    not_read = ("not read, outside licensing/ and telemetry/: Telemetry/anhui_2025-01.csv, "
                "hebei_2025-01.csv")
    assert f"  {not_read}\n" in done.stdout
    # The data engineer reads it in the ingest run's log too.
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        [ingest] = instance.get_runs(RunsFilter(job_name="ingest"))
        warnings = [entry.user_message for entry in instance.all_logs(ingest.run_id)
                    if entry.level == logging.WARNING]
    assert warnings == [not_read]
    # No month is built: the warehouse is sound, and there is nothing to export.
    check = subprocess.run([*CENSUS, "check"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stdout
    export = subprocess.run([*CENSUS, "export", "--month", "2025-01"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert export.returncode == 1
    assert ("no data for 2025-01: no month is built yet (census run builds a month once "
            "telemetry for it loads); nothing exported") in export.stderr


def test_a_failed_run_exits_non_zero_with_a_one_line_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the warehouse folder should be")
    (tmp_path / "landing").mkdir()
    env = env_for(tmp_path, CENSUS_WAREHOUSE=str(blocker / "census.duckdb"))
    done = subprocess.run([*CENSUS, "run"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1
    reason = [line for line in done.stderr.splitlines() if line.startswith("census run failed")]
    assert len(reason) == 1 and "not_a_folder" in reason[0]


def test_check_passes_a_sound_warehouse_and_names_what_is_broken(loaded: Census,
                                                                 tmp_path: Path) -> None:
    sound = subprocess.run([*CENSUS, "check", "--warehouse", str(loaded.warehouse)],
                           capture_output=True, text=True, timeout=300)
    assert sound.returncode == 0 and "no problems" in sound.stdout, sound.stderr
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(loaded.warehouse, broken)
    con = duckdb.connect(str(broken))
    con.execute("UPDATE marts.region_monthly SET racks_in_use = racks_in_use + 1 "
                "WHERE month = DATE '2025-03-01' AND level = 'hub'")
    con.execute("INSERT INTO core.telemetry_hourly SELECT * FROM core.telemetry_hourly LIMIT 1")
    # the table of a model whose file was deleted
    con.execute("CREATE TABLE marts.province_reporting AS SELECT DISTINCT month, "
                "province_code FROM marts.centre_monthly")
    con.close()
    found = subprocess.run([*CENSUS, "check", "--warehouse", str(broken)],
                           capture_output=True, text=True, timeout=300)
    # the duplicated hour also shows in what is computed from it (coverage, staging)
    assert found.returncode == 1 and "5 problems" in found.stdout, found.stderr
    assert "marts.province_reporting: no SQL model defines it any more" in found.stderr
    assert "core.telemetry_hourly: 1 keys (centre_id, hour_start) appear more than once" \
        in found.stderr
    assert "marts.region_monthly 2025-03:" in found.stderr

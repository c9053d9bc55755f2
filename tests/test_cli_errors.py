"""Errors a person can act on (real processes): a bad setting or a Ctrl-C gives one
line naming the setting or the cause and what to do, no traceback, and a non-zero exit
where the command did not do its job."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.compare import problems
from tests.test_cli import CENSUS, env_for


def census(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CENSUS, *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_check_of_a_missing_or_foreign_file_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.duckdb"
    done = census("check", "--warehouse", str(missing))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"census check failed: no warehouse at {missing}: run `census run` "
                           "first, or name the file with --warehouse or CENSUS_WAREHOUSE\n")
    assert not missing.exists()  # not created empty by DuckDB
    foreign = tmp_path / "notes.duckdb"
    foreign.write_text("not a database")
    done = census("check", "--warehouse", str(foreign))
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"census check failed: {foreign} is not a DuckDB warehouse")
    done = census("check", "--warehouse", str(tmp_path))
    assert (done.returncode, done.stderr) == (1, f"census check failed: {tmp_path} is a "
                                              "folder: name the warehouse file in it with "
                                              "--warehouse or CENSUS_WAREHOUSE\n")


def test_export_without_a_warehouse_names_only_what_it_takes(tmp_path: Path) -> None:
    done = census("export", "--month", "2025-06", env=env_for(tmp_path))
    warehouse = tmp_path / "warehouse" / "census.duckdb"
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"census export failed: no warehouse at {warehouse}: run `census "
                           "run` first, or name the file with CENSUS_WAREHOUSE\n")


@pytest.mark.parametrize("month", ["2019-12", "2099-01"])
def test_export_of_a_month_census_does_not_build_says_so_in_one_line(
        tmp_path: Path, month: str) -> None:
    done = census("export", "--month", month, env=env_for(tmp_path))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith(f"census export failed: {month} is outside the months "
                                  "census builds (2020-01 to ")
    assert done.stderr.endswith("): nothing exported\n")


def test_a_model_file_that_is_not_a_query_fails_the_run_in_one_line(tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(Path(__file__).parents[1] / "dbt_like_sql", models)
    broken = models / "marts" / "province_reporting.sql"
    broken.write_text("-- Per province, a mart in the making.\n", encoding="utf-8")
    (tmp_path / "landing").mkdir()
    done = census("run", env=env_for(tmp_path, CENSUS_MODELS_DIR=str(models)))
    assert (done.returncode, done.stdout) == (1, "")
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"census run failed: {broken}: not valid SQL")


def test_verbose_shows_dagsters_event_log(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    done = census("run", "--verbose", env=env_for(tmp_path))
    assert done.returncode == 0, done.stderr
    for event in ("STEP_START", "ASSET_MATERIALIZATION", "RUN_SUCCESS"):
        assert event in done.stderr


def test_a_landing_folder_that_does_not_exist_fails_the_run(tmp_path: Path) -> None:
    done = census("run", env=env_for(tmp_path))
    landing = tmp_path / "landing"
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"census run failed: CENSUS_LANDING_DIR={landing} is not a folder: "
                           "set CENSUS_LANDING_DIR to the landing folder (with licensing/ and "
                           "telemetry/) or create it\n")
    assert not (tmp_path / "warehouse").exists()


def test_an_engine_that_cannot_run_is_named(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    done = census("run", env=env_for(tmp_path, CENSUS_ENGINE="sparks"))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("census run failed: CENSUS_ENGINE=sparks is not an engine: set it "
                           "to duckdb or spark\n")
    # Spark without a Java runtime: said before pyspark's gateway fails to start.
    without_java = {k: v for k, v in env_for(tmp_path, CENSUS_ENGINE="spark",
                                             PATH=str(tmp_path / "empty")).items()
                    if k != "JAVA_HOME"}
    done = census("run", env=without_java)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("census run failed: CENSUS_ENGINE=spark needs a Java runtime: "
                           "`make setup` installs one (openjdk-17-jre-headless), or set "
                           "JAVA_HOME\n")
    # A master Spark would refuse only after the ingestion, with Java's trace.
    done = census("run", env=env_for(tmp_path, CENSUS_ENGINE="spark",
                                     CENSUS_SPARK_MASTER="localhost:7077"))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("census run failed: CENSUS_SPARK_MASTER=localhost:7077 is not a "
                           "Spark master: set it to local[N], local[*], spark://host:port, "
                           "k8s://https://host:port or yarn\n")
    assert not (tmp_path / "warehouse").exists()  # nothing started


def test_a_warehouse_folder_census_may_not_write_is_named(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    # sysfs refuses new folders to every user, root included
    warehouse = Path("/sys/census_warehouse/census.duckdb")
    done = census("run", env=env_for(tmp_path, CENSUS_WAREHOUSE=str(warehouse)))
    assert (done.returncode, done.stdout) == (1, "")
    [line] = done.stderr.splitlines()
    assert line.startswith(f"census run failed: CENSUS_WAREHOUSE={warehouse}: its folder "
                           f"cannot be written ({warehouse.parent}: ")  # what was refused
    assert line.endswith("): set CENSUS_WAREHOUSE to a file in a folder census may write")


EXPORTS_REFUSED = ("CENSUS_EXPORT_DIR=/proc/exports cannot be written (/proc/exports: No such "
                   "file or directory): set CENSUS_EXPORT_DIR to a folder census may write")
NOT_DUCKDB = "{notes} is not a DuckDB warehouse: set CENSUS_WAREHOUSE to census's warehouse file"


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse a `census run` of an empty landing folder made: one to export from."""
    root = tmp_path_factory.mktemp("empty")
    (root / "landing").mkdir()
    env = env_for(root)
    assert census("run", env=env).returncode == 0
    return Path(env["CENSUS_WAREHOUSE"])


@pytest.mark.parametrize(("command", "setting", "value", "message"), [
    ("run", "CENSUS_WAREHOUSE", "{folder}", "CENSUS_WAREHOUSE={folder} is a folder: set "
     "CENSUS_WAREHOUSE to a file in it, such as census.duckdb"),
    ("run", "CENSUS_WAREHOUSE", "{notes}", NOT_DUCKDB),
    ("export", "CENSUS_WAREHOUSE", "{notes}", NOT_DUCKDB),
    ("run", "CENSUS_MODELS_DIR", "{folder}/nowhere", "CENSUS_MODELS_DIR={folder}/nowhere is "
     "not a folder: set it to the SQL models' folder (dbt_like_sql/ by default)"),
    ("run", "CENSUS_SMTP_ATTEMPTS", "abc", "CENSUS_SMTP_ATTEMPTS=abc is not a whole number "
     "of at least 1: set it so, or leave it unset (4)"),
    ("export", "CENSUS_SMTP_BACKOFF_SECONDS", "-1", "CENSUS_SMTP_BACKOFF_SECONDS=-1 is not "
     "a number of at least 0: set it so, or leave it unset (2)"),
    ("export", "CENSUS_EXPORT_DIR", "/proc/exports", EXPORTS_REFUSED),
    # Before the demo generates anything, not after its run.
    ("demo", "CENSUS_EXPORT_DIR", "/proc/exports", EXPORTS_REFUSED),
])
def test_a_setting_that_cannot_work_is_one_line_before_anything_starts(
        tmp_path: Path, request: pytest.FixtureRequest, command: str, setting: str,
        value: str, message: str) -> None:
    folder, notes = tmp_path / "somewhere", tmp_path / "notes.duckdb"
    folder.mkdir()
    notes.write_text("not a database, but not empty")
    (tmp_path / "landing").mkdir()
    env = env_for(tmp_path)
    if command == "export" and setting != "CENSUS_WAREHOUSE":  # a warehouse to export from
        env["CENSUS_WAREHOUSE"] = str(request.getfixturevalue("empty_warehouse"))
    given = value.format(folder=folder, notes=notes)
    args = ["--month", "2025-01"] if command == "export" else []
    done = census(command, *args, env={**env, setting: given})
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"census {command} failed: " + message.format(
        folder=folder, notes=notes) + "\n"
    assert notes.read_text() == "not a database, but not empty"
    assert not any((tmp_path / "landing").iterdir())  # nothing generated


def test_an_unwritable_scratch_folder_stops_the_run_and_rejects_no_file(
        generated: Path, tmp_path: Path) -> None:
    # Found at the export's read instead, the folder's fault would be recorded as the
    # file's, which the next run would skip as attempted.
    env = env_for(tmp_path)
    export = next((generated / "telemetry").glob("*_2025-01.csv"))
    landing = Path(env["CENSUS_LANDING_DIR"]) / "telemetry"
    landing.mkdir(parents=True)
    shutil.copyfile(export, landing / export.name)
    done = census("run", env={**env, "CENSUS_SCRATCH_DIR": "/proc/scratch"})
    assert (done.returncode, done.stderr) == (1, (
        "census run failed: CENSUS_SCRATCH_DIR=/proc/scratch cannot be written "
        "(/proc/scratch: No such file or directory): set CENSUS_SCRATCH_DIR to a folder "
        "census may write, or to auto\n"))
    again = census("run", env={**env, "CENSUS_SCRATCH_DIR": str(tmp_path / "scratch")})
    assert again.returncode == 0, again.stderr
    assert "telemetry: files loaded 1 / skipped 0 / rejected 0" in again.stdout


@pytest.mark.parametrize(("option", "message"), [
    (["--start", "2025-13"], "argument --start: not a month (YYYY-MM): '2025-13'"),
    (["--centres", "3"], "argument --centres: not a whole number of at least 10: '3'"),
    (["--months", "0"], "argument --months: not a whole number of at least 1: '0'"),
])
def test_generator_options_out_of_range_are_named(tmp_path: Path, option: list[str],
                                                   message: str) -> None:
    done = census("generate", "--out", str(tmp_path / "landing"), *option)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"census generate: error: {message}"
    assert not (tmp_path / "landing").exists()


def test_a_bench_of_too_few_centres_is_refused_before_it_generates(tmp_path: Path) -> None:
    done = census("bench", "--centres", "0", "--cache", str(tmp_path / "bench"))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == ("census bench: error: argument --centres: not a "
                                            "whole number of at least 10: '0'")
    assert not (tmp_path / "bench").exists()


def test_ctrl_c_during_a_run_keeps_what_was_loaded(tmp_path: Path) -> None:
    # `census demo`: the generator's threads start first, in the same process; then a
    # run of two months of telemetry, long enough to stop in.
    env = env_for(tmp_path)
    run = subprocess.Popen([*CENSUS, "demo", "--centres", "70", "--months", "2"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    _wait_until_writing(run, tmp_path)
    # The kernel hands a signal sent to the process to any thread that does not block it;
    # then Python's handler, not census's waiter, takes it, and may be swallowed where
    # C code calls Python (a run that ends 0). Every thread blocks it but the waiter,
    # whose sigwait lets it in while it waits.
    assert len(_threads_letting_sigint_in(run.pid)) == 1
    os.killpg(run.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert err == "census run interrupted: what was loaded is kept; run again to continue\n"
    assert "census run" not in out  # the generator's summary alone
    again = census("run", env=env)
    assert again.returncode == 0, again.stderr
    assert "succeeded" in again.stdout
    assert problems(Path(env["CENSUS_WAREHOUSE"])) == []


def test_a_run_started_to_ignore_ctrl_c_ignores_it(generated: Path, tmp_path: Path) -> None:
    # A script's background job (`census run &`) starts with SIGINT ignored: census runs
    # on to its end, whichever of its threads or Dagster's handlers the signal reaches.
    env = env_for(tmp_path)
    landing = Path(env["CENSUS_LANDING_DIR"])
    shutil.copytree(generated / "licensing", landing / "licensing")
    (landing / "telemetry").mkdir()
    for export in (generated / "telemetry").glob("*_2025-0[12].*"):
        shutil.copyfile(export, landing / "telemetry" / export.name)
    ignoring = ["sh", "-c", 'trap "" INT && exec "$0" "$@"']  # exec keeps it ignored
    run = subprocess.Popen([*ignoring, *CENSUS, "run"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    _wait_until_writing(run, tmp_path)
    assert run.poll() is None, "the run ended before the signal"
    os.killpg(run.pid, signal.SIGINT)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert "succeeded" in out and "interrupted" not in err
    assert problems(Path(env["CENSUS_WAREHOUSE"])) == []


def _wait_until_writing(run: subprocess.Popen, folder: Path) -> None:
    """Until the run started in `folder` (`env_for`) has been writing the warehouse for a
    second."""
    build = folder / "warehouse" / ".build" / "census.duckdb"
    deadline = time.monotonic() + 120
    while not build.exists():
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.1)
    time.sleep(1)


def _threads_letting_sigint_in(pid: int) -> list[str]:
    """The names of the process's threads whose signal mask lets SIGINT in."""
    letting_in = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = dict(line.split(":\t", 1) for line in
                          (task / "status").read_text().splitlines() if ":\t" in line)
        except FileNotFoundError:  # the thread ended since it was listed
            continue
        if not int(status["SigBlk"], 16) & 1 << (signal.SIGINT - 1):
            letting_in.append(status["Name"].strip())
    return letting_in

"""What a command needs from its settings, checked before it starts: each problem is
one line naming the setting (or the cause) and what to do, instead of a traceback from
deep inside a run."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from pipelines.settings import known_engine, option, setting


class SettingProblem(Exception):
    """A setting that cannot work; the message says which and what to do."""


def landing_folder() -> Path:
    """CENSUS_LANDING_DIR, which must be a folder: pointing nowhere would look like a
    landing folder where nothing has arrived."""
    path = setting("CENSUS_LANDING_DIR")
    if not path.is_dir():
        raise SettingProblem(
            f"CENSUS_LANDING_DIR={path} is not a folder: set CENSUS_LANDING_DIR to the "
            "landing folder (with licensing/ and telemetry/) or create it")
    return path


def writable_warehouse() -> Path:
    """CENSUS_WAREHOUSE, a DuckDB file or none yet, whose folder a run must be able to
    write (the build copy, the lock and the published file all live there)."""
    path = setting("CENSUS_WAREHOUSE")
    if path.is_dir():
        raise SettingProblem(f"CENSUS_WAREHOUSE={path} is a folder: set CENSUS_WAREHOUSE to "
                             "a file in it, such as census.duckdb")
    _duckdb_or_none(path, "CENSUS_WAREHOUSE")
    if refused := _unwritable(path.parent / ".build"):
        raise SettingProblem(
            f"CENSUS_WAREHOUSE={path}: its folder cannot be written ({refused}): set "
            "CENSUS_WAREHOUSE to a file in a folder census may write")
    return path


def existing_warehouse(path: Path, flag: str | None = None) -> Path:
    """A warehouse file to read, which must exist (DuckDB would create an empty one) and
    be DuckDB's. `flag`: the command's option that names it, where it has one."""
    names = f"{flag} or CENSUS_WAREHOUSE" if flag else "CENSUS_WAREHOUSE"
    if path.is_dir():
        raise SettingProblem(f"{path} is a folder: name the warehouse file in it with {names}")
    if not path.is_file():
        raise SettingProblem(
            f"no warehouse at {path}: run `census run` first, or name the file with {names}")
    _duckdb_or_none(path, names)
    return path


def writable_folder(name: str, folder: Path | None = None, or_else: str = "") -> None:
    """The folder the path setting `name` names (or `folder`, its value read otherwise),
    made where missing, must be writable; `or_else` is the other value it may take."""
    folder = folder or setting(name)
    if refused := _unwritable(folder):
        raise SettingProblem(f"{name}={folder} cannot be written ({refused}): set {name} to "
                             f"a folder census may write{or_else}")


def scratch_setting() -> None:
    """CENSUS_SCRATCH_DIR, `auto` or a writable folder: found at a file's read instead,
    the folder's fault would be recorded as the file's."""
    if (given := option("CENSUS_SCRATCH_DIR")) != "auto":
        writable_folder("CENSUS_SCRATCH_DIR", Path(given).resolve(), ", or to auto")


def models_folder() -> Path:
    """CENSUS_MODELS_DIR, which must be a folder: pointing nowhere would build no model."""
    path = setting("CENSUS_MODELS_DIR")
    if not path.is_dir():
        raise SettingProblem(f"CENSUS_MODELS_DIR={path} is not a folder: set it to the SQL "
                             "models' folder (dbt_like_sql/ by default)")
    return path


def mail_settings() -> None:
    """The SMTP settings that are numbers (port, attempts, backoff) must be numbers: read
    while the definitions load, a wrong one would fail every command with a traceback."""
    from pipelines.export.delivery import Mailer

    try:
        Mailer.from_env()
    except ValueError as exc:
        raise SettingProblem(str(exc)) from None


def _unwritable(folder: Path) -> str | None:
    """Why `folder` (made where missing) cannot be written: the path the system refused
    and its reason; None where it can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        return f"{exc.filename}: {exc.strerror}"
    return None


def _duckdb_or_none(path: Path, names: str) -> None:
    """A file at `path` must be a DuckDB database (its header's magic bytes); an empty or
    missing one is not checked (DuckDB makes it a database)."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(_MAGIC_END)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SettingProblem(f"{path} cannot be read ({exc.strerror}): set {names} to a "
                             "warehouse census may read") from None
    if header and header[_MAGIC_START:_MAGIC_END] != _MAGIC:
        raise SettingProblem(f"{path} is not a DuckDB warehouse: set {names} to census's "
                             "warehouse file")


# Where a DuckDB database file says it is one.
_MAGIC, _MAGIC_START, _MAGIC_END = b"DUCK", 8, 12


def engine() -> str:
    """CENSUS_ENGINE, one of ENGINES; Spark's needs a Java runtime (JAVA_HOME's where it
    is set, else `java` on the PATH), without which pyspark fails with a gateway error
    that does not say so."""
    try:
        name = known_engine(option("CENSUS_ENGINE"))
    except ValueError as exc:
        raise SettingProblem(str(exc)) from None
    if name == "duckdb":
        return name
    java_home = os.environ.get("JAVA_HOME")
    if not (Path(java_home, "bin", "java").is_file() if java_home else shutil.which("java")):
        raise SettingProblem("CENSUS_ENGINE=spark needs a Java runtime: `make setup` "
                             "installs one (openjdk-17-jre-headless), or set JAVA_HOME")
    master = option("CENSUS_SPARK_MASTER")
    if not _MASTER.fullmatch(master):
        raise SettingProblem(f"CENSUS_SPARK_MASTER={master} is not a Spark master: set it to "
                             "local[N], local[*], spark://host:port, k8s://https://host:port "
                             "or yarn")
    return name


# The masters Spark 4 takes (SparkContext's own test, whose error names no setting).
_MASTER = re.compile(r"local(\[(\d+|\*)(,\d+)?\])?|spark://\S+|k8s://\S+|yarn")

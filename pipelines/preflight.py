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
    """CENSUS_WAREHOUSE, whose folder a run must be able to write (the build copy, the
    lock and the published file all live there)."""
    path = setting("CENSUS_WAREHOUSE")
    build = path.parent / ".build"
    try:
        build.mkdir(parents=True, exist_ok=True)
        probe = build / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise SettingProblem(
            f"CENSUS_WAREHOUSE={path}: its folder cannot be written ({exc.filename}: "
            f"{exc.strerror}): set CENSUS_WAREHOUSE to a file in a folder census may "
            "write") from None
    return path


def existing_warehouse(path: Path, flag: str | None = None) -> Path:
    """A warehouse file to read, which must exist: DuckDB would create an empty one.
    `flag`: the command's option that names it, where it has one."""
    if not path.is_file():
        names = f"{flag} or CENSUS_WAREHOUSE" if flag else "CENSUS_WAREHOUSE"
        raise SettingProblem(
            f"no warehouse at {path}: run `census run` first, or name the file with {names}")
    return path


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

"""Paths from the environment, with project-relative defaults (README: Configuration)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from dagster import DagsterInstance
from filelock import FileLock

PROJECT_ROOT = Path(__file__).resolve().parents[1]

DEFAULTS = {
    "CENSUS_LANDING_DIR": "data/landing",
    "CENSUS_WAREHOUSE": "data/warehouse/census.duckdb",
    "CENSUS_EXPORT_DIR": "data/exports",
    "CENSUS_REFERENCE_DIR": "data/reference",
    "CENSUS_MODELS_DIR": "dbt_like_sql",
    "CENSUS_LAKE_DIR": "data/lake",
    "DAGSTER_HOME": ".dagster_home",
}

# The engines that can build the SQL models: embedded in the warehouse, or Spark.
ENGINES = ("duckdb", "spark")
# The settings that are not paths (or whose default is not one), with their defaults: the
# engine that runs the SQL models (one of ENGINES), the Spark master it runs on, and where
# exports are decompressed while read (a folder, or `auto`).
OPTIONS = {
    "CENSUS_ENGINE": "duckdb",
    "CENSUS_SPARK_MASTER": "local[2]",
    "CENSUS_SCRATCH_DIR": "auto",
}


def setting(name: str) -> Path:
    """An absolute path: the variable if set (relative to the working directory),
    else its default under the project root."""
    value = os.environ.get(name)
    return Path(value).resolve() if value else PROJECT_ROOT / DEFAULTS[name]


def known_engine(name: str) -> str:
    """`name` (CENSUS_ENGINE's value) where it is one of ENGINES."""
    if name not in ENGINES:
        raise ValueError(f"CENSUS_ENGINE={name} is not an engine: set it to "
                         f"{' or '.join(ENGINES)}")
    return name


def option(name: str) -> str:
    """A setting that is not a path: the variable if set, else its default."""
    return os.environ.get(name) or OPTIONS[name]


def apply_defaults() -> None:
    """Put each unset CENSUS_* setting into the environment at its default (a path made
    absolute), so that the resources' EnvVar settings resolve, in this process and those
    it starts (`dg dev`, its code server, run workers)."""
    for name in DEFAULTS:
        if name.startswith("CENSUS_") and not os.environ.get(name):
            os.environ[name] = str(setting(name))
    for name in OPTIONS:
        os.environ[name] = option(name)


@contextmanager
def settings_given(given: Mapping[str, Path]) -> Iterator[None]:
    """The environment with these settings, as it was again afterwards."""
    saved = {name: os.environ.get(name) for name in given}
    os.environ.update({name: str(path) for name, path in given.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


# The time zone of every month, day and hour census reports: China Standard Time. SQL
# reaches it through the China-time macros of the warehouse (warehouse/migrations.py).
CHINA_TIME = "Asia/Shanghai"

# How often each sensor looks: as often as Dagster's sensor daemon goes round (every 5 s).
SENSOR_INTERVAL_SECONDS = 5

# The pool of every asset that writes the warehouse: DuckDB takes one writer at a time.
WAREHOUSE_POOL = "warehouse"

# dagster.yaml, by top-level key: Dagster's telemetry off; one run at a time in the
# `warehouse` pool (queued runs wait for the one in progress); a queued run started within
# a second rather than Dagster's five (a sensor's chain of runs waits at every link); a
# stopped `census ui` lets its code server finish the runs in progress before it exits;
# the daemon's run monitoring marks failed a run whose process died (the local launcher
# cannot resume one) and frees the pool slot a dead run held.
INSTANCE_SETTINGS = {
    "telemetry": "telemetry:\n  enabled: false\n",
    "concurrency": "concurrency:\n  pools:\n    default_limit: 1\n    granularity: run\n",
    "run_queue": "run_queue:\n  dequeue_interval_seconds: 1\n",
    "code_servers": "code_servers:\n  wait_for_local_processes_on_shutdown: true\n",
    "run_monitoring": ("run_monitoring:\n  enabled: true\n  poll_interval_seconds: 30\n"
                       "  max_resume_run_attempts: 0\n  free_slots_after_run_end_seconds: 300\n"),
}


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME inside the project by default, its dagster.yaml holding
    INSTANCE_SETTINGS: a key missing from an existing file is added, the others kept."""
    home = setting("DAGSTER_HOME")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    text = config.read_text() if config.exists() else ""
    missing = [block for key, block in INSTANCE_SETTINGS.items()
               if not re.search(rf"^{key}:", text, re.MULTILINE)]
    if missing:
        config.write_text(text + ("\n" if text and not text.endswith("\n") else "")
                          + "".join(missing))
    os.environ["DAGSTER_HOME"] = str(home)
    # Processes starting together on a new home would each create Dagster's SQLite
    # tables ("table runs already exists"): the first creates them, the others wait.
    with FileLock(home / ".instance.lock"):
        DagsterInstance.get().dispose()
    return home

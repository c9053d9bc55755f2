"""Paths from the environment, with project-relative defaults (README: Configuration)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

DEFAULTS = {
    "CENSUS_LANDING_DIR": "data/landing",
    "CENSUS_WAREHOUSE": "data/warehouse/census.duckdb",
    "CENSUS_EXPORT_DIR": "data/exports",
    "CENSUS_REFERENCE_DIR": "data/reference",
    "DAGSTER_HOME": ".dagster_home",
}


def setting(name: str) -> Path:
    """An absolute path: the variable if set (relative to the working directory),
    else its default under the project root."""
    value = os.environ.get(name)
    return Path(value).resolve() if value else PROJECT_ROOT / DEFAULTS[name]


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME inside the project by default, with Dagster's telemetry off and one
    run at a time in the `warehouse` pool (queued runs wait for the one in progress)."""
    home = setting("DAGSTER_HOME")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(
            "telemetry:\n  enabled: false\n"
            "concurrency:\n  pools:\n    default_limit: 1\n    granularity: run\n"
        )
    os.environ["DAGSTER_HOME"] = str(home)
    return home

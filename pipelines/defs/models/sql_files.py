"""The SQL model files of CENSUS_MODELS_DIR (dbt_like_sql/ by default), and the tables
they may read besides each other's."""

from __future__ import annotations

from pipelines.defs.ingest.jobs import INGEST_ASSETS
from pipelines.defs.models.coverage import telemetry_coverage
from pipelines.settings import setting
from pipelines.sql_graph import SqlModel, load_models

# Tables the SQL models may read, and the assets that produce them.
SOURCES = {".".join(key.path): key for asset in [*INGEST_ASSETS, telemetry_coverage]
           for key in asset.keys}


def sql_models() -> list[SqlModel]:
    """Every model of the configured folder, read now: a broken one fails here, naming
    its file."""
    return load_models(setting("CENSUS_MODELS_DIR"), SOURCES)

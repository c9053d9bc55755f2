"""The SQL model files of CENSUS_MODELS_DIR (dbt_like_sql/ by default), and the tables
they may read besides each other's."""

from __future__ import annotations

from pathlib import Path

from pipelines.defs.ingest.jobs import INGEST_ASSETS
from pipelines.settings import setting
from pipelines.sql_graph import SqlModel, load_models
from pipelines.warehouse.tables import TABLES

# Tables the SQL models may read, and the assets that produce them.
SOURCES = {".".join(key.path): key for asset in INGEST_ASSETS for key in asset.keys}
# Tables the models' tests may read besides: every table the warehouse declares (the
# audit tables among them).
CHECKED_AGAINST = [table.name for table in TABLES]


def sql_models(folder: Path | None = None) -> list[SqlModel]:
    """Every model of `folder` (default: the configured one), read now: a broken one
    fails here, naming its file."""
    return load_models(folder or setting("CENSUS_MODELS_DIR"), SOURCES, CHECKED_AGAINST)

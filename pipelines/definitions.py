"""The one Definitions object of census."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetSelection, Definitions, define_asset_job

from pipelines.assets.export import EXPORT_KEY, summary_export
from pipelines.assets.models import model_asset
from pipelines.assets.publish import PUBLISHED_KEY, publish_asset
from pipelines.assets.reference import reference_dimensions
from pipelines.assets.register import centre_register
from pipelines.assets.telemetry import telemetry_coverage, telemetry_hourly
from pipelines.resources import ExportFolder, Landing, Mailer, ReferenceData, Warehouse
from pipelines.schedules import export_job, monthly_export
from pipelines.settings import PROJECT_ROOT, setting
from pipelines.sql_graph import load_models

INGEST_ASSETS = [reference_dimensions, centre_register, telemetry_hourly]
MODELS_DIR = PROJECT_ROOT / "dbt_like_sql"
# Tables the SQL models may read, and the assets that produce them.
SOURCES = {".".join(key.path): key for asset in [*INGEST_ASSETS, telemetry_coverage]
           for key in asset.keys}

# `census run` runs these in order: ingest new files, rebuild the months they touched,
# publish. (A job runs either unpartitioned or partitioned assets, not both.)
ingest_job = define_asset_job(
    "ingest", selection=AssetSelection.assets(*INGEST_ASSETS),
    description="Reference, the licensing register and new telemetry exports.")
monthly_job = define_asset_job(
    "monthly", selection=AssetSelection.all() - AssetSelection.assets(*INGEST_ASSETS)
    - AssetSelection.assets(PUBLISHED_KEY, EXPORT_KEY),
    description="Month-partitioned assets (coverage, SQL models), for the months given.")
publish_job = define_asset_job(
    "publish", selection=AssetSelection.assets(PUBLISHED_KEY),
    description="Publish the build copy of the warehouse atomically.")


def build_definitions(landing: Path | None = None, warehouse: Path | None = None,
                      reference: Path | None = None, models: Path = MODELS_DIR,
                      exports: Path | None = None) -> Definitions:
    """Definitions whose resources point at the given folders, by default those of the
    environment (README: Configuration). A broken SQL model fails here, naming its file."""
    writers = [*INGEST_ASSETS, telemetry_coverage,
               *(model_asset(m) for m in load_models(models, SOURCES))]
    upstream = [key for asset in writers for key in asset.keys]
    return Definitions(
        assets=[*writers, publish_asset(upstream), summary_export],
        jobs=[ingest_job, monthly_job, publish_job, export_job],
        schedules=[monthly_export],
        resources={
            "warehouse": Warehouse(path=str(warehouse or setting("CENSUS_WAREHOUSE"))),
            "landing": Landing(root=str(landing or setting("CENSUS_LANDING_DIR"))),
            "reference": ReferenceData(root=str(reference or setting("CENSUS_REFERENCE_DIR"))),
            "exports": ExportFolder(root=str(exports or setting("CENSUS_EXPORT_DIR"))),
            "mailer": Mailer.from_env(),
        },
    )


defs = build_definitions()

"""The one Definitions object of census."""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions, in_process_executor

from pipelines.assets.columns import with_columns
from pipelines.assets.export import summary_export
from pipelines.assets.models import model_asset
from pipelines.assets.publish import publish_asset
from pipelines.assets.telemetry import telemetry_coverage
from pipelines.export.delivery import Mailer
from pipelines.jobs import INGEST_ASSETS, export_job, ingest_job, monthly_job, publish_job
from pipelines.planner import MODELS_DIR, SOURCES
from pipelines.resources import ExportFolder, Landing, ReferenceData, Warehouse
from pipelines.schedules import daily_refresh, monthly_export
from pipelines.sensors import chain_runs, landing_arrivals, run_failures
from pipelines.settings import setting
from pipelines.sql_graph import load_models


def build_definitions(landing: Path | None = None, warehouse: Path | None = None,
                      reference: Path | None = None, models: Path = MODELS_DIR,
                      exports: Path | None = None) -> Definitions:
    """Definitions whose resources point at the given folders, by default those of the
    environment (README: Configuration). A broken SQL model fails here, naming its file."""
    sql_models = load_models(models, SOURCES)
    writers = [*INGEST_ASSETS, telemetry_coverage, *(model_asset(m) for m in sql_models)]
    upstream = [key for asset in writers for key in asset.keys]
    return Definitions(
        assets=[*with_columns(writers, sql_models), publish_asset(upstream), summary_export],
        jobs=[ingest_job, monthly_job, publish_job, export_job],
        schedules=[daily_refresh, monthly_export],
        # Every writer waits for the one DuckDB file, so steps gain nothing from processes
        # of their own: one process per run saves a Python start-up per step.
        executor=in_process_executor,
        sensors=[landing_arrivals, chain_runs, run_failures],
        resources={
            "warehouse": Warehouse(path=str(warehouse or setting("CENSUS_WAREHOUSE"))),
            "landing": Landing(root=str(landing or setting("CENSUS_LANDING_DIR"))),
            "reference": ReferenceData(root=str(reference or setting("CENSUS_REFERENCE_DIR"))),
            "exports": ExportFolder(root=str(exports or setting("CENSUS_EXPORT_DIR"))),
            "mailer": Mailer.from_env(),
        },
    )


defs = build_definitions()

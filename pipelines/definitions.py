"""The one Definitions object of census."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetSelection, Definitions, define_asset_job

from pipelines.assets.publish import PUBLISHED_KEY, publish_asset
from pipelines.assets.reference import reference_dimensions
from pipelines.assets.register import centre_register
from pipelines.assets.telemetry import telemetry_coverage, telemetry_hourly
from pipelines.resources import Landing, ReferenceData, Warehouse
from pipelines.settings import setting

INGEST_ASSETS = [reference_dimensions, centre_register, telemetry_hourly]
MONTHLY_ASSETS = [telemetry_coverage]

# `census run` runs these in order: ingest new files, rebuild the months they touched,
# publish. (A job runs either unpartitioned or partitioned assets, not both.)
ingest_job = define_asset_job(
    "ingest", selection=AssetSelection.assets(*INGEST_ASSETS),
    description="Reference, the licensing register and new telemetry exports.")
monthly_job = define_asset_job(
    "monthly", selection=AssetSelection.assets(*MONTHLY_ASSETS),
    description="Month-partitioned assets, for the months given.")
publish_job = define_asset_job(
    "publish", selection=AssetSelection.assets(PUBLISHED_KEY),
    description="Publish the build copy of the warehouse atomically.")


def build_definitions(landing: Path | None = None, warehouse: Path | None = None,
                      reference: Path | None = None) -> Definitions:
    """Definitions whose resources point at the given folders, by default those of the
    environment (README: Configuration)."""
    writers = INGEST_ASSETS + MONTHLY_ASSETS
    upstream = [key for asset in writers for key in asset.keys]
    return Definitions(
        assets=[*writers, publish_asset(upstream)],
        jobs=[ingest_job, monthly_job, publish_job],
        resources={
            "warehouse": Warehouse(path=str(warehouse or setting("CENSUS_WAREHOUSE"))),
            "landing": Landing(root=str(landing or setting("CENSUS_LANDING_DIR"))),
            "reference": ReferenceData(root=str(reference or setting("CENSUS_REFERENCE_DIR"))),
        },
    )


defs = build_definitions()

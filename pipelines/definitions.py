"""The one Definitions object of census."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetSelection, Definitions, define_asset_job

from pipelines.assets.publish import publish_asset
from pipelines.assets.reference import reference_dimensions
from pipelines.assets.register import centre_register
from pipelines.resources import Landing, ReferenceData, Warehouse
from pipelines.settings import setting

WAREHOUSE_ASSETS = [reference_dimensions, centre_register]

census_job = define_asset_job(
    "census", selection=AssetSelection.all(),
    description="Everything: reference, register, publish.")


def build_definitions(landing: Path | None = None, warehouse: Path | None = None,
                      reference: Path | None = None) -> Definitions:
    """Definitions whose resources point at the given folders, by default those of the
    environment (README: Configuration)."""
    upstream = [key for asset in WAREHOUSE_ASSETS for key in asset.keys]
    return Definitions(
        assets=[*WAREHOUSE_ASSETS, publish_asset(upstream)],
        jobs=[census_job],
        resources={
            "warehouse": Warehouse(path=str(warehouse or setting("CENSUS_WAREHOUSE"))),
            "landing": Landing(root=str(landing or setting("CENSUS_LANDING_DIR"))),
            "reference": ReferenceData(root=str(reference or setting("CENSUS_REFERENCE_DIR"))),
        },
    )


defs = build_definitions()

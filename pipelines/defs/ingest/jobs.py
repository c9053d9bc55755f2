"""The ingest job: reference, the licensing register and new telemetry exports. The
planner (pipelines/planner.py) says which run follows it."""

from dagster import AssetSelection, define_asset_job

from pipelines.defs.ingest.landing import landing_files
from pipelines.defs.ingest.reference import reference_dimensions

INGEST_ASSETS = [reference_dimensions, landing_files]

ingest_job = define_asset_job(
    "ingest", selection=AssetSelection.assets(*INGEST_ASSETS),
    description="Reference, the licensing register and new telemetry exports.")

"""The jobs: ingest → monthly → publish, chained by the planner (pipelines/planner.py)
for `census run` and the sensors alike; export, run by its schedule. (A job runs either
unpartitioned or month-partitioned assets, not both.)"""

from dagster import AssetSelection, define_asset_job

from pipelines.assets.export import EXPORT_KEY
from pipelines.assets.landing import landing_files
from pipelines.assets.publish import PUBLISHED_KEY
from pipelines.assets.reference import reference_dimensions

INGEST_ASSETS = [reference_dimensions, landing_files]
MONTHLY = (AssetSelection.all() - AssetSelection.assets(*INGEST_ASSETS)
           - AssetSelection.assets(PUBLISHED_KEY, EXPORT_KEY))

ingest_job = define_asset_job(
    "ingest", selection=AssetSelection.assets(*INGEST_ASSETS),
    description="Reference, the licensing register and new telemetry exports.")
monthly_job = define_asset_job(
    "monthly", selection=MONTHLY,
    description="Month-partitioned assets (coverage, SQL models), for the months given.")
publish_job = define_asset_job(
    "publish", selection=AssetSelection.assets(PUBLISHED_KEY),
    description="Publish the build copy of the warehouse atomically.")
export_job = define_asset_job(
    "export", selection=AssetSelection.assets(EXPORT_KEY),
    description="Write (and mail) the ministry summary export of the month given.")

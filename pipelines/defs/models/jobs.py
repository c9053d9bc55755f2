"""The monthly job: the month-partitioned assets, for the months given. (A job runs
either unpartitioned or month-partitioned assets, not both.)"""

from dagster import AssetSelection, define_asset_job

from pipelines.defs.exports.assets import EXPORT_KEY
from pipelines.defs.ingest.jobs import INGEST_ASSETS
from pipelines.defs.publish.assets import PUBLISHED_KEY

# Every asset but the ingest's, the publish and the export: the SQL models (the coverage
# among them), whichever files CENSUS_MODELS_DIR holds.
MONTHLY = (AssetSelection.all() - AssetSelection.assets(*INGEST_ASSETS)
           - AssetSelection.assets(PUBLISHED_KEY, EXPORT_KEY))

monthly_job = define_asset_job(
    "monthly", selection=MONTHLY,
    description="Month-partitioned assets (coverage, SQL models), for the months given.")

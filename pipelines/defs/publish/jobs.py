"""The publish job."""

from dagster import AssetSelection, define_asset_job

from pipelines.defs.publish.assets import PUBLISHED_KEY

publish_job = define_asset_job(
    "publish", selection=AssetSelection.assets(PUBLISHED_KEY),
    description="Publish the build copy of the warehouse atomically.")

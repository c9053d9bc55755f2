"""The export job, run by its schedule and by `census export`."""

from dagster import AssetSelection, define_asset_job

from pipelines.defs.exports.assets import EXPORT_KEY

export_job = define_asset_job(
    "export", selection=AssetSelection.assets(EXPORT_KEY),
    description="Write (and mail) the ministry summary export of the month given.")

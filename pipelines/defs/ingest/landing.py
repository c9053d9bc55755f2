"""The landing files into the warehouse: the register, then telemetry, in one step.

One step rather than an asset each: an asset that found nothing new records no
materialisation, and Dagster skips every step downstream of an output not yielded, so
telemetry (which reads the register) would not load on a day with no new workbook."""

from dagster import AssetExecutionContext, multi_asset

from pipelines.assets.checks import ingestion_check_specs
from pipelines.assets.register import REGISTER_KEY, REGISTER_SPEC, load_register
from pipelines.assets.telemetry import HOURLY_KEY, HOURLY_SPEC, load_telemetry
from pipelines.resources import Landing, ReferenceData, Warehouse
from pipelines.settings import WAREHOUSE_POOL


@multi_asset(
    specs=[REGISTER_SPEC, HOURLY_SPEC],
    check_specs=[*ingestion_check_specs(REGISTER_KEY), *ingestion_check_specs(HOURLY_KEY)],
    pool=WAREHOUSE_POOL,
)
def landing_files(context: AssetExecutionContext, warehouse: Warehouse, landing: Landing,
                  reference: ReferenceData):
    with warehouse.writer() as con:
        register, register_checks = load_register(context, con, landing, reference)
        hourly, hourly_checks = load_telemetry(context, con, landing,
                                               warehouse.build_path.parent / "scratch")
    for result in (register, hourly):
        if result is not None:
            yield result
    yield from register_checks
    yield from hourly_checks

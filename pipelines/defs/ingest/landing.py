"""The landing files into the warehouse: the register, then telemetry, in one step.

One step rather than an asset each: an asset that found nothing new records no
materialisation, and Dagster skips every step downstream of an output not yielded, so
telemetry (which reads the register) would not load on a day with no new workbook.
The two specs are written here, inside the step, because the defs folder's loader takes
every AssetSpec at a module's top level for an asset of its own."""

from dagster import AssetExecutionContext, AssetSpec, multi_asset

from pipelines.defs.ingest.checks import ingestion_check_specs
from pipelines.defs.ingest.register import REGISTER_KEY, load_register
from pipelines.defs.ingest.telemetry import HOURLY_KEY, load_telemetry
from pipelines.defs.owners import ENGINEERS
from pipelines.defs.resources import Engine, Landing, ReferenceData, Warehouse
from pipelines.ingest.files import strays_named
from pipelines.ingest.licensing import KIND as LICENSING
from pipelines.ingest.telemetry_load import KIND as TELEMETRY
from pipelines.settings import WAREHOUSE_POOL


@multi_asset(
    specs=[
        AssetSpec(
            REGISTER_KEY,
            group_name="ingest",
            owners=[ENGINEERS],
            kinds={"excel", "pandera", "duckdb"},
            deps=[["core", "dim_province"], ["core", "dim_hub"], ["core", "dim_cluster"]],
            # A run with no new workbook records nothing over the last real load.
            skippable=True,
            description="Licensing register (contract §1.1): every centre and version from "
                        "the provinces' workbooks in landing/licensing/, validated; bad rows "
                        "go to audit.quarantine, files to audit.ingestion_log.",
        ),
        AssetSpec(
            HOURLY_KEY,
            group_name="ingest",
            owners=[ENGINEERS],
            kinds={"csv", "parquet", "duckdb"},
            deps=[REGISTER_KEY],
            # A run with no new export and no pending sample loaded records nothing over the
            # last real load.
            skippable=True,
            description="Telemetry per centre and hour (contract §1.2): new exports in "
                        "landing/telemetry/ read and validated by DuckDB or Spark "
                        "(CENSUS_ENGINE; the SQL of dbt_like_sql/ingest/), averaged per "
                        "hour; a later file's samples restate an earlier file's hours; "
                        "samples of unregistered centres wait in core.telemetry_pending "
                        "until their centre is registered.",
        ),
    ],
    check_specs=[*ingestion_check_specs(REGISTER_KEY), *ingestion_check_specs(HOURLY_KEY)],
    pool=WAREHOUSE_POOL,
)
def landing_files(context: AssetExecutionContext, warehouse: Warehouse, landing: Landing,
                  reference: ReferenceData, engine: Engine):
    if strays := landing.strays():
        context.log.warning(strays_named(strays))
    with warehouse.writer() as con:
        register, register_checks = load_register(
            context, con, landing.files(LICENSING, warehouse.landing_sha256), reference)
        hourly, hourly_checks = load_telemetry(
            context, con, landing.files(TELEMETRY, warehouse.landing_sha256),
            warehouse.scratch_path, engine)
    for result in (register, hourly):
        if result is not None:
            yield result
    yield from register_checks
    yield from hourly_checks

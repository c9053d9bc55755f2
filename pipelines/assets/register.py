"""The licensing register asset and its checks."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from pipelines.assets.checks import ingestion_check_results, ingestion_check_specs
from pipelines.assets.metadata import markdown_preview
from pipelines.automation import ENGINEERS
from pipelines.ingest.licensing import KIND, ingest_licensing
from pipelines.resources import Landing, ReferenceData, Warehouse

REGISTER_KEY = AssetKey(["core", "centre_register"])


@asset(
    key=REGISTER_KEY,
    group_name="ingest",
    owners=[ENGINEERS],
    kinds={"excel", "pandera", "duckdb"},
    deps=[["core", "dim_province"], ["core", "dim_hub"], ["core", "dim_cluster"]],
    pool="warehouse",
    description="Licensing register (contract §1.1): every centre and version from the "
                "provinces' workbooks in landing/licensing/, validated; bad rows go to "
                "audit.quarantine, files to audit.ingestion_log.",
    check_specs=ingestion_check_specs(REGISTER_KEY),
)
def centre_register(context: AssetExecutionContext, warehouse: Warehouse, landing: Landing,
                    reference: ReferenceData) -> MaterializeResult:
    with warehouse.writer() as con:
        con.execute("BEGIN TRANSACTION")
        report = ingest_licensing(con, landing.files(KIND), reference.load(), context.run.run_id)
        con.execute("COMMIT")
        checks = ingestion_check_results(con, KIND)
        preview = con.sql(
            "SELECT centre_id, centre_name, province_code, status, design_racks, valid_from "
            "FROM core.centre_register WHERE is_current ORDER BY centre_id LIMIT 10").pl()
    statuses = report.status_counts()
    context.log.info("licensing files: %s", dict(statuses))
    return MaterializeResult(
        metadata={
            "dagster/row_count": report.versions,
            "centres": report.centres,
            "files_loaded": statuses["loaded"],
            "files_skipped_duplicate": statuses["skipped_duplicate"],
            "files_rejected": statuses["rejected"],
            "rows_loaded": sum(o.rows_loaded for o in report.outcomes),
            "rows_rejected": sum(o.rows_rejected for o in report.outcomes),
            "rows_warned": sum(o.rows_warned for o in report.outcomes),
            "preview": markdown_preview(preview),
        },
        check_results=checks,
    )

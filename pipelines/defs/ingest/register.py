"""What one ingest step records of the licensing register."""

import duckdb
from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, MaterializeResult

from pipelines.defs.ingest.checks import ingestion_check_results
from pipelines.defs.metadata import markdown_preview
from pipelines.defs.resources import ReferenceData
from pipelines.ingest.files import LandingFile
from pipelines.ingest.licensing import KIND, ingest_licensing

REGISTER_KEY = AssetKey(["core", "centre_register"])



def load_register(context: AssetExecutionContext, con: duckdb.DuckDBPyConnection,
                  files: list[LandingFile], reference: ReferenceData
                  ) -> tuple[MaterializeResult | None, list[AssetCheckResult]]:
    """Ingest the new of `files` (landing/licensing/) in one transaction; a
    materialisation only when a workbook was attempted, and the checks of the register
    as it now stands."""
    con.execute("BEGIN TRANSACTION")
    report = ingest_licensing(con, files, reference.load(), context.run.run_id)
    con.execute("COMMIT")
    checks = ingestion_check_results(con, KIND, REGISTER_KEY)
    if not report.outcomes:
        return None, checks
    preview = con.sql(
        "SELECT centre_id, centre_name, province_code, status, design_racks, valid_from "
        "FROM core.centre_register WHERE is_current ORDER BY centre_id LIMIT 10").pl()
    statuses = report.status_counts()
    context.log.info("licensing files: %s", dict(statuses))
    return MaterializeResult(asset_key=REGISTER_KEY, metadata={
        "dagster/row_count": report.versions,
        "centres": report.centres,
        "files_loaded": statuses["loaded"],
        "files_skipped_duplicate": statuses["skipped_duplicate"],
        "files_rejected": statuses["rejected"],
        "rows_loaded": sum(o.rows_loaded for o in report.outcomes),
        "rows_rejected": sum(o.rows_rejected for o in report.outcomes),
        "rows_warned": sum(o.rows_warned for o in report.outcomes),
        "preview": markdown_preview(preview),
    }), checks

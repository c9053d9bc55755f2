"""What one ingest step records of telemetry."""

from collections import Counter
from pathlib import Path

import duckdb
from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, MaterializeResult

from pipelines.defs.ingest.checks import ingestion_check_results
from pipelines.defs.resources import Engine
from pipelines.ingest.files import LandingFile
from pipelines.ingest.telemetry_load import KIND, ingest_telemetry

HOURLY_KEY = AssetKey(["core", "telemetry_hourly"])



def load_telemetry(context: AssetExecutionContext, con: duckdb.DuckDBPyConnection,
                   files: list[LandingFile], scratch: Path, engine: Engine
                   ) -> tuple[MaterializeResult | None, list[AssetCheckResult]]:
    """Ingest the new of `files` (landing/telemetry/), on the `engine`; a materialisation
    only when an export was attempted or pending samples were loaded, and the checks of
    the telemetry as it now stands."""
    report = ingest_telemetry(con, files, context.run.run_id, scratch, engine.lake)
    checks = ingestion_check_results(con, KIND, HOURLY_KEY)
    if not report.outcomes and not report.resolved:
        return None, checks
    rows, restated = con.execute(
        "SELECT (SELECT count(*) FROM core.telemetry_hourly), "
        "coalesce(sum(replaced), 0) FROM audit.telemetry_loads WHERE run_id = ?",
        [context.run.run_id]).fetchone()
    statuses = Counter(o.status for o in report.outcomes)
    return MaterializeResult(asset_key=HOURLY_KEY, metadata={
        "dagster/row_count": rows,
        "files_loaded": statuses["loaded"],
        "files_skipped_duplicate": statuses["skipped_duplicate"],
        "files_rejected": statuses["rejected"],
        "rows_loaded": sum(o.rows_loaded for o in report.outcomes),
        "rows_rejected": sum(o.rows_rejected for o in report.outcomes),
        "pending_samples_loaded": report.resolved,
        "centre_hours_restated": restated,
        "months_touched": ", ".join(m.strftime("%Y-%m") for m in report.months) or "none",
    }), checks


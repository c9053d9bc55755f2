"""Ingestion checks read back from the audit tables, shared by the ingest assets."""

import duckdb
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey

from pipelines.defs.metadata import markdown_preview

INGESTION_CHECKS = {
    "no_rejected_files": "No file of this kind was rejected whole",
    "no_rejected_rows": "No row is rejected (quarantine, severity error, unresolved)",
    "no_warnings": "No row carries a warning (quarantine, severity warning)",
}


def ingestion_check_specs(key: AssetKey) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(name, asset=key, description=text)
            for name, text in INGESTION_CHECKS.items()]


def ingestion_check_results(con: duckdb.DuckDBPyConnection, kind: str, key: AssetKey
                            ) -> list[AssetCheckResult]:
    """Rejected files, and unresolved rejected and warned rows by rule, of one kind of
    landing file (`licensing` or `telemetry`), as the checks of asset `key`."""
    rejected_files = con.execute(
        "SELECT file_name, message FROM audit.ingestion_log "
        "WHERE kind = ? AND status = 'rejected' ORDER BY file_name", [kind]).pl()
    results = [AssetCheckResult(
        asset_key=key, check_name="no_rejected_files", passed=rejected_files.height == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={"files_rejected": rejected_files.height,
                  "preview": markdown_preview(rejected_files)},
    )]
    for check, severity in (("no_rejected_rows", "error"), ("no_warnings", "warning")):
        by_rule = con.execute(
            "SELECT rule, count(*) FROM audit.quarantine WHERE starts_with(file_name, ?) "
            "AND severity = ? AND resolved_at IS NULL GROUP BY rule ORDER BY rule",
            [f"{kind}/", severity]).fetchall()
        preview = con.execute(
            "SELECT file_name, sheet, source_row, column_name, value, rule FROM audit.quarantine "
            "WHERE starts_with(file_name, ?) AND severity = ? AND resolved_at IS NULL "
            "ORDER BY file_name, sheet, source_row, column_name LIMIT 10",
            [f"{kind}/", severity]).pl()
        total = sum(n for _, n in by_rule)
        results.append(AssetCheckResult(
            asset_key=key, check_name=check, passed=total == 0, severity=AssetCheckSeverity.WARN,
            metadata={"findings": total, **{f"rule/{rule}": n for rule, n in by_rule},
                      "preview": markdown_preview(preview)},
        ))
    return results

"""The licensing register asset and its checks."""


import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    asset,
)

from pipelines.assets.metadata import markdown_preview
from pipelines.ingest.licensing import KIND, ingest_licensing
from pipelines.resources import Landing, ReferenceData, Warehouse

REGISTER_KEY = ["core", "centre_register"]


@asset(
    key=REGISTER_KEY,
    group_name="ingest",
    kinds={"excel", "pandera", "duckdb"},
    deps=[["core", "dim_province"], ["core", "dim_hub"], ["core", "dim_cluster"]],
    pool="warehouse",
    description="Licensing register (contract §1.1): every centre and version from the "
                "provinces' workbooks in landing/licensing/, validated; bad rows go to "
                "audit.quarantine, files to audit.ingestion_log.",
    check_specs=[
        AssetCheckSpec("no_rejected_files", asset=REGISTER_KEY,
                       description="No register workbook was rejected whole"),
        AssetCheckSpec("no_rejected_rows", asset=REGISTER_KEY,
                       description="No register row is rejected (quarantine, severity error)"),
        AssetCheckSpec("no_warnings", asset=REGISTER_KEY,
                       description="No register row carries a warning (quarantine, warning)"),
    ],
)
def centre_register(context: AssetExecutionContext, warehouse: Warehouse, landing: Landing,
                    reference: ReferenceData) -> MaterializeResult:
    with warehouse.writer() as con:
        con.execute("BEGIN TRANSACTION")
        report = ingest_licensing(con, landing.files(KIND), reference.load(), context.run.run_id)
        con.execute("COMMIT")
        checks = register_check_results(con)
        preview = con.sql(
            "SELECT centre_id, centre_name, province_code, status, design_racks, valid_from "
            "FROM core.centre_register WHERE is_current ORDER BY centre_id LIMIT 10"
        ).pl()
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


def register_check_results(con: duckdb.DuckDBPyConnection) -> list[AssetCheckResult]:
    """The register's checks, read back from the audit tables."""
    rejected_files = con.execute(
        "SELECT file_name, message FROM audit.ingestion_log "
        "WHERE kind = ? AND status = 'rejected' ORDER BY file_name", [KIND]).pl()
    results = [AssetCheckResult(
        check_name="no_rejected_files", passed=rejected_files.height == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={"files_rejected": rejected_files.height,
                  "preview": markdown_preview(rejected_files)},
    )]
    for check, severity in (("no_rejected_rows", "error"), ("no_warnings", "warning")):
        findings = con.execute(
            "SELECT * FROM audit.quarantine WHERE starts_with(file_name, ?) AND severity = ? "
            "AND resolved_at IS NULL ORDER BY file_name, sheet, source_row, column_name",
            [f"{KIND}/", severity]).pl()
        by_rule = findings.group_by("rule").len().sort("rule")
        results.append(AssetCheckResult(
            check_name=check, passed=findings.height == 0, severity=AssetCheckSeverity.WARN,
            metadata={
                "findings": findings.height,
                **{f"rule/{rule}": n for rule, n in by_rule.iter_rows()},
                "preview": markdown_preview(findings.select(
                    "file_name", "sheet", "source_row", "column_name", "value", "rule")),
            },
        ))
    return results

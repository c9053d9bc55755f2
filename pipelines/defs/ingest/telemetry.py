"""Telemetry: the file-driven ingest asset (its spec, and what one ingest step records of
it), and the month-partitioned coverage."""

import warnings
from collections import Counter
from pathlib import Path

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    BetaWarning,
    MaterializeResult,
    MonthlyPartitionsDefinition,
    asset,
)

from pipelines.assets.checks import ingestion_check_results
from pipelines.assets.metadata import markdown_preview
from pipelines.assets.register import REGISTER_KEY
from pipelines.automation import ENGINEERS
from pipelines.ingest.telemetry_load import KIND, ingest_telemetry
from pipelines.resources import Landing, Warehouse
from pipelines.settings import WAREHOUSE_POOL
from pipelines.warehouse.coverage import month_summary, rebuild_coverage

HOURLY_KEY = AssetKey(["core", "telemetry_hourly"])
COVERAGE_KEY = AssetKey(["core", "telemetry_coverage"])

# Calendar months in China time (contract §3); a partition key is the month's first day.
MONTHS = MonthlyPartitionsDefinition(start_date="2020-01-01", timezone="Asia/Shanghai",
                                     end_offset=1)


HOURLY_SPEC = AssetSpec(
    HOURLY_KEY,
    group_name="ingest",
    owners=[ENGINEERS],
    kinds={"csv", "parquet", "duckdb"},
    deps=[REGISTER_KEY],
    # A run with no new export and no pending sample loaded records nothing over the last
    # real load.
    skippable=True,
    description="Telemetry per centre and hour (contract §1.2): new exports in "
                "landing/telemetry/ read and validated by DuckDB (the SQL of "
                "dbt_like_sql/ingest/), averaged per hour; a "
                "later file's samples restate an earlier file's hours; samples of unregistered "
                "centres wait in core.telemetry_pending until their centre is registered.",
)


def load_telemetry(context: AssetExecutionContext, con: duckdb.DuckDBPyConnection,
                   landing: Landing, scratch: Path
                   ) -> tuple[MaterializeResult | None, list[AssetCheckResult]]:
    """Ingest new exports; a materialisation only when an export was attempted or pending
    samples were loaded, and the checks of the telemetry as it now stands."""
    report = ingest_telemetry(con, landing.files(KIND), context.run.run_id, scratch)
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


with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)  # backfill_policy is beta in 1.13

    @asset(
        key=COVERAGE_KEY,
        group_name="ingest",
        owners=[ENGINEERS],
        kinds={"duckdb"},
        deps=[HOURLY_KEY],
        partitions_def=MONTHS,
        backfill_policy=BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        description="Telemetry coverage per month (China time) and centre: hours reported of "
                    "the hours in the month. One partition per month.",
        check_specs=[
            AssetCheckSpec("no_rejected_samples", asset=COVERAGE_KEY,
                           description="No telemetry sample of the month was rejected"),
            AssetCheckSpec("centres_reporting", asset=COVERAGE_KEY,
                           description="Every centre with telemetry in the month covers at "
                                       "least half of its hours"),
        ],
    )
    def telemetry_coverage(context: AssetExecutionContext, warehouse: Warehouse):
        months = list(context.partition_keys)
        with warehouse.writer() as con:
            con.execute("BEGIN TRANSACTION")
            for month in months:
                rebuild_coverage(con, month, context.run.run_id)
            con.execute("COMMIT")
            summaries = [month_summary(con, month) for month in months]
        totals = {k: sum(s[k] for s in summaries)
                  for k in ("rows", "centres", "centres_reporting", "rejections")}
        rules = Counter()
        for s in summaries:
            rules.update(s["rejections_by_rule"])
        # One run may build several months: each month's figures under its own name.
        per_month = {f"{month[:7]}/{name}": s[name] for month, s in zip(months, summaries,
                                                                         strict=True)
                     for name in ("rows", "centres", "centres_reporting", "mean_coverage",
                                  "rejections")}
        yield MaterializeResult(metadata={
            "dagster/row_count": totals["rows"],
            "months": ", ".join(m[:7] for m in months),
            **per_month,
            "preview": markdown_preview(summaries[0]["preview"]),
        })
        yield AssetCheckResult(
            check_name="no_rejected_samples", asset_key=COVERAGE_KEY,
            passed=totals["rejections"] == 0, severity=AssetCheckSeverity.WARN,
            metadata={"rejections": totals["rejections"],
                      **{f"rule/{rule}": n for rule, n in sorted(rules.items())}})
        yield AssetCheckResult(
            check_name="centres_reporting", asset_key=COVERAGE_KEY,
            passed=totals["centres_reporting"] == totals["centres"],
            severity=AssetCheckSeverity.WARN,
            metadata={"centres": totals["centres"],
                      "centres_reporting": totals["centres_reporting"],
                      "centres_under_half": totals["centres"] - totals["centres_reporting"]})

"""Telemetry coverage per month (China time) and centre, one partition per month."""

import warnings
from collections import Counter

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    BetaWarning,
    MaterializeResult,
    asset,
)

from pipelines.defs.ingest.telemetry import HOURLY_KEY
from pipelines.defs.metadata import markdown_preview
from pipelines.defs.owners import ENGINEERS
from pipelines.defs.partitions import MONTHS
from pipelines.defs.resources import Warehouse
from pipelines.settings import WAREHOUSE_POOL
from pipelines.warehouse.coverage import month_summary, rebuild_coverage

COVERAGE_KEY = AssetKey(["core", "telemetry_coverage"])


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

"""Which months are due: the monthly SQL models, and the planner that reads from the
warehouse alone which months a load left older than their builds. `census run` and the
sensor after an ingest run both ask it, so it sits below both (and below the
Definitions the sensor belongs to)."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.assets.telemetry import telemetry_coverage
from pipelines.jobs import INGEST_ASSETS
from pipelines.settings import PROJECT_ROOT
from pipelines.sql_graph import load_models
from pipelines.warehouse.coverage import COVERAGE_TABLE

MODELS_DIR = PROJECT_ROOT / "dbt_like_sql"
# Tables the SQL models may read, and the assets that produce them.
SOURCES = {".".join(key.path): key for asset in [*INGEST_ASSETS, telemetry_coverage]
           for key in asset.keys}
MONTHLY_MODELS = [m.table for m in load_models(MODELS_DIR, SOURCES) if m.monthly]


def partition_range_tags(months: list[dt.date]) -> dict[str, str]:
    """Run tags for one run over the month partitions from the first to the last."""
    return {"dagster/asset_partition_range_start": months[0].isoformat(),
            "dagster/asset_partition_range_end": months[-1].isoformat()}


def months_to_rebuild(con: duckdb.DuckDBPyConnection, models: list[str]) -> list[dt.date]:
    """Months (China time) to rebuild: each month with telemetry that the coverage or a
    monthly model (`models`) never built, or whose oldest build predates a telemetry load
    of the month or the load of a register row as of the month's last day or earlier (a
    month's register state is the one on its last day: a later as-of cannot change it);
    and, for each, the month a year later (its 12-month growth). From the warehouse alone,
    not from one run: a run killed between its ingest and its rebuild leaves its months
    due for the next. A range covers them all."""
    rows = con.execute("""
        WITH covered AS (
            SELECT DISTINCT CAST(date_trunc('month', hour_start AT TIME ZONE
                                            'Asia/Shanghai') AS DATE) AS month
            FROM core.telemetry_hourly),
        builds AS (
            SELECT c.month, max(b.built_at) AS built_at
            FROM covered c CROSS JOIN (SELECT unnest($models) AS model) m
            LEFT JOIN audit.model_builds b ON b.month = c.month AND b.model = m.model
            GROUP BY c.month, m.model),
        register_loads AS (  -- a register row as of d changes the state from d on
            SELECT source_file AS file_name, sha256, min(as_of) AS first_as_of
            FROM core.register_rows GROUP BY ALL),
        built AS (  -- NULL when one of them never built the month
            SELECT month, CASE WHEN count(built_at) = count(*) THEN min(built_at) END AS built_at
            FROM builds GROUP BY month),
        due AS (
            SELECT month FROM built
            WHERE built_at IS NULL
               OR built_at < (SELECT max(l.finished_at) FROM audit.ingestion_log l
                        JOIN register_loads r ON r.file_name = l.file_name
                                             AND r.sha256 = l.sha256
                        WHERE l.status = 'loaded' AND r.first_as_of <= last_day(built.month))
               OR built_at < (SELECT max(loaded_at) FROM audit.telemetry_loads l
                        WHERE l.month = built.month))
        SELECT month FROM due
        UNION SELECT CAST(month + INTERVAL 12 MONTH AS DATE) FROM due
        WHERE CAST(month + INTERVAL 12 MONTH AS DATE) IN (SELECT month FROM covered)
        ORDER BY 1""", {"models": [COVERAGE_TABLE, *models]}).fetchall()
    return [row[0] for row in rows]

"""The one path from landed files to the published warehouse: `ingest` (register and
telemetry), then `monthly` over the months due, then `publish`. `next_run` says which run
follows a successful one; `census run` runs its answers in-process and the `chain_runs`
sensor turns them into run requests, so the daemon runs what the CLI runs. Which months
are due, and by which models, is read from the warehouse alone (`builds_due`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
from dagster import AssetKey

from pipelines.defs.ingest.jobs import ingest_job
from pipelines.defs.models.jobs import monthly_job
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.partitions import months_built
from pipelines.defs.publish.jobs import publish_job
from pipelines.defs.resources import Warehouse
from pipelines.sql_graph import SqlModel, in_dependency_order


@dataclass(frozen=True)
class PlannedRun:
    job_name: str
    months: tuple[dt.date, ...] = ()  # the months a `monthly` run rebuilds, in order
    models: tuple[str, ...] = ()  # the tables it rebuilds where not all: due, downstream

    @property
    def tags(self) -> dict[str, str]:
        return partition_range_tags(list(self.months)) if self.months else {}

    @property
    def asset_selection(self) -> list[AssetKey] | None:
        """The run's assets where it runs a part of its job (None: all of them)."""
        return [AssetKey(table.split(".")) for table in self.models] or None


# Every chain starts with an ingest: `census run`, the landing sensor, the daily refresh.
INGEST = PlannedRun(ingest_job.name)


def next_run(warehouse: Warehouse, finished_job: str) -> PlannedRun | None:
    """The run that follows a successful run of `finished_job`: after `ingest`, `monthly`
    over the months due, or `publish` when none is; after `monthly`, `publish`; after
    `publish`, none. The build copy is read only after an ingest, so deciding to publish
    never waits for a writer."""
    if finished_job == ingest_job.name:
        models = in_dependency_order(sql_models())  # read once: what is due, what reads it
        with warehouse.build_reader() as con:
            due = builds_due(con, monthly_models(models))
        if not due:
            return PlannedRun(publish_job.name)
        # One run over the range of the months due covers them all.
        return PlannedRun(monthly_job.name, tuple(sorted({month for month, _ in due})),
                          _with_downstream(models, {model for _, model in due}))
    if finished_job == monthly_job.name:
        return PlannedRun(publish_job.name)
    return None


def monthly_models(models: list[SqlModel] | None = None) -> list[str]:
    """The tables of the monthly SQL models of `models` (default: CENSUS_MODELS_DIR's)."""
    return [m.table for m in (sql_models() if models is None else models) if m.monthly]


def _with_downstream(models: list[SqlModel], tables: set[str]) -> tuple[str, ...]:
    """The `models` (in dependency order) of `tables` and every one downstream of them;
    none where every monthly model is due (a run of the whole job, which builds any
    unpartitioned model too)."""
    if set(monthly_models(models)) <= tables:
        return ()
    chosen: list[str] = []
    reached: set[AssetKey] = set()
    for model in models:
        if model.table in tables or reached.intersection(model.deps):
            chosen.append(model.table)
            reached.add(model.key)
    return tuple(chosen)


def partition_range_tags(months: list[dt.date]) -> dict[str, str]:
    """Run tags for one run over the month partitions from the first to the last."""
    return {"dagster/asset_partition_range_start": months[0].isoformat(),
            "dagster/asset_partition_range_end": months[-1].isoformat()}


def builds_due(con: duckdb.DuckDBPyConnection,
               models: list[str]) -> list[tuple[dt.date, str]]:
    """(month, model) of each month (China time) with telemetry that a monthly model
    (`models`) never built, or built before a telemetry load of the month or the load of
    a register row as of the month's last day or earlier (a month's register state is the
    one on its last day: a later as-of cannot change it); and the same model's month a
    year later (its 12-month growth). From the warehouse alone, not from one run: a run
    killed between its ingest and its rebuild leaves its months due for the next."""
    rows = con.execute("""
        WITH covered AS (
            SELECT DISTINCT china_month(hour_start) AS month
            FROM core.telemetry_hourly),
        built AS (  -- each model's last build of each month; NULL: never built
            SELECT c.month, m.model, max(b.built_at) AS built_at
            FROM covered c CROSS JOIN (SELECT unnest($models) AS model) m
            LEFT JOIN audit.model_builds b ON b.month = c.month AND b.model = m.model
            GROUP BY c.month, m.model),
        register_loads AS (  -- a register row as of d changes the state from d on
            SELECT source_file AS file_name, sha256, min(as_of) AS first_as_of
            FROM core.register_rows GROUP BY ALL),
        due AS (
            SELECT month, model FROM built
            WHERE built_at IS NULL
               OR built_at < (SELECT max(l.finished_at) FROM audit.ingestion_log l
                        JOIN register_loads r ON r.file_name = l.file_name
                                             AND r.sha256 = l.sha256
                        WHERE l.status = 'loaded' AND r.first_as_of <= last_day(built.month))
               OR built_at < (SELECT max(loaded_at) FROM audit.telemetry_loads l
                        WHERE l.month = built.month))
        SELECT month, model FROM due
        UNION SELECT CAST(month + INTERVAL 12 MONTH AS DATE), model FROM due
        WHERE CAST(month + INTERVAL 12 MONTH AS DATE) IN (SELECT month FROM covered)
        ORDER BY 1, 2""", {"models": models}).fetchall()
    # A month the partitions do not hold (telemetry dated before the first, or after the
    # current month) no run can build: were it due, it would fail every run after it.
    first, last = months_built()
    return [(month, model) for month, model in rows if first <= month <= last]

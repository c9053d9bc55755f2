"""Sensors: files landing start the ingest; a finished ingest rebuilds the months it
touched; a failed run is recorded in the warehouse and mailed to the engineers."""

import datetime as dt

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)

from pipelines.arrivals import Arrivals, batch_key, batch_tags
from pipelines.export.delivery import Mailer
from pipelines.failures import describe, record_failure
from pipelines.jobs import ingest_job, publish_job, rebuild_months_job
from pipelines.planner import MONTHLY_MODELS, months_to_rebuild, partition_range_tags
from pipelines.resources import Landing, Warehouse


@sensor(job=ingest_job, minimum_interval_seconds=10, default_status=DefaultSensorStatus.RUNNING,
        description="New register workbooks and telemetry exports in the landing folder start "
                    "one ingest run together; a file whose bytes the warehouse has attempted "
                    "(audit.ingestion_log) never starts one.")
def landing_arrivals(context: SensorEvaluationContext, landing: Landing,
                     warehouse: Warehouse) -> SensorResult:
    arrivals = Arrivals.from_cursor(context.cursor)
    arrivals.settle(landing.paths())
    if not arrivals.waiting:
        return SensorResult(cursor=arrivals.cursor())
    attempted = warehouse.attempted_now()
    if attempted is None:
        return SensorResult(skip_reason=SkipReason(
            f"{len(arrivals.waiting)} new file(s) wait: a run is writing the warehouse"),
            cursor=arrivals.cursor())
    new = arrivals.take_new(attempted)
    requests = [RunRequest(run_key=batch_key(new), tags=batch_tags(new))] if new else []
    return SensorResult(run_requests=requests, cursor=arrivals.cursor())


@run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=[ingest_job],
                   request_jobs=[rebuild_months_job, publish_job],
                   default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=10,
                   description="After an ingest run, rebuild the first monthly assets for the "
                               "months it touched (the marts follow by automation), or "
                               "publish when it touched none.")
def rebuild_touched_months(context: RunStatusSensorContext,
                           warehouse: Warehouse) -> RunRequest | SkipReason:
    run_id = context.dagster_run.run_id
    with warehouse.build_reader() as con:
        months = months_to_rebuild(con, MONTHLY_MODELS)
    if not months:
        return RunRequest(run_key=f"publish-{run_id}", job_name=publish_job.name)
    return RunRequest(run_key=f"months-{run_id}", job_name=rebuild_months_job.name,
                      tags={**partition_range_tags(months), "census/ingest_run": run_id})


@run_failure_sensor(default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=10,
                    description="Record every failed run (run id, asset, reason) in "
                                "audit.run_failures and mail CENSUS_ALERT_RECIPIENTS.")
def run_failures(context: RunFailureSensorContext, warehouse: Warehouse,
                 mailer: Mailer) -> None:
    failure = describe(context.dagster_run, context.get_step_failure_events(),
                       context.failure_event.message or "")
    record_failure(failure, warehouse, mailer, dt.datetime.now(dt.UTC))
    context.log.info(f"recorded failure of run {failure.run_id}: {failure.reason}")

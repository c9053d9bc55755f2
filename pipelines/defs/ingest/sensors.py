"""Sensors: files landing start the ingest; a finished ingest or monthly run starts the
run the planner names next (the runs `census run` makes); a failed run is recorded in the
warehouse and mailed to the engineers."""

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
from pipelines.jobs import ingest_job, monthly_job, publish_job
from pipelines.planner import next_run
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


@run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=[ingest_job, monthly_job],
                   request_jobs=[monthly_job, publish_job],
                   default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=10,
                   description="After an ingest run (the landing sensor's, the daily "
                               "refresh's), rebuild the months due, or publish when none "
                               "is; after a monthly run, publish. The planner's runs, as "
                               "census run makes them.")
def chain_runs(context: RunStatusSensorContext,
               warehouse: Warehouse) -> RunRequest | SkipReason:
    finished = context.dagster_run
    planned = next_run(warehouse, finished.job_name)
    if planned is None:
        return SkipReason(f"nothing follows {finished.job_name}")
    return RunRequest(run_key=f"{planned.job_name}-after-{finished.run_id}",
                      job_name=planned.job_name, tags=planned.tags)


# Not Dagster's make_email_on_run_failure_sensor: it always speaks SSL or STARTTLS and logs
# in, which fails on a server offering neither (a local relay, the tests' loopback server).
@run_failure_sensor(default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=10,
                    description="Record every failed run (run id, asset, reason) in "
                                "audit.run_failures and mail CENSUS_ALERT_RECIPIENTS.")
def run_failures(context: RunFailureSensorContext, warehouse: Warehouse,
                 mailer: Mailer) -> None:
    failure = describe(context.dagster_run, context.get_step_failure_events(),
                       context.failure_event.message or "")
    record_failure(failure, warehouse, mailer, dt.datetime.now(dt.UTC))
    context.log.info(f"recorded failure of run {failure.run_id}: {failure.reason}")

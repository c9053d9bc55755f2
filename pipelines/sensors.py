"""Sensors: files landing start the ingest; a finished ingest rebuilds the months it
touched; a failed run is recorded in the warehouse and mailed to the engineers."""

import datetime as dt
import json
import time

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

from pipelines.failures import describe, record_failure
from pipelines.ingest.files import sha256_of
from pipelines.jobs import ingest_job, publish_job, rebuild_months_job
from pipelines.resources import Landing, Mailer, Warehouse
from pipelines.runs import months_to_rebuild, partition_range_tags

# A file younger than this may still be being copied in; it waits for the next tick.
SETTLE_SECONDS = 5.0


@sensor(job=ingest_job, minimum_interval_seconds=10, default_status=DefaultSensorStatus.RUNNING,
        description="A new register workbook or telemetry export in the landing folder starts "
                    "the ingest job; the run key is the file's SHA-256, so the same bytes never "
                    "start two runs.")
def landing_arrivals(context: SensorEvaluationContext, landing: Landing) -> SensorResult:
    # The cursor maps each file to size:mtime:sha256, so unchanged files are not re-hashed.
    known: dict[str, str] = json.loads(context.cursor or "{}")
    seen: dict[str, str] = {}
    requests = []
    for path, file_name in landing.paths():
        stat = path.stat()
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        previous = known.get(file_name)
        if previous and previous.rpartition(":")[0] == stamp:
            seen[file_name] = previous
            continue
        if time.time() - stat.st_mtime < SETTLE_SECONDS:
            continue
        sha = sha256_of(path)
        seen[file_name] = f"{stamp}:{sha}"
        requests.append(RunRequest(run_key=sha, tags={"census/file": file_name}))
    return SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))


@run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=[ingest_job],
                   request_jobs=[rebuild_months_job, publish_job],
                   default_status=DefaultSensorStatus.RUNNING, minimum_interval_seconds=10,
                   description="After an ingest run, rebuild the first monthly assets for the "
                               "months it touched (the marts follow by automation), or "
                               "publish when it touched none.")
def rebuild_touched_months(context: RunStatusSensorContext,
                           warehouse: Warehouse) -> RunRequest | SkipReason:
    from pipelines.definitions import MONTHLY_MODELS

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

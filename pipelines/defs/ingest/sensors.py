"""The landing sensor: files landing start the ingest."""

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from pipelines.arrivals import Arrivals, batch_key, batch_tags
from pipelines.defs.ingest.jobs import ingest_job
from pipelines.defs.resources import Landing, Warehouse
from pipelines.settings import SENSOR_INTERVAL_SECONDS


@sensor(job=ingest_job, minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
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

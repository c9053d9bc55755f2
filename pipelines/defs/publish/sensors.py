"""chain_runs: a finished ingest or monthly run starts the run the planner names next
(the runs `census run` makes)."""

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    SkipReason,
    run_status_sensor,
)

from pipelines.defs.ingest.jobs import ingest_job
from pipelines.defs.models.jobs import monthly_job
from pipelines.defs.publish.jobs import publish_job
from pipelines.defs.resources import Warehouse
from pipelines.planner import next_run
from pipelines.settings import SENSOR_INTERVAL_SECONDS


@run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=[ingest_job, monthly_job],
                   request_jobs=[monthly_job, publish_job],
                   default_status=DefaultSensorStatus.RUNNING,
                   minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
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
                      job_name=planned.job_name, tags=planned.tags,
                      asset_selection=planned.asset_selection)

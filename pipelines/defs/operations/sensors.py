"""run_failures: a failed run is recorded in the warehouse and mailed to the engineers."""

import datetime as dt

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from pipelines.defs.resources import Warehouse
from pipelines.export.delivery import Mailer
from pipelines.failures import describe, record_failure
from pipelines.settings import SENSOR_INTERVAL_SECONDS


# Not Dagster's make_email_on_run_failure_sensor: it always speaks SSL or STARTTLS and logs
# in, which fails on a server offering neither (a local relay, the tests' loopback server).
@run_failure_sensor(default_status=DefaultSensorStatus.RUNNING,
                    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
                    description="Record every failed run (run id, asset, reason) in "
                                "audit.run_failures and mail CENSUS_ALERT_RECIPIENTS.")
def run_failures(context: RunFailureSensorContext, warehouse: Warehouse,
                 mailer: Mailer) -> None:
    failure = describe(context.dagster_run, context.get_step_failure_events(),
                       context.failure_event.message or "")
    record_failure(failure, warehouse, mailer, dt.datetime.now(dt.UTC))
    context.log.info(f"recorded failure of run {failure.run_id}: {failure.reason}")

"""The monthly ministry export's schedule."""

import datetime as dt

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    schedule,
)

from pipelines.defs.exports.jobs import export_job
from pipelines.settings import CHINA_TIME


@schedule(cron_schedule="0 9 5 * *", execution_timezone=CHINA_TIME, job=export_job,
          default_status=DefaultScheduleStatus.RUNNING,
          description="On the 5th of each month at 09:00 China time, export the previous "
                      "month.")
def monthly_export(context: ScheduleEvaluationContext) -> RunRequest:
    month = previous_month(context.scheduled_execution_time.date())
    return RunRequest(run_key=f"export-{month:%Y-%m}", partition_key=month.isoformat())


def previous_month(day: dt.date) -> dt.date:
    first = day.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)

"""Schedules: the daily refresh and the monthly ministry export."""

import datetime as dt

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)

from pipelines.jobs import export_job, ingest_job

daily_refresh = ScheduleDefinition(
    name="daily_refresh", job=ingest_job, cron_schedule="0 6 * * *",
    execution_timezone="Asia/Shanghai", default_status=DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 China time, ingest whatever the sensor has not (files "
                "copied in with old dates, a sensor that was off); chain_runs then starts the "
                "monthly rebuild and the publish, as after any ingest.")


@schedule(cron_schedule="0 9 5 * *", execution_timezone="Asia/Shanghai", job=export_job,
          default_status=DefaultScheduleStatus.RUNNING,
          description="On the 5th of each month at 09:00 China time, export the previous "
                      "month.")
def monthly_export(context: ScheduleEvaluationContext) -> RunRequest:
    month = previous_month(context.scheduled_execution_time.date())
    return RunRequest(run_key=f"export-{month:%Y-%m}", partition_key=month.isoformat())


def previous_month(day: dt.date) -> dt.date:
    first = day.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1)

"""The daily refresh: the ingest every morning."""

from dagster import DefaultScheduleStatus, ScheduleDefinition

from pipelines.defs.ingest.jobs import ingest_job
from pipelines.settings import CHINA_TIME

daily_refresh = ScheduleDefinition(
    name="daily_refresh", job=ingest_job, cron_schedule="0 6 * * *",
    execution_timezone=CHINA_TIME, default_status=DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 China time, ingest whatever the sensor has not (files "
                "copied in with old dates, a sensor that was off); chain_runs then starts the "
                "monthly rebuild and the publish, as after any ingest.")

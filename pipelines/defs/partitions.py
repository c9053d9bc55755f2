"""The one partitioning of census: calendar months."""

from dagster import MonthlyPartitionsDefinition

from pipelines.settings import CHINA_TIME

# Calendar months in China time (contract §3); a partition key is the month's first day.
MONTHS = MonthlyPartitionsDefinition(start_date="2020-01-01", timezone=CHINA_TIME,
                                     end_offset=1)

"""The one partitioning of census: calendar months."""

import datetime as dt

from dagster import MonthlyPartitionsDefinition

from pipelines.settings import CHINA_TIME

# Calendar months in China time (contract §3); a partition key is the month's first day.
MONTHS = MonthlyPartitionsDefinition(start_date="2020-01-01", timezone=CHINA_TIME,
                                     end_offset=1)


def months_built() -> tuple[dt.date, dt.date]:
    """The first and the last month census builds (the current one, China time): the
    partitions' first and last, asked once rather than of each month (a key's test
    costs Dagster 0.7 ms)."""
    return (dt.date.fromisoformat(MONTHS.get_first_partition_key()),
            dt.date.fromisoformat(MONTHS.get_last_partition_key()))

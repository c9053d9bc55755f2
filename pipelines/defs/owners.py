"""Owners and freshness for the UI: who answers for each asset, and when the marts are
late. (Which runs follow which is the planner's: pipelines/planner.py.)"""

import datetime as dt

from dagster import FreshnessPolicy

ENGINEERS = "team:data-engineering"
ANALYSTS = "team:analytics"

# Telemetry arrives in monthly exports; marts more than five weeks old mean a month was
# missed.
MART_FRESHNESS = FreshnessPolicy.time_window(fail_window=dt.timedelta(days=40),
                                             warn_window=dt.timedelta(days=35))

"""From an export's checked rows to its hours, as SQL either engine runs: the samples
nothing was found in, conflicting copies out and identical ones once
(telemetry_conflicts.sql), and the hourly means (telemetry_hours.sql)."""

from __future__ import annotations

from pipelines.ingest.ingest_sql import transform
from schemas.telemetry import MEASURES

CONFLICTS_SQL = transform("telemetry_conflicts")
HOURS_SQL = transform("telemetry_hours")
MEASURE_COLUMNS = ", ".join(MEASURES)
# Of a key's identical copies, the first in the file is kept.
FIRST_COPY = "row_number() OVER (PARTITION BY centre_id, ts ORDER BY source_row) = 1"


def clean_samples_sql(checked: str) -> str:
    """The samples of the rows of `checked` (telemetry_rules.sql's output) nothing was
    found in."""
    return f"""SELECT source_row, centre_id, ts, {MEASURE_COLUMNS}, known FROM {checked}
        WHERE array_length(findings) = 0"""


def conflicts_sql(sent_samples: str) -> str:
    """The keys the samples of the query `sent_samples` send with different samples."""
    return f"WITH sent_samples AS ({sent_samples}\n) SELECT * FROM ({CONFLICTS_SQL}\n)"


def hours_sql(hour_samples: str) -> str:
    """The hourly means of the samples of the query `hour_samples`."""
    return f"WITH hour_samples AS ({hour_samples}\n) SELECT * FROM ({HOURS_SQL}\n)"


def settled_hours_sql(checked: str) -> str:
    """The hours of the registered centres' samples of `checked`, each key once: what
    the warehouse's ingestion makes of them step by step (telemetry_load.py)."""
    samples = clean_samples_sql(checked)
    return hours_sql(f"""
        WITH samples AS ({samples}),
             conflicts AS ({conflicts_sql("SELECT * FROM samples")})
        SELECT * FROM samples ANTI JOIN conflicts USING (centre_id, ts)
        WHERE known
        QUALIFY {FIRST_COPY}""")

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
HOUR_US = 3_600_000_000
# Whether every sample's ts is on the hour (TRUE where there is none).
ALL_ON_THE_HOUR = f"coalesce(bool_and(epoch_us(ts) % {HOUR_US} = 0), TRUE)"


def clean_samples_sql(checked: str) -> str:
    """The samples of the rows of `checked` (telemetry_rules.sql's output) nothing was
    found in."""
    return f"""SELECT source_row, centre_id, ts, {MEASURE_COLUMNS}, known FROM {checked}
        WHERE array_length(findings) = 0"""


def conflicts_sql(sent_samples: str) -> str:
    """The keys the samples of the query `sent_samples` send with different samples."""
    return f"WITH sent_samples AS ({sent_samples}\n) SELECT * FROM ({CONFLICTS_SQL}\n)"


def hours_sql(hour_samples: str, one_sample_per_hour: bool = False) -> str:
    """The hourly means of the samples of the query `hour_samples`. With
    `one_sample_per_hour` (every ts on the hour, no key twice) each sample is its hour's
    mean, and the aggregation is skipped."""
    if one_sample_per_hour:
        return f"""SELECT centre_id, ts AS hour_start, {MEASURE_COLUMNS},
                          CAST(1 AS BIGINT) AS samples
                   FROM ({hour_samples})"""
    return f"WITH hour_samples AS ({hour_samples}\n) SELECT * FROM ({HOURS_SQL}\n)"


def shape_sql(samples: str, by: str | None = None) -> str:
    """Of the samples of the query `samples`: whether a key (centre_id, ts) is sent
    twice (`sent_twice`), and whether every ts is on the hour (`on_the_hour`). With `by`
    (an expression of centre_id), of each of its values (`shape_of`)."""
    key, group = (f"{by} AS shape_of, ", f" GROUP BY {by}") if by else ("", "")
    return f"""SELECT {key}coalesce(max(copies) > 1, FALSE) AS sent_twice,
                      {ALL_ON_THE_HOUR} AS on_the_hour
               FROM (SELECT centre_id, ts, count(*) AS copies FROM ({samples})
                     GROUP BY centre_id, ts){group}"""


def settled_hours_sql(checked: str, sent_twice: bool = True,
                      on_the_hour: bool = False) -> str:
    """The hours of the registered centres' samples of `checked`, each key once: what
    the warehouse's ingestion makes of them step by step (telemetry_load.py). Where
    `shape_sql` of its clean samples found no key sent twice, the conflicts and copies
    are not sought."""
    samples = clean_samples_sql(checked)
    if not sent_twice:
        return hours_sql(f"SELECT * FROM ({samples}) WHERE known",
                         one_sample_per_hour=on_the_hour)
    return hours_sql(f"""
        WITH samples AS ({samples}),
             conflicts AS ({conflicts_sql("SELECT * FROM samples")})
        SELECT * FROM samples ANTI JOIN conflicts USING (centre_id, ts)
        WHERE known
        QUALIFY {FIRST_COPY}""")

"""The warehouse's macros: definitions its SQL (the models, the coverage, the export, the
telemetry transforms) and analysts' queries share. The migrations create them."""

from __future__ import annotations

import duckdb

from pipelines.settings import CHINA_TIME

# Each macro: its name, its parameter, its body (DuckDB's SQL) and what it gives.
Macro = tuple[str, str, str, str]

# The one definition of a China month's bounds. Comparing hour_start with a month's
# bounds (constants once $month is bound) lets DuckDB skip the other months by their
# min/max indexes; converting every hour to China time would not.
CHINA_TIME_MACROS: tuple[Macro, ...] = (
    ("china_time", "instant", f"timezone('{CHINA_TIME}', instant)",
     "The China-time wall clock (TIMESTAMP) of an instant (TIMESTAMPTZ)"),
    ("china_instant", "china_clock", f"timezone('{CHINA_TIME}', china_clock)",
     "The instant (TIMESTAMPTZ) of a China-time wall clock (TIMESTAMP)"),
    ("china_month", "instant", "CAST(date_trunc('month', china_time(instant)) AS DATE)",
     "The first day of an instant's month in China time"),
    ("china_month_start", "month", "china_instant(CAST(month AS TIMESTAMP))",
     "The first instant of a month (its first day) in China time"),
    ("china_month_end", "month", "china_instant(CAST(month AS TIMESTAMP) + INTERVAL 1 MONTH)",
     "The first instant after a month (its first day) in China time"),
)

# The one definition of a sum behind a published figure. DuckDB adds doubles in whatever
# order its threads meet the rows; whole numbers of 10^-12 add up the same in any order,
# so a rebuild gives the same bits. The value is that of
# CAST(sum(CAST(x AS DECIMAL(38, 12))) AS DOUBLE) for a DOUBLE x, which Spark runs: DuckDB's
# cast rounds x·10^12 half away from zero, as round() does, into the decimal's 128-bit
# integer (the decimal cast costs 1.5 times the cast to HUGEINT); the integers' sum, times
# 10^-12, is that decimal sum, made a double the same way. Any other x is taken as a DOUBLE.
EXACT_SUM: Macro = (
    "exact_sum", "x",
    "CAST(CAST(sum(CAST(round(CAST(x AS DOUBLE) * 1e12) AS HUGEINT)) AS DECIMAL(38, 0)) "
    "* 0.000000000001 AS DOUBLE)",
    "The sum of a column's values as DOUBLEs, each rounded to 12 decimal places and added "
    "exactly (the same bits in any order of addition); NULL where there are none")


def create_macros(con: duckdb.DuckDBPyConnection, macros: tuple[Macro, ...],
                  temporary: bool = False) -> None:
    """The macros in the warehouse, with their comments, or `temporary`, on this
    connection alone (the ingestion's transforms run on connections without a warehouse
    too)."""
    for name, parameter, body, about in macros:
        con.execute(f"CREATE OR REPLACE {'TEMP ' if temporary else ''}MACRO {name}({parameter}) "
                    f"AS {body}")
        if not temporary:
            con.execute(f"COMMENT ON MACRO {name} IS $${about}$$")

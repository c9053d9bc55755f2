"""The hours Spark writes to the lake (CENSUS_ENGINE=spark), as a pandera schema on
pyspark: the columns and types the warehouse's core.telemetry_hourly reads, each hour's
key present and at least one sample in it. Its own module: the embedded engine does not
load pyspark."""

from __future__ import annotations

import sys

# pyspark's own test of whether Spark Connect's requirements are all installed.
from pyspark.testing.utils import should_test_connect

# Without them, pyspark's Spark Connect client (census runs classic Spark) cannot load;
# where the main module has no file (pytest-xdist's workers) it ends the process instead
# of raising ImportError. Marked missing, it raises ImportError, and pandera, which tries
# it, validates classic DataFrames alone, as in any other process.
if not should_test_connect:
    sys.modules.setdefault("pyspark.sql.connect", None)

import pandera.pyspark as pa
import pyspark.sql.types as T

from schemas.telemetry import MEASURES

TELEMETRY_HOURS = pa.DataFrameSchema(
    {
        "centre_id": pa.Column(T.StringType(), nullable=False),
        "hour_start": pa.Column(T.TimestampType(), nullable=False),
        **{measure: pa.Column(T.DoubleType(), nullable=True) for measure in MEASURES},
        "samples": pa.Column(T.LongType(), pa.Check.ge(1), nullable=False),
    },
    name="telemetry hours",
    strict=True,
)
# Its columns and types alone: validating them runs no Spark job (pyspark's backend runs
# one for each check and each column that may not hold NULLs).
TELEMETRY_HOUR_TYPES = TELEMETRY_HOURS.update_columns(
    {name: {"nullable": True, "checks": []} for name in TELEMETRY_HOURS.columns})


def spark_struct(schema: pa.DataFrameSchema) -> T.StructType:
    """The schema's columns as Spark's StructType (to read Parquet files with)."""
    return T.StructType([T.StructField(name, column.dtype.type, column.nullable)
                         for name, column in schema.columns.items()])


def schema_errors(validated: object) -> list[str]:
    """What pandera found in a DataFrame it validated, one line per failure: column and
    check (pyspark's backend reports per column, not per row)."""
    report = validated.pandera.errors  # type: ignore[attr-defined]
    return [f"{error['column']}: {error['error']}"
            for kinds in report.values() for errors in kinds.values() for error in errors]

"""The Spark session census runs on: one per process, on CENSUS_SPARK_MASTER."""

from __future__ import annotations

import itertools
from pathlib import Path

from pyspark.sql import SparkSession

from pipelines.spark import SparkError, local_cores

# Numbers the temporary views of the process's session, so that no two uses share one.
_VIEWS = itertools.count()

# Each setting's reason: instants in UTC, as the warehouse stores them; timestamps in
# Parquet as DuckDB reads them (not INT96); nanosecond times in an export read as numbers
# (Spark refuses them otherwise; the export's reader makes them times); no web UI or
# progress bars in a batch job; GB18030 and the other charsets of the contract, which
# Spark 4 refuses without the legacy list; Spark's own log from the start, errors only;
# SQL text taken as written (Spark would otherwise replace ${env:…} and ${system:…} in
# it, a landing file's name among the literals).
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.legacy.parquet.nanosAsLong": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.legacy.javaCharsets": "true",
    "spark.log.level": "ERROR",
    "spark.sql.variable.substitute": "false",
}


def spark_session(master: str, lake: Path) -> SparkSession:
    """The process's session on `master` (`local[2]`, `spark://…`, `k8s://…`, `yarn`),
    started at the first call, its catalog's default folder in the `lake`."""
    builder = (SparkSession.builder.appName("census").master(master)
               .config("spark.sql.warehouse.dir", str(lake)))
    for key, value in SETTINGS.items():
        builder = builder.config(key, value)
    if cores := local_cores(master):
        # A shuffle in as many parts as there are cores, not Spark's 200 (a cluster's
        # default): on one machine, 200 tasks a shuffle cost more than the rows.
        builder = builder.config("spark.sql.shuffle.partitions", str(cores))
    try:
        return builder.getOrCreate()
    except Exception as exc:  # py4j's and pyspark's errors alike
        # Java's own message where there is one: py4j's first line names only the call.
        text = str(getattr(exc, "java_exception", None) or exc).strip() or type(exc).__name__
        raise SparkError(f"Spark did not start on CENSUS_SPARK_MASTER={master}: "
                         f"{text.splitlines()[0]}") from None


def view_name(prefix: str) -> str:
    """A name for a temporary view that no other view of the session has."""
    return f"{prefix}_{next(_VIEWS)}"

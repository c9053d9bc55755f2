"""The Spark session census runs on: one per process, on CENSUS_SPARK_MASTER."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

# Each setting's reason: instants in UTC, as the warehouse stores them; timestamps in
# Parquet as DuckDB reads them (not INT96); no web UI or progress bars in a batch job;
# GB18030 and the other charsets of the contract, which Spark 4 refuses without the
# legacy list.
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.legacy.javaCharsets": "true",
}


def spark_session(master: str, lake: Path) -> SparkSession:
    """The process's session on `master` (`local[2]`, `spark://…`, `k8s://…`, `yarn`),
    started at the first call, its catalog's default folder in the `lake`."""
    builder = (SparkSession.builder.appName("census").master(master)
               .config("spark.sql.warehouse.dir", str(lake)))
    for key, value in SETTINGS.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session

"""The Spark engine (CENSUS_ENGINE=spark): the same SQL models, transpiled by sqlglot from
DuckDB's dialect, run by Spark over a month-partitioned lake of Parquet tables
(CENSUS_LAKE_DIR); the published DuckDB warehouse is loaded from the lake's tables."""


class SparkError(Exception):
    """Spark failed to build a model or to read an export, not for the export's fault;
    the message is Spark's, its first line. It fails the step: the export is tried again
    by the next run."""

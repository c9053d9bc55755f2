"""The Spark engine (CENSUS_ENGINE=spark): the same SQL models, transpiled by sqlglot from
DuckDB's dialect, run by Spark over a month-partitioned lake of Parquet tables
(CENSUS_LAKE_DIR); the published DuckDB warehouse is loaded from the lake's tables."""

import os
import re


class SparkError(Exception):
    """Spark failed to build a model or to read an export, not for the export's fault;
    the message is Spark's, its first line. It fails the step: the export is tried again
    by the next run."""


def local_cores(master: str) -> int:
    """The cores of Spark's local mode (`local`, `local[N]`, `local[*]`); 0 for a
    cluster's master, whose executors' cores are not known here."""
    if master == "local":
        return 1
    local = re.fullmatch(r"local\[(\d+|\*)\]", master)
    if not local:
        return 0
    return (os.cpu_count() or 1) if local.group(1) == "*" else int(local.group(1))

"""Telemetry exports read and checked by Spark: an export's rows as Spark reads them
(CSV, JSON lines, Parquet; the file prepared as for DuckDB: decompressed, checked,
transcoded to UTF-8), the SQL transforms of dbt_like_sql/ingest/ transpiled, and its
samples with their findings written by Spark into the lake, from where the warehouse's
ingestion goes on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.ingest.export_opener import Checked
from pipelines.ingest.hours_sql import clean_samples_sql, settled_hours_sql, shape_sql
from pipelines.ingest.telemetry import (
    SAMPLES_SQL,
    ExportRejected,
    checks_sql,
    column_map,
    export_params,
    export_text_sql,
)
from pipelines.ingest.telemetry_readers import Export, ExportUnreadable, first_line
from pipelines.spark import SparkError
from pipelines.spark.dialect import to_spark
from schemas.telemetry_lake import TELEMETRY_HOUR_TYPES, schema_errors

if TYPE_CHECKING:  # pandera's pyspark API is loaded through schemas.telemetry_lake
    import pandera.pyspark as pa

# The types the transforms' input tells apart (export_text_sql), Spark's typeName by
# DuckDB's name: text, times with or without their zone, and floating-point numbers
# (whose text Java writes otherwise). Any other is read as its text.
_DUCKDB_TYPES = {"string": "VARCHAR", "timestamp": "TIMESTAMP WITH TIME ZONE",
                 "timestamp_ntz": "TIMESTAMP", "double": "DOUBLE", "float": "FLOAT"}
# Spark's conditions for a file it cannot read. Any other failure is Spark's own (a lost
# executor, a full disk, a fault in census), which must not reject the file for good.
_UNREADABLE = ("FAILED_READ_FILE", "CANNOT_READ_FILE", "MALFORMED_RECORD", "PARQUET_")
_WHOLE_STAGE = "spark.sql.codegen.wholeStage"
# Spark numbers a partition's rows from (partition << 33) (monotonically_increasing_id).
_PARTITION_SHIFT = 33


def check_in_spark(spark: SparkSession, export: Export, file_name: str,
                   folder: Path, hours_folder: Path) -> Checked:
    """Every row of the export with its sample and findings (telemetry_rules.sql's
    output) → Parquet in `folder`, and the hours of its registered centres' samples
    (`settled_hours_sql`) → Parquet in `hours_folder`, written by Spark. Returns the rows
    read, whether a key is sent twice, and the export's rejection where the embedded
    engine's ingestion would reject it; raises SparkError where Spark failed otherwise.
    Safe in threads of their own, one export each."""
    rows_read, sent_twice = 0, True
    try:
        # A session of the check's own (the context's and the catalog's, with views and
        # settings of its own): threads check other exports meanwhile.
        session = spark.newSession()
        cells = read_export(session, export)
        columns = _header(cells, export)
        # The file's columns by position: its header text never enters the SQL.
        typed = {f"c{n}": _DUCKDB_TYPES.get(field.dataType.typeName(), "OTHER")
                 for n, field in enumerate(cells.schema.fields, start=1)}
        nanos: dict[str, str] = {}
        if export.form == "parquet":
            footer = pq.ParquetFile(export.path).schema  # read once for both
            nanos = nanosecond_columns(footer)
            typed |= _int96_columns(footer) | nanos
        cells, rows_read = _numbered(nanos_as_times(cells.toDF(*typed), nanos), export,
                                     header=export.form == "csv")
        if rows_read == 0:
            raise ExportRejected("the export has no rows")
        found = column_map(columns)
        mapping = {name: (f"c{columns.index(found[name][0]) + 1}", found[name][1])
                   for name in found}
        cells.createOrReplaceTempView("export_cells")
        text = export_text_sql("export_cells", typed, mapping, "source_row",
                               typed_numbers=False, prefix="c")
        # Messages name the file's own columns (`found`).
        checked = session.sql(to_spark(checks_sql(SAMPLES_SQL, text),
                                       export_params(found, export, file_name)))
        # The rules' stage is too big for one Java method (64 KB): Spark would compile
        # its whole-stage code for a second or so, log the failure with its stack trace
        # and run the stage without it all the same.
        session.conf.set(_WHOLE_STAGE, "false")
        checked.write.mode("overwrite").parquet(str(folder))
        session.conf.unset(_WHOLE_STAGE)
        session.read.parquet(str(folder)).createOrReplaceTempView("export_checked")
        # An export as it should be sends each key once, on the hour: its samples are
        # its hours, and neither conflicts nor copies are sought.
        shape = session.sql(to_spark(shape_sql(clean_samples_sql("export_checked")))).first()
        sent_twice = shape.sent_twice
        hours = session.sql(to_spark(settled_hours_sql("export_checked", sent_twice,
                                                       shape.on_the_hour)))
        check_hours(hours, file_name)  # the plan's types: no job
        hours.write.mode("overwrite").parquet(str(hours_folder))
    except ExportRejected as exc:
        return Checked(rows_read, exc)
    except (PySparkException, Py4JError) as exc:
        if not _condition(exc).startswith(_UNREADABLE):
            raise SparkError(f"Spark failed on {file_name}: {first_line(exc)}") from exc
        return Checked(rows_read, ExportUnreadable(
            f"not readable as {export.described} ({first_line(_reason(exc))})"))
    return Checked(rows_read, sent_twice=sent_twice)


def check_hours(hours: DataFrame, what: str,
                schema: pa.DataFrameSchema = TELEMETRY_HOUR_TYPES) -> None:
    """Hours Spark makes or wrote against `schema` (pandera; by default their columns'
    types alone): where they differ, census is at fault, not the export; `what` names
    them."""
    errors = schema_errors(schema.validate(hours))
    if errors:
        raise SparkError(f"Spark's hours of {what} do not match their schema: "
                         + "; ".join(errors))


def _condition(exc: Exception) -> str:
    """Spark's error condition (`FAILED_READ_FILE.NO_HINT`, …): pyspark's own, or the one
    Java's message starts with where py4j passes the error on as it is; '' for none."""
    if isinstance(exc, PySparkException):
        return exc.getCondition() or ""
    found = re.search(r"\[([A-Z][A-Z0-9_.]*)\]", _reason(exc))
    return found.group(1) if found else ""


def _reason(exc: Exception) -> str:
    """The message of Java's exception where py4j carries one, else the error's own."""
    return str(getattr(exc, "java_exception", None) or exc)


def read_export(spark: SparkSession, export: Export) -> DataFrame:
    """The export's rows: CSV and JSON lines every column as text, Parquet as typed."""
    # Hadoop reads a path as a pattern ([…], {…}, *, ?) and a colon as a scheme: the file
    # is read through a link of a plain name in its scratch folder.
    link = export.scratch / "spark" / f"export.{export.form}"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(export.path.resolve())
    path = str(link)
    if export.form == "parquet":
        return spark.read.parquet(path)
    # A line that is not JSON rejects the file, as DuckDB's reader does (Spark would read
    # it as a row of NULLs).
    if export.form == "json":
        return spark.read.json(path, mode="FAILFAST", schema=T.StructType([
            T.StructField(name, T.StringType()) for name in export.options["columns"]]))
    # A record may span lines (a quoted line break), as DuckDB reads it. The header is
    # read as a record: Spark would rename repeated and empty names.
    return spark.read.csv(path, header=False, sep=str(export.options["delim"]), quote='"',
                          escape='"', multiLine=True, encoding="UTF-8")


def nanos_as_times(cells: DataFrame, nanos: Iterable[str]) -> DataFrame:
    """A Parquet export's nanosecond times, the columns `nanos` (read as numbers,
    `nanosecond_columns`), as times of whole microseconds, toward zero, as DuckDB keeps
    them; a naive time's as if in UTC, as INT96 times are read."""
    return cells.withColumns({column: F.expr(f"timestamp_micros({column} div 1000)")
                              for column in nanos})


def _header(cells: DataFrame, export: Export) -> list[str]:
    """The export's column names as written: a CSV's first record, the names Spark gives
    the columns of another export."""
    if export.form != "csv":
        return [field.name for field in cells.schema.fields]
    first = cells.first()
    return [] if first is None else [name or "" for name in first]


def _int96_columns(schema: pq.ParquetSchema) -> dict[str, str]:
    """The INT96 times (Impala's and Hive's) of a Parquet file's `schema` (its footer's),
    by position, as naive times: DuckDB reads them so (China time, contract §1.2); Spark
    would read them as UTC."""
    return {f"c{n}": "TIMESTAMP" for n in range(1, len(schema) + 1)
            if schema.column(n - 1).physical_type == "INT96"}


def nanosecond_columns(schema: pq.ParquetSchema) -> dict[str, str]:
    """The nanosecond times of a Parquet file's `schema` (its footer's), by position, with
    the type DuckDB reads each as: an instant where the file says it is in UTC, else a
    naive time (China time, contract §1.2)."""
    found = {}
    for n in range(1, len(schema) + 1):
        logical = json.loads(schema.column(n - 1).logical_type.to_json())
        if logical.get("Type") == "Timestamp" and logical.get("timeUnit") == "nanoseconds":
            found[f"c{n}"] = ("TIMESTAMP WITH TIME ZONE" if logical.get("isAdjustedToUTC")
                              else "TIMESTAMP")
    return found


def _numbered(cells: DataFrame, export: Export, header: bool) -> tuple[DataFrame, int]:
    """`source_row` beside each row, its place in the file (a partition's rows are
    numbered after those of the partitions before it), and how many rows there are; a
    `header` record first is numbered before the first row and left out."""
    first_row = export.first_row - 1 if header else export.first_row
    cells = cells.withColumn("partition", F.spark_partition_id()).withColumn(
        "id", F.monotonically_increasing_id())
    starts, before = [], 0
    for partition, rows in sorted(cells.groupBy("partition").count().collect()):
        starts.append((partition, before))
        before += rows
    first = cells.sparkSession.createDataFrame(starts, "partition INT, before BIGINT")
    numbered = cells.join(F.broadcast(first), "partition").withColumn(
        "source_row", F.col("id") - F.shiftleft(F.col("partition").cast("bigint"),
                                                _PARTITION_SHIFT) + F.col("before") + first_row)
    numbered = numbered.drop("partition", "id", "before")
    if header:
        return numbered.where(F.col("source_row") >= export.first_row), max(before - 1, 0)
    return numbered, before

"""Telemetry exports read and checked by Spark: each export's rows as Spark reads them
(CSV, JSON lines, Parquet; the file prepared as for DuckDB: decompressed, checked,
transcoded to UTF-8), a batch of exports checked together by the SQL transforms of
dbt_like_sql/ingest/ transpiled (each row carrying its file's parameters), and their
samples with their findings written by Spark into the lake, from where the warehouse's
ingestion goes on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, reduce
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import sqlglot
from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, DataFrameWriter, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

from pipelines.ingest.export_opener import Checked
from pipelines.ingest.hours_sql import clean_samples_sql, settled_hours_sql, shape_sql
from pipelines.ingest.telemetry import (
    REQUIRED,
    RULES_SQL,
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
from pipelines.spark.session import view_name
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
# The column, and the folders (`sha256=<key>`), of each row's file: its SHA-256 in hex.
KEY = "sha256"
_KEY_LENGTH = 64
# The transforms' parameters that are the same for every export: literals in the plan.
_SHARED = {"required": REQUIRED}
# Writes the transforms' SQL again once the key and parameters are added.
_DUCKDB = DuckDB()
# Spark numbers a partition's rows from (partition << 33) (monotonically_increasing_id).
_PARTITION_SHIFT = 33


@dataclass(frozen=True)
class ToCheck:
    export: Export
    file_name: str  # as findings name it
    key: str  # the file's SHA-256: the folder of its rows and hours


def check_in_spark(spark: SparkSession, exports: Sequence[ToCheck], folder: Path,
                   hours_folder: Path) -> dict[str, Checked]:
    """Every row of each export with its sample and findings (telemetry_rules.sql's
    output) → Parquet in `folder/sha256=<key>/`, and the hours of its registered centres'
    samples (`settled_hours_sql`) → `hours_folder/sha256=<key>/`, written by Spark. By
    key: the rows read, whether a key is sent twice, and the export's rejection where the
    embedded engine's ingestion would reject it; raises SparkError where Spark failed
    otherwise. The exports' rows are checked in one plan: Catalyst analyses and optimises
    the rules' large SELECT once, not once an export. Where that plan fails on a file
    Spark cannot read, each export is checked alone, so that only that file is rejected."""
    # A session of the check's own (its views and settings): the process's other work
    # goes on meanwhile. A write replaces only the files' own folders.
    try:
        session = spark.newSession()
        session.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
        # A key is read back as the text it is, not as a number its digits might spell.
        session.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    except (PySparkException, Py4JError) as exc:
        raise _failed(exports, exc) from exc
    checked: dict[str, Checked] = {}
    texts: dict[str, tuple[DataFrame, int, dict[str, object]]] = {}
    for item in exports:
        # A view of each file's cells, named by its place among them.
        prepared = _cells_as_text(session, item, f"export_cells_{len(checked) + len(texts)}")
        if isinstance(prepared, Checked):
            checked[item.key] = prepared
        else:
            texts[item.key] = prepared
    if not texts:
        return checked
    try:
        if len(texts) == 1:
            ((key, (text, _, params)),) = texts.items()
            shapes = {key: _check_alone(session, key, text, params, folder, hours_folder)}
        else:
            shapes = _check_together(session, {key: text for key, (text, _, _) in
                                                texts.items()}, folder, hours_folder)
    except (PySparkException, Py4JError) as exc:
        if not _condition(exc).startswith(_UNREADABLE):
            raise _failed([item for item in exports if item.key in texts], exc) from exc
        if len(texts) == 1:
            ((key, (_, rows_read, _)),) = texts.items()
            (item,) = [item for item in exports if item.key == key]
            return checked | {key: _unreadable(item.export, rows_read, exc)}
        for item in exports:
            if item.key in texts:
                checked |= check_in_spark(spark, [item], folder, hours_folder)
        return checked
    return checked | {key: Checked(rows_read, sent_twice=shapes[key])
                      for key, (_, rows_read, _) in texts.items()}


def _cells_as_text(session: SparkSession, item: ToCheck,
                   view: str) -> tuple[DataFrame, int, dict[str, object]] | Checked:
    """telemetry_samples.sql's input (`export_text_sql`) over the export's rows (the
    temporary view `view` of the check's session), each with its file's key and the
    transforms' parameters of the file as columns (`_carried_parameters`), how many rows
    it has, and those parameters; or what is found of an export rejected whole."""
    export, rows_read = item.export, 0
    try:
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
        cells.createOrReplaceTempView(view)
        text = session.sql(to_spark(export_text_sql(view, typed, mapping, "source_row",
                                                     typed_numbers=False, prefix="c")))
        # Messages name the file's own columns (`found`).
        params = export_params(found, export, item.file_name)
        return text.withColumns({KEY: F.lit(item.key)} | {
            _carried(name): F.lit(params[name]).cast(_spark_type(params[name]))
            for name in _carried_parameters()}), rows_read, params
    except ExportRejected as exc:
        return Checked(rows_read, exc)
    except (PySparkException, Py4JError) as exc:
        if not _condition(exc).startswith(_UNREADABLE):
            raise _failed([item], exc) from exc
        return _unreadable(export, rows_read, exc)


def _check_alone(session: SparkSession, key: str, text: DataFrame,
                 params: dict[str, object], folder: Path, hours_folder: Path) -> bool:
    """The checks of one export's rows `text` (a national month's) and its hours, written
    in its own folders; returns whether a key (centre_id, ts) is sent twice among its
    clean samples. Its parameters are bound as literals, which Spark folds into the plan,
    and its rows are written as they are rather than partitioned (which sorts them by
    key): checked as a batch, a national export took a tenth longer."""
    text.createOrReplaceTempView("export_text")
    checks = session.sql(to_spark(checks_sql(SAMPLES_SQL), _SHARED | params))
    own, own_hours = folder / f"{KEY}={key}", hours_folder / f"{KEY}={key}"
    _write_checks(session, checks.write.mode("overwrite"), own)
    session.read.parquet(str(own)).createOrReplaceTempView("export_checked")
    shape = session.sql(to_spark(shape_sql(clean_samples_sql("export_checked")))).first()
    hours = session.sql(to_spark(settled_hours_sql("export_checked", shape.sent_twice,
                                                   shape.on_the_hour)))
    check_hours(hours, "the export's hours")  # the plan's types: no job
    hours.write.mode("overwrite").parquet(str(own_hours))
    return shape.sent_twice


def _check_together(session: SparkSession, texts: dict[str, DataFrame], folder: Path,
                    hours_folder: Path) -> dict[str, bool]:
    """The checks of the exports' rows `texts` (by file key) and their hours, written by
    key; returns by key whether a key (centre_id, ts) is sent twice among its clean
    samples."""
    # Spark would push the rules' projections below the union, into each file's plan,
    # and plan them once a file again.
    rows = reduce(DataFrame.unionByName, texts.values()).repartition(
        int(session.conf.get("spark.sql.shuffle.partitions")))
    rows.createOrReplaceTempView("export_text")
    checks = session.sql(_checks_in_spark())
    _write_checks(session, checks.write.mode("overwrite").partitionBy(KEY), folder)
    # Each centre ID of a sample prefixed with its file's key: the hours' SQL, which
    # groups by centre, then groups by file and centre.
    checked = session.read.parquet(str(folder)).where(F.col(KEY).isin(list(texts))) \
        .withColumn("centre_id", F.concat(KEY, "centre_id"))
    checked.createOrReplaceTempView("export_checked")
    # A file without a clean sample has no row of shape: none sent twice, none off the hour.
    shapes = dict.fromkeys(texts, (False, True)) | {
        row.shape_of: (row.sent_twice, row.on_the_hour) for row in session.sql(
            to_spark(shape_sql(clean_samples_sql("export_checked"),
                               by=f"substring(centre_id, 1, {_KEY_LENGTH})"))).collect()}
    for (sent_twice, on_the_hour), keys in groupby(sorted(texts, key=shapes.__getitem__),
                                                   key=shapes.__getitem__):
        # Conflicts, copies and means are sought only in the files that need them.
        view = view_name("export_checked")
        checked.where(F.col(KEY).isin(list(keys))).createOrReplaceTempView(view)
        hours = session.sql(to_spark(settled_hours_sql(view, sent_twice, on_the_hour)))
        check_hours(hours, "the exports' hours")  # the plan's types: no job
        hours.withColumns({
            KEY: F.substring("centre_id", 1, _KEY_LENGTH),
            "centre_id": F.expr(f"substring(centre_id, {_KEY_LENGTH + 1})"),
        }).write.mode("overwrite").partitionBy(KEY).parquet(str(hours_folder))
    return {key: sent_twice for key, (sent_twice, _) in shapes.items()}


def _write_checks(session: SparkSession, writer: DataFrameWriter, folder: Path) -> None:
    """The checked rows `writer` writes, as Parquet in `folder`. The rules' stage is too
    big for one Java method (64 KB): Spark would compile its whole-stage code for a second
    or so, log the failure with its stack trace and run the stage without it all the
    same."""
    session.conf.set(_WHOLE_STAGE, "false")
    writer.parquet(str(folder))
    session.conf.unset(_WHOLE_STAGE)


@cache
def _checks_in_spark() -> str:
    """The rules on the rows of `export_text`, each parameter but the `_SHARED` read
    from the row's own column (`_carried`), each row with its file's key:
    telemetry_samples.sql's output carries the key and the parameters on to
    telemetry_rules.sql, whose output carries the key."""
    names = _carried_parameters()
    samples = sqlglot.parse_one(SAMPLES_SQL, read="duckdb").select(
        KEY, *(_carried(name) for name in names), append=True)
    rules = sqlglot.parse_one(RULES_SQL, read="duckdb").select(KEY, append=True)
    return to_spark(checks_sql(_DUCKDB.generate(samples), rules_sql=_DUCKDB.generate(rules)),
                    _SHARED, {name: _carried(name) for name in names})


@cache
def _carried_parameters() -> tuple[str, ...]:
    """The transforms' parameters each row carries: all that the SQL names but the
    `_SHARED`."""
    named = {placeholder.name for sql in (SAMPLES_SQL, RULES_SQL)
             for placeholder in sqlglot.parse_one(sql, read="duckdb").find_all(
                 exp.Placeholder)}
    return tuple(sorted(named - set(_SHARED)))


def _carried(parameter: str) -> str:
    """The column carrying a transforms' parameter's value for the row's file."""
    return f"param_{parameter}"


def _spark_type(value: object) -> str:
    """The Spark type of a parameter's column: labels may be NULL (text)."""
    if isinstance(value, bool):
        return "boolean"
    return "double" if isinstance(value, (int, float)) else "string"


def _failed(exports: Sequence[ToCheck], exc: Exception) -> SparkError:
    """Spark's own failure (a lost executor, a full disk, a fault in census) while it
    checked `exports`: not theirs, so none is rejected for good."""
    names = ", ".join(item.file_name for item in exports)
    return SparkError(f"Spark failed on {names}: {first_line(exc)}")


def _unreadable(export: Export, rows_read: int, exc: Exception) -> Checked:
    return Checked(rows_read, ExportUnreadable(
        f"not readable as {export.described} ({first_line(_reason(exc))})"))


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
    link.unlink(missing_ok=True)  # read again, alone, where its batch failed
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

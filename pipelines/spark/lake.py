"""The lake: the warehouse's tables as Parquet folders under CENSUS_LAKE_DIR,
`<schema>/<table>/`, a monthly model's in `month=<first day>/` partitions, each written
by Spark with its `_SUCCESS` marker. Spark reads them as the tables of its catalog; the
DuckDB build copy loads a model's rows from them."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipelines.ingest.export_opener import Checked
from pipelines.ingest.files import LandingFile
from pipelines.ingest.telemetry_readers import Export, first_line
from pipelines.spark import SparkError
from pipelines.spark.dialect import to_spark
from pipelines.spark.session import view_name
from pipelines.spark.telemetry import KEY, ToCheck, check_hours, check_in_spark
from pipelines.sql_graph import SqlModel
from schemas.telemetry_lake import TELEMETRY_HOURS, spark_struct


@dataclass(frozen=True)
class Lake:
    root: Path
    spark: SparkSession

    def copy_in(self, con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
        """The warehouse's `tables` copied into the lake whole, each replacing its folder
        (a table with a `month` column by month): Spark then reads what the warehouse
        holds, whichever engine built it. A table the warehouse lacks is left out; the
        hours are merged by Spark (`merge_hours`)."""
        held = {f"{schema}.{name}": has_month for schema, name, has_month in con.execute(
            "SELECT schema_name, table_name, bool_or(column_name = 'month') "
            "FROM duckdb_columns() GROUP BY ALL").fetchall()}
        for table in tables:
            if table == HOURLY:
                self.merge_hours(con)
                continue
            if table not in held:
                continue
            by_month = held[table] and con.execute(
                f"SELECT count(*) > 0 FROM {table}").fetchone()[0]
            _replace(table_folder(self.root, table), self._copied(con, table, by_month))
            self._register(table)

    def build(self, model: SqlModel, months: list[str]) -> str:
        """Spark builds the model's `months` (all of an unpartitioned model) into the lake,
        each replacing its partition whole. Returns the DuckDB SELECT of the rows built,
        of `$month` for a monthly model."""
        folder = table_folder(self.root, model.table)
        try:
            if not model.monthly:
                self._write(self.spark.sql(to_spark(model.sql)), folder)
                self._register(model.table)
                return f"SELECT * FROM read_parquet({_duckdb_literal(folder / '*.parquet')})"
            for index, month in enumerate(months):
                rows = self.spark.sql(to_spark(model.sql, {"month": month})).drop("month")
                # Every month has the columns of the first.
                if index == 0 and self._columns_changed(rows, folder):
                    # As in the warehouse: the other months are rebuilt by their own runs.
                    shutil.rmtree(folder)
                # The month is in the folder's name, as Spark's partitions have it.
                self._write(rows, folder / f"month={month}")
            self._register(model.table)  # the models after it read its new months
        except PySparkException as exc:
            raise SparkError(first_line(exc)) from exc
        # The month's own folder: one written before the model's columns changed holds
        # other columns.
        month_files = _duckdb_literal(folder / "month=") + " || $month || '/*.parquet'"
        return (f"SELECT * FROM read_parquet({month_files}, hive_partitioning = true) "
                "WHERE month = CAST($month AS DATE)")

    def check_telemetry(self, opened: list[tuple[Export, LandingFile]]
                        ) -> dict[Path, Checked]:
        """The landing files' exports read and checked by Spark into the lake, each
        file's rows in `ingest/telemetry_checked/sha256=<the file's>/` and its hours in
        `ingest/telemetry_hours/sha256=<the file's>/` (`load_checked` and `load_hours`
        read them); what Spark made of each, by the file's path. The rules read
        core.centre_register as copied in (`copy_in`)."""
        batches = {name: _writing(self.root / "ingest" / name / "batch") for name in _INGESTED}
        checked = check_in_spark(self.spark, [
            ToCheck(export, file.file_name, file.sha256) for export, file in opened],
            *batches.values())
        for _, file in opened:
            if checked[file.sha256].rejection is not None:
                continue
            for name in _INGESTED:
                own = batches[name] / f"{KEY}={file.sha256}"
                own.mkdir(parents=True, exist_ok=True)  # a file without hours has none
                _replace(_ingest_folder(self.root, name, file.sha256), own)
        for batch in batches.values():  # none where every export was rejected
            shutil.rmtree(batch, ignore_errors=True)
        return {file.path: checked[file.sha256] for _, file in opened}

    def load_checked(self, con: duckdb.DuckDBPyConnection, file: LandingFile,
                     checked: Checked) -> None:
        """A landing file's rows as Spark `checked` them → DuckDB's temporary table
        `file_checked`, in file order: where no key is sent twice, only those with
        something to report (findings, an unknown centre), as Spark made the hours."""
        files = _ingest_folder(self.root, "telemetry_checked", file.sha256) / "*.parquet"
        reported = "" if checked.sent_twice else f"WHERE {_REPORTED}"
        con.execute("CREATE OR REPLACE TEMP TABLE file_checked AS SELECT * FROM read_parquet("
                    f"{_duckdb_literal(files)}, hive_partitioning = false) {reported} "
                    "ORDER BY source_row")

    def load_hours(self, con: duckdb.DuckDBPyConnection, file: LandingFile) -> None:
        """The hours Spark made of a landing file's samples → DuckDB's temporary table
        `new_hours`."""
        folder = _ingest_folder(self.root, "telemetry_hours", file.sha256)
        # Spark writes no file for no hours; not the folder's sha256=… as a column.
        source = (f"read_parquet({_duckdb_literal(folder / '*.parquet')}, "
                  "hive_partitioning = false)" if any(folder.glob("*.parquet")) else
                  f"{HOURLY} LIMIT 0")
        con.execute(f"CREATE OR REPLACE TEMP TABLE new_hours AS SELECT "
                    f"{', '.join(_HOUR_COLUMNS)} FROM {source}")

    def _copied(self, con: duckdb.DuckDBPyConnection, table: str, by_month: bool) -> Path:
        """The warehouse's `table` written beside its folder in the lake (`_writing`):
        by month, or as one file, which keeps the columns of an empty table too."""
        written = _writing(table_folder(self.root, table))
        if by_month:
            con.execute(f"COPY {table} TO {_duckdb_literal(written)} "
                        "(FORMAT parquet, PARTITION_BY (month))")
        else:
            written.mkdir(parents=True)
            con.execute(f"COPY {table} TO {_duckdb_literal(written / _WHOLE)} "
                        "(FORMAT parquet)")
        return written

    def keep_resolved(self, con: duckdb.DuckDBPyConnection, run_id: str,
                      file_name: str) -> None:
        """DuckDB's `new_hours`, the hours of a file's pending samples whose centres are
        registered now, kept for `merge_hours` (`ingest/telemetry_resolved/`)."""
        folder = _resolved_folder(self.root, run_id, file_name)
        written = _writing(folder)
        written.mkdir()
        pq.write_table(con.execute("SELECT * FROM new_hours").to_arrow_table(), written / _WHOLE)
        _replace(folder, written)

    def merge_hours(self, con: duckdb.DuckDBPyConnection) -> None:
        """core.telemetry_hourly into the lake by month (China time),
        `core/telemetry_hourly/month=<first day>/`: Spark's merge of the hours each load
        wrote into the month (audit.telemetry_loads), in the order they were loaded, the
        last load's hour of a centre winning, as in the warehouse. A load's hours are the
        file's (`ingest/telemetry_hours/`) or its pending samples' (`keep_resolved`). A
        month is merged again only when its loads changed (their list is kept beside its
        rows, `_census_loads.json`); one with a load Spark did not read (the embedded
        engine's) is copied from the warehouse."""
        loads = con.execute("""
            SELECT l.month, l.run_id, l.file_name, i.sha256 FROM audit.telemetry_loads l
            LEFT JOIN audit.ingestion_log i ON i.kind = 'telemetry' AND i.status = 'loaded'
                 AND i.file_name = l.file_name AND i.run_id = l.run_id
            ORDER BY l.month, l.loaded_at, l.file_name""").fetchall()
        folder = table_folder(self.root, HOURLY)
        if not loads:  # no hours yet: the table's columns, as any table is copied in
            _replace(folder, self._copied(con, HOURLY, by_month=False))
            self._register(HOURLY)
            return
        (folder / _WHOLE).unlink(missing_ok=True)  # the copy of a table without hours
        try:
            for month, rows in itertools.groupby(loads, key=lambda row: row[0]):
                units = [(run, name, _ingest_folder(self.root, "telemetry_hours", sha)
                          if sha else _resolved_folder(self.root, run, name))
                         for _, run, name, sha in rows]
                ledger = [[run, name] for run, name, _ in units]
                target = folder / f"month={month}"
                if _loads_of(target) == ledger:
                    continue
                written = _writing(target)
                if all(path.exists() for *_, path in units):
                    self._write_last_loads(units, str(month), written)
                    # What the models read, checked whole: keys, samples, types.
                    check_hours(self.spark.read.parquet(str(written)).drop("source_file"),
                                f"{HOURLY} for {month}", TELEMETRY_HOURS)
                else:
                    written.mkdir()
                    held = con.execute(f"SELECT * FROM {HOURLY} WHERE "
                                       "china_month(hour_start) = ?", [month])
                    pq.write_table(held.to_arrow_table(), written / _WHOLE)
                (written / _LOADS).write_text(json.dumps(ledger))
                _replace(target, written)
            self._register(HOURLY)
        except PySparkException as exc:
            raise SparkError(first_line(exc)) from exc

    def _write_last_loads(self, units: list[tuple[str, str, Path]], month: str,
                          folder: Path) -> None:
        """The hours of `month` of the loads `units` (run, file, folder of its hours), in
        their order, → Parquet in `folder`: of each centre-hour, the last load's."""
        loads = None
        for position, (_, name, path) in enumerate(units):
            # Read with the columns' types: a load without hours has no file to infer them.
            hours = self.spark.read.schema(_HOURS_SCHEMA).parquet(str(path)).withColumns(
                {"source_file": F.lit(name), "position": F.lit(position)})
            loads = hours if loads is None else loads.unionByName(hours)
        view = view_name("hourly_loads")
        loads.createOrReplaceTempView(view)
        try:
            self.spark.sql(to_spark(f"""
                SELECT {", ".join(_HOUR_COLUMNS)}, source_file FROM {view}
                WHERE china_month(hour_start) = CAST($month AS DATE)
                QUALIFY row_number() OVER (PARTITION BY centre_id, hour_start
                                           ORDER BY position DESC) = 1""", {"month": month})
                           ).write.parquet(str(folder))
        finally:
            self.spark.catalog.dropTempView(view)

    def _write(self, rows: DataFrame, folder: Path) -> None:
        """`rows` in place of `folder`: written beside it, then renamed, so that a crash
        leaves the old folder or the new one, each with its `_SUCCESS`."""
        written = _writing(folder)
        rows.write.mode("overwrite").parquet(str(written))
        _replace(folder, written)

    def _columns_changed(self, rows: DataFrame, folder: Path) -> bool:
        """Whether the months in `folder` have other columns than `rows` (names and types;
        not whether a list may hold NULLs, which Parquet does not keep)."""
        if not any(folder.glob("*/*.parquet")):
            return False
        held = self.spark.read.parquet(str(folder)).drop("month").schema
        return [(f.name, f.dataType.simpleString()) for f in held] != [
            (f.name, f.dataType.simpleString()) for f in rows.schema]

    def _register(self, table: str) -> None:
        """The lake's folder as a table of Spark's catalog, made anew whenever the folder
        changes: its columns, files and months as they are now."""
        schema, _ = table.split(".")
        folder = table_folder(self.root, table)
        self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema} "
                       f"LOCATION {_spark_literal(folder.parent)}")
        self.spark.sql(f"DROP TABLE IF EXISTS {table}")
        self.spark.catalog.createTable(table, path=str(folder), source="parquet")
        if any(folder.glob("month=*")):
            # The catalog keeps a table's partitions: they are listed from its folders.
            self.spark.catalog.recoverPartitions(table)


def table_folder(lake: Path, table: str) -> Path:
    """The folder of `table` (schema.name) in the lake."""
    schema, name = table.split(".")
    return lake / schema / name


HOURLY = "core.telemetry_hourly"
# Of an export's checked rows, those the warehouse records something of beside the hours.
_REPORTED = "array_length(findings) > 0 OR NOT known"
# The columns of a load's hours, and their types.
_HOUR_COLUMNS = tuple(TELEMETRY_HOURS.columns)
_HOURS_SCHEMA = spark_struct(TELEMETRY_HOURS)
# A table copied in whole.
_WHOLE = "data.parquet"
# Beside a month's hours in the lake: the loads they were merged from.
_LOADS = "_census_loads.json"
# What Spark writes of each export: its rows checked, and its hours.
_INGESTED = ("telemetry_checked", "telemetry_hours")


def _ingest_folder(lake: Path, name: str, sha256: str) -> Path:
    return lake / "ingest" / name / f"{KEY}={sha256}"


def _resolved_folder(lake: Path, run_id: str, file_name: str) -> Path:
    # The file's name hashed: it may hold any character.
    name = hashlib.sha256(file_name.encode()).hexdigest()
    return lake / "ingest" / "telemetry_resolved" / f"run_id={run_id}" / f"file={name}"


def _loads_of(month: Path) -> list[list[str]] | None:
    """The loads the lake's month of hours was merged from; None where there is none."""
    try:
        return json.loads((month / _LOADS).read_text())
    except (OSError, ValueError):
        return None


def _writing(folder: Path) -> Path:
    """Where `folder` is written before it replaces the old one: hidden from Spark's and
    DuckDB's readers (a leading dot)."""
    written = folder.with_name(f".{folder.name}.writing")
    shutil.rmtree(written, ignore_errors=True)
    written.parent.mkdir(parents=True, exist_ok=True)
    return written


def _replace(folder: Path, written: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    written.rename(folder)


def _duckdb_literal(path: Path) -> str:
    """A path of the lake as a DuckDB string literal: quoted, a quote in it doubled."""
    return "'" + str(path).replace("'", "''") + "'"


def _spark_literal(path: Path) -> str:
    """A path of the lake as a Spark string literal: quoted, backslashes and quotes
    escaped (Spark reads `''` as two literals)."""
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"

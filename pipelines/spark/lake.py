"""The lake: the warehouse's tables as Parquet folders under CENSUS_LAKE_DIR,
`<schema>/<table>/`, a monthly model's in `month=<first day>/` partitions, each written
by Spark with its `_SUCCESS` marker. Spark reads them as the tables of its catalog; the
DuckDB build copy loads a model's rows from them."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from pipelines.ingest.export_opener import Checked
from pipelines.ingest.files import LandingFile
from pipelines.ingest.telemetry_readers import Export, first_line
from pipelines.spark import SparkError
from pipelines.spark.dialect import to_spark
from pipelines.spark.telemetry import check_in_spark
from pipelines.sql_graph import SqlModel


@dataclass(frozen=True)
class Lake:
    root: Path
    spark: SparkSession

    def copy_in(self, con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
        """The warehouse's `tables` copied into the lake whole, each replacing its folder
        (a table with a `month` column by month): Spark then reads what the warehouse
        holds, whichever engine built it. A table the warehouse lacks is left out."""
        held = {f"{schema}.{name}": has_month for schema, name, has_month in con.execute(
            "SELECT schema_name, table_name, bool_or(column_name = 'month') "
            "FROM duckdb_columns() GROUP BY ALL").fetchall()}
        for table in tables:
            if table not in held:
                continue
            folder = table_folder(self.root, table)
            written = _writing(folder)
            by_month = held[table] and con.execute(
                f"SELECT count(*) > 0 FROM {table}").fetchone()[0]
            if by_month:
                con.execute(f"COPY {table} TO {_duckdb_literal(written)} "
                            "(FORMAT parquet, PARTITION_BY (month))")
            else:  # one file, which keeps the columns of an empty table too
                written.mkdir(parents=True)
                con.execute(f"COPY {table} TO {_duckdb_literal(written / 'data.parquet')} "
                            "(FORMAT parquet)")
            _replace(folder, written)
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

    def check_telemetry(self, export: Export, file: LandingFile) -> Checked:
        """The landing file's export read and checked by Spark into the lake,
        `ingest/telemetry_checked/sha256=<the file's>/` (`load_checked` reads it). The
        rules read core.centre_register as copied in (`copy_in`)."""
        folder = _checked_folder(self.root, file.sha256)
        written = _writing(folder)
        checked = check_in_spark(self.spark, export, file.file_name, written)
        if checked.rejection is None:
            _replace(folder, written)
        else:
            shutil.rmtree(written, ignore_errors=True)
        return checked

    def load_checked(self, con: duckdb.DuckDBPyConnection, file: LandingFile) -> None:
        """A landing file's rows as Spark checked them → DuckDB's temporary table
        `file_checked`, in file order."""
        files = _checked_folder(self.root, file.sha256) / "*.parquet"
        con.execute("CREATE OR REPLACE TEMP TABLE file_checked AS SELECT * FROM read_parquet("
                    f"{_duckdb_literal(files)}) ORDER BY source_row")

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


def _checked_folder(lake: Path, sha256: str) -> Path:
    return lake / "ingest" / "telemetry_checked" / f"sha256={sha256}"


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

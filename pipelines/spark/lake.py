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
from pyspark.sql import SparkSession

from pipelines.spark import SparkError
from pipelines.spark.dialect import to_spark
from pipelines.sql_graph import SqlModel


@dataclass(frozen=True)
class Lake:
    root: Path
    spark: SparkSession

    def mirror(self, con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
        """The warehouse's `tables` (the ingestion's, which the models read) copied into
        the lake whole, replacing the copy there."""
        for table in tables:
            folder = table_folder(self.root, table)
            written = folder.with_name(f".{folder.name}.writing")
            shutil.rmtree(written, ignore_errors=True)
            written.mkdir(parents=True)
            con.execute(f"COPY {table} TO {_literal(written / 'data.parquet')} (FORMAT parquet)")
            shutil.rmtree(folder, ignore_errors=True)
            written.rename(folder)
            self._register(table)

    def build(self, model: SqlModel, months: list[str]) -> str:
        """Spark builds the model's `months` (all of an unpartitioned model) into the lake,
        replacing those months' rows. Returns the DuckDB SELECT of the rows built, of
        `$month` for a monthly model."""
        folder = table_folder(self.root, model.table)
        try:
            for table in (".".join(dep.path) for dep in model.deps):
                self._register(table)
            if not model.monthly:
                self.spark.sql(to_spark(model.sql)).write.mode("overwrite").parquet(str(folder))
                return f"SELECT * FROM read_parquet({_literal(folder / '*.parquet')})"
            for month in months:
                # A month's rows replace its partition, which has its own `_SUCCESS`
                # marker; the month is in the folder's name, as Spark's partitions have it.
                (self.spark.sql(to_spark(model.sql, {"month": month})).drop("month").write
                 .mode("overwrite").parquet(str(folder / f"month={month}")))
        except PySparkException as exc:
            raise SparkError(str(exc).strip().splitlines()[0]) from exc
        return (f"SELECT * FROM read_parquet({_literal(folder / 'month=*' / '*.parquet')}, "
                "hive_partitioning = true) WHERE month = CAST($month AS DATE)")

    def _register(self, table: str) -> None:
        """The lake's folder as a table of Spark's catalog, its files and months listed
        anew."""
        schema, _ = table.split(".")
        folder = table_folder(self.root, table)
        self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema} "
                       f"LOCATION {_literal(folder.parent)}")
        self.spark.sql(f"CREATE TABLE IF NOT EXISTS {table} USING parquet "
                       f"LOCATION {_literal(folder)}")
        if any(folder.glob("month=*")):
            # The catalog keeps a table's partitions: months written since are added.
            self.spark.sql(f"ALTER TABLE {table} RECOVER PARTITIONS")
        self.spark.catalog.refreshTable(table)


def _literal(path: Path) -> str:
    """A path of the lake as an SQL string literal (DuckDB's and Spark's alike): quoted,
    a quote in it doubled."""
    return "'" + str(path).replace("'", "''") + "'"


def table_folder(lake: Path, table: str) -> Path:
    """The folder of `table` (schema.name) in the lake."""
    schema, name = table.split(".")
    return lake / schema / name

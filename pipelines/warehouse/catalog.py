"""The columns of every warehouse table and SQL model as DuckDB holds them: name, type
and comment. The tables come from their migrations; the models are built, in
dependency order and by the code that builds them in the warehouse, into an empty
in-memory database, so their types and comments are the warehouse's own. Their tests
run there too, on no rows: a test naming a column or table that is not there fails the
definitions, naming the model's file, rather than the first run."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.sql_graph import ModelError, SqlModel, in_dependency_order
from pipelines.warehouse.migrations import migrate
from pipelines.warehouse.model_tests import violations
from pipelines.warehouse.models import materialise

# Any month builds the shape of a monthly model; no row is read from the empty tables.
_SHAPE_MONTH = "2020-01-01"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str


def warehouse_columns(models: list[SqlModel]) -> dict[str, list[Column]]:
    """schema.table → its columns in order, for every table and model."""
    con = duckdb.connect(":memory:")
    try:
        migrate(con)
        for model in in_dependency_order(models):
            materialise(con, model, [_SHAPE_MONTH], run_id="")
        for model in models:
            for test in model.tests:
                try:
                    violations(con, model, test, [_SHAPE_MONTH])
                except duckdb.Error as exc:
                    raise ModelError(f"{model.path}: test {test.name}: "
                                     f"{str(exc).splitlines()[0]}") from exc
        rows = con.execute(
            "SELECT schema_name || '.' || table_name, column_name, data_type, "
            "coalesce(comment, '') FROM duckdb_columns() WHERE NOT internal "
            "ORDER BY schema_name, table_name, column_index").fetchall()
    finally:
        con.close()
    columns: dict[str, list[Column]] = {}
    for table, name, type_, comment in rows:
        columns.setdefault(table, []).append(Column(name, type_, comment))
    return columns

"""Materialising SQL models in the warehouse, with their comments."""

from __future__ import annotations

import duckdb

from pipelines.sql_graph import SqlModel


def materialise(con: duckdb.DuckDBPyConnection, model: SqlModel, months: list[str],
                run_id: str, built: str | None = None, engine: str = "duckdb") -> int:
    """Rebuild the model: the given months of a monthly one (its `$month` bound to each,
    never formatted into the SQL), or all of an unpartitioned one. `built` is a SELECT of
    its rows where another `engine` built them (of `$month` for a monthly model); the table
    keeps the types DuckDB gives the model's SELECT. Each month built is recorded in
    audit.model_builds. Returns the model's rows."""
    schema, _ = model.key.path
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    select = model.sql
    if not model.monthly and built is None:
        con.execute(f"CREATE OR REPLACE TABLE {model.table} AS {select}")
    elif not model.monthly:
        con.execute(f"CREATE OR REPLACE TABLE {model.table} AS SELECT * FROM ({select}) LIMIT 0")
        con.execute(f"INSERT INTO {model.table} BY NAME {built}")
    for month in months if model.monthly else []:
        params = {"month": month}
        shape = con.execute(f"DESCRIBE SELECT * FROM ({select})", params).fetchall()
        if _columns(con, model.table) != [(c[0], c[1]) for c in shape]:
            # New or changed model: its other months are rebuilt by their own runs.
            con.execute(f"DROP TABLE IF EXISTS {model.table}")
            con.execute(f"CREATE TABLE {model.table} AS SELECT * FROM ({select}) LIMIT 0",
                        params)
        con.execute(f"DELETE FROM {model.table} WHERE month = CAST($month AS DATE)", params)
        con.execute(f"INSERT INTO {model.table} BY NAME SELECT * FROM ({built or select})",
                    params)
        con.execute("INSERT INTO audit.model_builds (model, month, run_id, built_at, engine) "
                    "VALUES (?, CAST(? AS DATE), ?, now(), ?)",
                    [model.table, month, run_id, engine])
    _comment(con, model)
    return con.execute(f"SELECT count(*) FROM {model.table}").fetchone()[0]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    schema, name = table.split(".")
    return [tuple(r) for r in con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? "
        "AND table_name = ? ORDER BY column_index", [schema, name]).fetchall()]


def _comment(con: duckdb.DuckDBPyConnection, model: SqlModel) -> None:
    """COMMENT ON the table and every column, from the model file's header (which
    documents every column the SELECT returns: sql_graph checks)."""
    con.execute(f"COMMENT ON TABLE {model.table} IS $${model.description}$$")
    for column, doc in model.column_docs.items():
        con.execute(f"COMMENT ON COLUMN {model.table}.{column} IS $${doc}$$")

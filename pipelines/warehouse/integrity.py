"""Integrity of a warehouse file (`census check`): what a crash, a half-finished run or
a bug would break. Every table opens, keys are unique, every file behind a row was
loaded, and every SQL model (the coverage among them) equals a fresh computation from
its inputs."""

from __future__ import annotations

import duckdb

from pipelines.sql_graph import SqlModel
from pipelines.warehouse.tables import TABLES

# How far a double Spark computed may be from DuckDB's, relative to the larger.
SPARK_TOLERANCE = 1e-9
# Rows must come from files the ingestion log records as loaded.
_LINEAGE = {"core.centre_register": "licensing", "core.register_rows": "licensing",
            "core.telemetry_hourly": "telemetry"}


def table_keys(models: list[SqlModel]) -> dict[str, tuple[str, ...]]:
    """schema.table → the columns that identify a row: the tables' from their DDL, the
    models' their grain."""
    return {**{t.name: t.keys for t in TABLES if t.keys}, **{m.table: m.grain for m in models}}


def integrity_problems(con: duckdb.DuckDBPyConnection, models: list[SqlModel]) -> list[str]:
    """Problems found, each a sentence naming the table; none for a sound warehouse."""
    keys = table_keys(models)
    tables = {f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    problems = [f"{t.name}: missing" for t in TABLES if t.name not in tables]
    # A model's table outlives its file: left in place, it would be read as current. (The
    # audit schema holds the migrations' own record besides TABLES.)
    defined = {m.table for m in models} | {t.name for t in TABLES}
    problems += [f"{table}: no SQL model defines it any more, so nothing rebuilds it (DROP "
                 "it, or restore its model file)" for table in sorted(tables)
                 if not table.startswith("audit.") and table not in defined]
    for table in sorted(tables):
        con.execute(f"SELECT count(*) FROM {table}").fetchone()  # every block readable
    for table, key in keys.items():
        if table not in tables:
            continue
        listed = ", ".join(key)
        repeated = con.execute(f"SELECT count(*) FROM (SELECT {listed} FROM {table} "
                               "GROUP BY ALL HAVING count(*) > 1)").fetchone()[0]
        if repeated:
            problems.append(f"{table}: {repeated} keys ({listed}) appear more than once")
    for table, kind in _LINEAGE.items():
        orphans = con.execute(
            f"SELECT count(DISTINCT source_file) FROM {table} WHERE source_file NOT IN "
            "(SELECT file_name FROM audit.ingestion_log WHERE kind = ? AND status = 'loaded')",
            [kind]).fetchone()[0]
        if orphans:
            problems.append(f"{table}: rows of {orphans} files the ingestion log does not "
                            "record as loaded")
    months = [m for (m,) in con.execute("SELECT DISTINCT china_month(hour_start) FROM "
                                        "core.telemetry_hourly ORDER BY 1").fetchall()]
    # Spark's percentiles and its decimal sums turned doubles may differ from DuckDB's in
    # the last bit: a warehouse Spark built models of is compared within SPARK_TOLERANCE.
    (by_spark,) = con.execute("SELECT count(*) > 0 FROM audit.model_builds "
                              "WHERE engine = 'spark'").fetchone()
    for model in models:
        if model.table not in tables:
            if months:  # a model's table is made with the first month it builds
                problems.append(f"{model.table}: missing")
            continue
        problems += _compare(con, model.table, model.sql, model.grain, months,
                             SPARK_TOLERANCE if by_spark else 0.0)
    return problems


def _compare(con: duckdb.DuckDBPyConnection, table: str, select: str, key: tuple[str, ...],
             months: list, tolerance: float) -> list[str]:
    """The stored months of `table` against `select` computed now for every month with
    telemetry: rows missing, extra or different (doubles by more than `tolerance`)."""
    columns = con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                          "WHERE schema_name || '.' || table_name = ? ORDER BY column_index",
                          [table]).fetchall()
    problems = []
    for month in months:
        con.execute(f"CREATE OR REPLACE TEMP TABLE fresh AS {select}", {"month": month})
        missing, extra, changed = mismatches(
            con, f"(SELECT * FROM {table} WHERE month = $month)", "fresh", key, columns,
            {"month": month}, tolerance)
        if missing or extra or changed:
            problems.append(f"{table} {month:%Y-%m}: {missing} rows missing, {extra} extra, "
                            f"{changed} different from its inputs")
    con.execute("DROP TABLE IF EXISTS fresh")
    return problems


def mismatches(con: duckdb.DuckDBPyConnection, stored: str, expected: str,
               key: tuple[str, ...], columns: list[tuple[str, str]],
               params: dict | None = None, tolerance: float = 0.0) -> tuple[int, int, int]:
    """Rows of `expected` missing from `stored`, rows of `stored` not expected, and rows
    of both (matched on `key`) differing in a column. Compared exactly: the hourly means
    and every sum behind the models and the coverage are exact, so the same inputs give
    the same bits on DuckDB; a double within `tolerance` of the other (relative) where
    one is given."""
    joined = " AND ".join(f"s.{k} IS NOT DISTINCT FROM e.{k}" for k in key)

    def differ(column: str, type_: str) -> str:
        exact = f"s.{column} IS DISTINCT FROM e.{column}"
        if type_ != "DOUBLE" or not tolerance:
            return exact
        return (f"({exact} AND NOT coalesce(abs(s.{column} - e.{column}) <= {tolerance!r} * "
                f"greatest(abs(s.{column}), abs(e.{column})), FALSE))")

    differs = " OR ".join(differ(c, t) for c, t in columns if c not in key)
    return con.execute(f"""
        SELECT count(*) FILTER (s.{key[0]} IS NULL), count(*) FILTER (e.{key[0]} IS NULL),
               count(*) FILTER (s.{key[0]} IS NOT NULL AND e.{key[0]} IS NOT NULL
                                AND ({differs or 'FALSE'}))
        FROM {stored} s FULL JOIN {expected} e ON {joined}""", params or {}).fetchone()

"""The ingestion's SQL transforms, dbt_like_sql/ingest/<name>.sql: each one plain
SELECT (read and checked with sqlglot like the models), and the macros they call
(telemetry_forms.sql: the accepted forms of values)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from pipelines.warehouse.macros import CHINA_TIME_MACROS, create_macros

FOLDER = Path(__file__).resolve().parents[2] / "dbt_like_sql" / "ingest"
FORMS = "telemetry_forms"


@cache
def transform(name: str) -> str:
    """The SQL of a transform; a file that is not one SELECT is an error."""
    path = FOLDER / f"{name}.sql"
    sql = path.read_text(encoding="utf-8")
    if not isinstance(sqlglot.parse_one(sql, read="duckdb"), exp.Query):
        raise ValueError(f"{path}: a transform is one SELECT")
    return sql


@cache
def forms() -> tuple[str, ...]:
    """The CREATE MACRO statements of telemetry_forms.sql."""
    path = FOLDER / f"{FORMS}.sql"
    statements = tuple(s.strip() for s in path.read_text(encoding="utf-8").split(";\n")
                       if s.strip())
    for statement in statements:
        if not isinstance(sqlglot.parse_one(statement, read="duckdb"), exp.Create):
            raise ValueError(f"{path}: holds only CREATE MACRO statements")
    return statements


def create_forms(con: duckdb.DuckDBPyConnection) -> None:
    """The macros of telemetry_forms.sql, and the China-time macros they call, on this
    connection (temporary: they are the ingestion's, not the warehouse's)."""
    create_macros(con, CHINA_TIME_MACROS, temporary=True)
    for statement in forms():
        con.execute(statement)

"""The warehouse schema as numbered migrations. A writer connection asks the warehouse
its version (two small catalog queries) and applies the migrations it lacks, in order,
in one transaction with their `audit.schema_version` rows; a warehouse at the latest
version runs no DDL. README (Schema versions) says how to add one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb

from pipelines.warehouse.macros import CHINA_TIME_MACROS, EXACT_SUM, create_macros
from pipelines.warehouse.tables import SCHEMAS, TABLES

VERSION_TABLE = "audit.schema_version"
_VERSION_COLUMNS = (
    ("version", "BIGINT", "Number of the migration"),
    ("description", "VARCHAR", "What the migration changed"),
    ("applied_at", "TIMESTAMPTZ", "When it was applied to this warehouse"),
)


@dataclass(frozen=True)
class Migration:
    version: int  # 1, 2, … in the order they apply
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas, tables and columns of TABLES that are missing, and (re)write
    every comment. Idempotent, so that it also adopts a warehouse made before versions
    were recorded, and a later migration adding a column to TABLES can run it again."""
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table in TABLES:
        _create(con, table.name, table.comment, table.columns)


def _create(con: duckdb.DuckDBPyConnection, table: str, comment: str,
            columns: tuple[tuple[str, str, str], ...]) -> None:
    listed = ", ".join(f"{name} {type_}" for name, type_, _ in columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({listed})")
    con.execute(f"COMMENT ON TABLE {table} IS $${comment}$$")
    for name, type_, about in columns:
        # A warehouse built before versions were recorded gains the columns added since.
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {type_}")
        con.execute(f"COMMENT ON COLUMN {table}.{name} IS $${about}$$")


def create_china_time_macros(con: duckdb.DuckDBPyConnection) -> None:
    create_macros(con, CHINA_TIME_MACROS)


def create_exact_sum_macro(con: duckdb.DuckDBPyConnection) -> None:
    create_macros(con, (EXACT_SUM,))


def record_engines(con: duckdb.DuckDBPyConnection) -> None:
    """audit.model_builds gains `engine`; the builds before it were all DuckDB's."""
    create_tables(con)
    con.execute("UPDATE audit.model_builds SET engine = 'duckdb' WHERE engine IS NULL")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the tables of contract §2.1 with their comments", create_tables),
    Migration(2, "the China-time macros (china_month, china_month_start, …)",
              create_china_time_macros),
    Migration(3, "audit.model_builds records the engine of each build",
              record_engines),
    Migration(4, "the exact_sum macro (sums of doubles, the same bits in any order)",
              create_exact_sum_macro),
)


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    return migrations[-1].version


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The version the warehouse records; 0 before any (empty, or made before versions
    were recorded)."""
    # Asked of the catalog first: for a missing table DuckDB's Python client would look
    # for a Python variable of its name (a replacement scan) instead of failing.
    schema, table = VERSION_TABLE.split(".")
    (recorded,) = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? "
                              "AND table_name = ?", [schema, table]).fetchone()
    if not recorded:
        return 0
    return con.execute(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}").fetchone()[0]


class SchemaTooNew(Exception):
    """The warehouse was migrated by a newer census than this one."""


def migrate(con: duckdb.DuckDBPyConnection,
            migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the migrations newer than the warehouse's version; the versions applied."""
    current, latest = schema_version(con), latest_version(migrations)
    if current > latest:
        raise SchemaTooNew(schema_problem(current, latest))
    pending = [m for m in migrations if m.version > current]
    if not pending:
        return []
    con.execute("BEGIN TRANSACTION")
    try:  # all or none: a failed migration leaves the warehouse at its version
        con.execute("CREATE SCHEMA IF NOT EXISTS audit")
        _create(con, VERSION_TABLE, "The schema migrations applied to this warehouse, one "
                "row each", _VERSION_COLUMNS)
        for migration in pending:
            migration.apply(con)
            con.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?, ?, current_timestamp)",
                        [migration.version, migration.description])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return [m.version for m in pending]


def warehouse_schema_problem(con: duckdb.DuckDBPyConnection) -> str | None:
    """One sentence when this warehouse's schema is not the code's; None when it is."""
    return schema_problem(schema_version(con), latest_version())


def schema_problem(current: int, latest: int) -> str | None:
    """One sentence when the warehouse's schema is not the code's; None when it is."""
    if current > latest:
        return (f"schema version {current} is newer than this census knows ({latest}): "
                "run a census at least as new as the one that last wrote the warehouse")
    if current < latest:
        recorded = f"schema version {current}" if current else "no schema version recorded"
        return f"{recorded}, behind this census ({latest}): the next census run migrates it"
    return None

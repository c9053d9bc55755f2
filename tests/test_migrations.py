"""The warehouse schema as versioned migrations, on real DuckDB files: a fresh warehouse
gets the latest version, opening it again runs no DDL, a warehouse made before versions
were recorded is adopted with its rows, a new migration applies once (or not at all),
and `census check` and the export name a schema the code does not match."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.resources import Warehouse
from pipelines.warehouse.migrations import (
    MIGRATIONS,
    VERSION_TABLE,
    Migration,
    SchemaTooNew,
    create_tables,
    latest_version,
    migrate,
    schema_version,
)
from pipelines.warehouse.tables import TABLES
from tests.test_cli import CENSUS, env_for

SENTINEL = "set by the test, not by a migration"


def open_writer(path: Path) -> None:
    with Warehouse(path=str(path)).writer():
        pass


def versions(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(f"SELECT version, description, applied_at FROM {VERSION_TABLE} "
                       "ORDER BY version").fetchall()


def comments(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    table = con.execute("SELECT comment FROM duckdb_tables() WHERE schema_name = 'core' "
                        "AND table_name = 'dim_hub'").fetchone()[0]
    column = con.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'core' "
                         "AND table_name = 'dim_hub' AND column_name = 'side'").fetchone()[0]
    return table, column


def test_a_fresh_warehouse_gets_every_table_at_the_latest_version(tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "census.duckdb"))
    with warehouse.writer() as con:
        assert schema_version(con) == latest_version() == MIGRATIONS[-1].version
        assert [v for v, _, _ in versions(con)] == [m.version for m in MIGRATIONS]
        tables = {f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        undocumented = con.execute("SELECT count(*) FROM duckdb_columns() WHERE NOT internal "
                                   "AND coalesce(comment, '') = ''").fetchone()
    assert {t.name for t in TABLES} | {VERSION_TABLE} == tables
    assert undocumented == (0,)


def test_opening_a_current_warehouse_runs_no_ddl(tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "census.duckdb"))
    open_writer(warehouse.published_path)
    # Migration 1 writes every comment: one it did not write survives only if it does
    # not run again.
    with duckdb.connect(str(warehouse.build_path)) as con:
        con.execute(f"COMMENT ON TABLE core.dim_hub IS '{SENTINEL}'")
        con.execute(f"COMMENT ON COLUMN core.dim_hub.side IS '{SENTINEL}'")
        recorded = versions(con)
    for _ in range(2):
        open_writer(warehouse.published_path)
    with duckdb.connect(str(warehouse.build_path)) as con:
        assert comments(con) == (SENTINEL, SENTINEL)
        assert versions(con) == recorded
        # The sentinel does detect DDL: without its version row the warehouse is migrated.
        con.execute(f"DELETE FROM {VERSION_TABLE}")
    open_writer(warehouse.published_path)
    with duckdb.connect(str(warehouse.build_path)) as con:
        assert SENTINEL not in comments(con)


def old_format_warehouse(path: Path) -> None:
    """A warehouse as census made it before versions were recorded: every table, no
    version row, a loaded file; and one column from an older release missing."""
    with duckdb.connect(str(path)) as con:
        create_tables(con)
        con.execute("INSERT INTO audit.ingestion_log (file_name, sha256, kind, status) "
                    "VALUES ('licensing/it''s; DROP TABLE x.xlsx', 'abc', 'licensing', "
                    "'loaded')")
        con.execute("ALTER TABLE audit.quarantine DROP COLUMN observed_at")


def test_a_warehouse_made_before_versions_is_adopted_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "census.duckdb"
    old_format_warehouse(path)
    warehouse = Warehouse(path=str(path))
    with warehouse.writer() as con:
        assert schema_version(con) == latest_version()
        assert con.execute("SELECT file_name, status FROM audit.ingestion_log").fetchall() == [
            ("licensing/it's; DROP TABLE x.xlsx", "loaded")]
        assert "observed_at" in {c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'audit' "
            "AND table_name = 'quarantine'").fetchall()}


def test_a_new_migration_applies_once(tmp_path: Path) -> None:
    calls = []

    def add_region(con: duckdb.DuckDBPyConnection) -> None:
        calls.append(1)
        con.execute("ALTER TABLE core.dim_hub ADD COLUMN region VARCHAR")
        con.execute("UPDATE core.dim_hub SET region = 'east' WHERE side = 'east'")

    later = (*MIGRATIONS, Migration(latest_version() + 1, "dim_hub gains region", add_region))
    with duckdb.connect(str(tmp_path / "census.duckdb")) as con:
        assert migrate(con) == [m.version for m in MIGRATIONS]
        con.execute("INSERT INTO core.dim_hub (hub_code, side) VALUES ('JJJ', 'east')")
        assert migrate(con, later) == [latest_version() + 1]
        assert migrate(con, later) == []
        assert calls == [1]
        assert schema_version(con) == latest_version(later)
        assert con.execute("SELECT hub_code, region FROM core.dim_hub").fetchall() == [
            ("JJJ", "east")]


def test_a_failing_migration_leaves_the_warehouse_at_its_version(tmp_path: Path) -> None:
    def half_done(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("ALTER TABLE core.dim_hub ADD COLUMN region VARCHAR")
        raise RuntimeError("the migration's second statement failed")

    later = (*MIGRATIONS, Migration(latest_version() + 1, "fails", half_done))
    with duckdb.connect(str(tmp_path / "census.duckdb")) as con:
        migrate(con)
        with pytest.raises(RuntimeError, match="second statement"):
            migrate(con, later)
        assert schema_version(con) == latest_version()
        assert con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'dim_hub' "
                           "AND column_name = 'region'").fetchone() == (0,)


def check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CENSUS, "check", "--warehouse", str(path)], capture_output=True,
                          text=True, timeout=300)


def test_a_schema_newer_or_older_than_the_code_is_named(tmp_path: Path) -> None:
    newer = tmp_path / "newer.duckdb"
    with duckdb.connect(str(newer)) as con:
        migrate(con)
        con.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?, 'from a later census', "
                    "current_timestamp)", [latest_version() + 1])
    with pytest.raises(SchemaTooNew, match=f"schema version {latest_version() + 1} is newer"):
        open_writer(newer)
    done = check(newer)
    assert done.returncode == 1
    assert (f"schema version {latest_version() + 1} is newer than this census knows "
            f"({latest_version()}): run a census at least as new as the one that last wrote "
            "the warehouse") in done.stderr.splitlines()
    assert done.stdout == f"census check {newer}: 1 problem\n"
    older = tmp_path / "older.duckdb"
    old_format_warehouse(older)
    done = check(older)
    assert done.returncode == 1
    assert (f"no schema version recorded, behind this census ({latest_version()}): the next "
            "census run migrates it") in done.stderr.splitlines()


def test_an_export_from_a_warehouse_behind_the_code_names_its_schema(tmp_path: Path) -> None:
    """A census upgraded since the warehouse was last published exports nothing from it
    (its SQL may call what the older schema lacks): it says what to run."""
    env = env_for(tmp_path)
    published = Path(env["CENSUS_WAREHOUSE"])
    published.parent.mkdir(parents=True)
    old_format_warehouse(published)
    done = subprocess.run([*CENSUS, "export", "--month", "2025-01"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert (f"{published}: no schema version recorded, behind this census "
            f"({latest_version()}): the next census run migrates it") in done.stderr
    assert not (tmp_path / "exports" / "2025-01").exists()


def test_china_month_bounds_are_macros_analysts_can_call(tmp_path: Path) -> None:
    """A China month runs from 16:00 UTC on the last day of the month before: the
    bounds every model, the coverage and the export share, in the published file."""
    path = tmp_path / "w.duckdb"
    open_writer(path)
    Warehouse(path=str(path)).publish()
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        start, end, before, first, clock = con.execute("""
            SELECT china_month_start(DATE '2025-03-01'), china_month_end(DATE '2025-03-01'),
                   china_month(TIMESTAMPTZ '2025-02-28 15:59:59+00'),
                   china_month(TIMESTAMPTZ '2025-02-28 16:00:00+00'),
                   china_time(TIMESTAMPTZ '2025-02-28 16:00:00+00')""").fetchone()
        documented = con.execute("SELECT count(DISTINCT function_name) FROM duckdb_functions() "
                                 "WHERE function_name LIKE 'china_%' AND comment IS NOT NULL"
                                 ).fetchone()[0]
    finally:
        con.close()
    assert (start.isoformat(), end.isoformat()) == ("2025-02-28T16:00:00+00:00",
                                                    "2025-03-31T16:00:00+00:00")
    assert (before.isoformat(), first.isoformat()) == ("2025-02-01", "2025-03-01")
    assert clock.isoformat() == "2025-03-01T00:00:00"
    assert documented == 5


def test_exact_sum_is_the_decimal_sum_in_any_order(tmp_path: Path) -> None:
    """exact_sum, in the published file, gives the bits of the sum of the values as
    decimals of 12 places (ties of the 12th place rounded away from zero, as DuckDB's
    cast rounds them), whatever order the values are added in."""
    path = tmp_path / "w.duckdb"
    open_writer(path)
    Warehouse(path=str(path)).publish()
    rng = random.Random(7)
    values = [0.1, 0.2, 0.3, 5e-13, 2.5e-12, -2.5e-12, 1.5e-12, 1234.5678, 9.87654321e13]
    # within 10^-9 of a tie of the 12th place, where a cast that nudged before rounding
    # would round otherwise
    values += [sign * v for sign in (1, -1) for v in (2.4999999996e-12, 2.5000000004e-12,
                                                      1234567.4999999996e-12, 0.0000004999999999)]
    values += [rng.choice((1, -1)) * 10 ** rng.uniform(-14, 14) for _ in range(20_000)]
    values += [round(rng.uniform(0, 5_000), rng.randint(0, 4)) for _ in range(20_000)]
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("CREATE TEMP TABLE v AS SELECT unnest($values) AS x, "
                    "generate_subscripts($values, 1) % 97 AS grp", {"values": values})
        (differing,) = con.execute("""
            SELECT count(*) FROM (
                SELECT exact_sum(x) AS exact,
                       CAST(sum(CAST(x AS DECIMAL(38, 12))) AS DOUBLE) AS as_decimals
                FROM v GROUP BY grp)
            WHERE exact IS DISTINCT FROM as_decimals""").fetchone()
        in_order = con.execute("SELECT exact_sum(x) FROM (SELECT x FROM v ORDER BY x)"
                               ).fetchone()
        reversed_ = con.execute("SELECT exact_sum(x) FROM (SELECT x FROM v ORDER BY x DESC)"
                                ).fetchone()
        small = con.execute("SELECT exact_sum(x), sum(x) FROM (SELECT CAST(x AS DOUBLE) AS x "
                            "FROM (VALUES (0.1), (0.2), (0.3)) AS t(x))").fetchone()
        documented = con.execute("SELECT comment IS NOT NULL FROM duckdb_functions() "
                                 "WHERE function_name = 'exact_sum'").fetchone()
    finally:
        con.close()
    assert differing == 0
    assert in_order == reversed_
    assert small == (0.6, 0.6000000000000001)
    assert documented == (True,)

"""Comparing warehouse files: integrity, and equality up to run ids and times; and
whether Spark wrote a lake's files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from pipelines.defs.models.sql_files import sql_models
from pipelines.warehouse.integrity import integrity_problems, mismatches, table_keys

# The key Spark's Parquet writer puts in each file's footer, beside its version.
SPARK_WROTE = b"org.apache.spark.version"
# Their build history differs by design: a resumed run rebuilds what a killed one had.
HISTORY = {"audit.model_builds", "audit.run_failures", "audit.deliveries"}


def problems(warehouse: Path) -> list[str]:
    """`census check` of the file."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return integrity_problems(con, sql_models())
    finally:
        con.close()


def differences(warehouse: Path, expected: Path, tolerance: float = 0.0) -> list[str]:
    """Tables whose content differs, without run ids and times (`*_at` compared as set or
    not). Every table must match exactly, doubles to the last bit: the hourly means are
    added in value order and every sum behind the models is exact. With a `tolerance`,
    the doubles of tables with keys (the models') within it, relative."""
    keys = table_keys(sql_models())
    con = duckdb.connect()
    try:
        for alias, path in (("s", warehouse), ("e", expected)):
            quoted = str(path).replace("'", "''")  # ATTACH takes no parameters
            con.execute(f"ATTACH '{quoted}' AS {alias} (READ_ONLY)")
        tables: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for database, schema, table, column, data_type in con.execute(
                "SELECT database_name, schema_name, table_name, column_name, data_type "
                "FROM duckdb_columns() WHERE database_name IN ('s', 'e') AND NOT internal "
                "ORDER BY column_index").fetchall():
            name = f"{schema}.{table}"
            if name not in HISTORY and column != "run_id":
                tables.setdefault(name, {}).setdefault(database, []).append((column, data_type))
        found = []
        for name, sides in sorted(tables.items()):
            if sides.get("s") != sides.get("e"):
                found.append(f"{name}: columns differ")
                continue
            columns = sides["s"]
            listed = ", ".join(f"({c} IS NULL) AS {c}" if c.endswith("_at") and
                               c != "observed_at" else c for c, _ in columns)
            stored, wanted = (f"(SELECT {listed} FROM {db}.{name})" for db in ("s", "e"))
            if name in keys:
                counts = mismatches(con, stored, wanted, keys[name], columns,
                                    tolerance=tolerance)
            else:
                counts = con.execute(f"SELECT (SELECT count(*) FROM ({stored} EXCEPT ALL "
                                     f"{wanted})), (SELECT count(*) FROM ({wanted} EXCEPT ALL "
                                     f"{stored}))").fetchone()
            if any(counts):
                found.append(f"{name}: {counts}")
        return found
    finally:
        con.close()


def written_by_spark(files: list[Path]) -> bool:
    """Whether there are Parquet `files` and Spark's writer wrote each of them."""
    return bool(files) and all(SPARK_WROTE in (pq.read_metadata(f).metadata or {})
                               for f in files)

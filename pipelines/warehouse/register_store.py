"""The register in the warehouse: accepted submission rows, corrections, versions."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.warehouse.tables import column_names, insert_frame


def add_register_rows(con: duckdb.DuckDBPyConnection, accepted: pl.DataFrame,
                      source_file: str, sha256: str) -> None:
    """Append a submission's accepted rows, numbered after every submission loaded
    before it: the number decides which of two workbooks corrects the other."""
    load_order = con.execute(
        "SELECT coalesce(max(load_order), 0) + 1 FROM core.register_rows").fetchone()[0]
    insert_frame(con, "core.register_rows", accepted.with_columns(
        source_file=pl.lit(source_file), sha256=pl.lit(sha256),
        load_order=pl.lit(load_order, dtype=pl.Int64)))


def rebuild_centre_register(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Mark the rows that a later-loaded workbook corrects (same centre and as-of) with
    that workbook, then rewrite core.centre_register from the rows that stand: identical
    copies within a workbook collapse to the first. Returns the rows marked now
    (source_file, source_sheet, source_row, centre_id, as_of, replaced_by). Run when a
    workbook was attempted: a change to these rules reaches a warehouse with its next
    workbook, or with a migration that calls this."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE register_corrections AS
        WITH loads AS (
            SELECT DISTINCT centre_id, as_of, load_order, source_file FROM core.register_rows),
        successors AS (
            SELECT *, lead(source_file) OVER (PARTITION BY centre_id, as_of
                                              ORDER BY load_order) AS replaced_by
            FROM loads)
        SELECT r.source_file, r.source_sheet, r.source_row, r.centre_id, r.as_of,
               s.replaced_by, r.load_order
        FROM core.register_rows r
        JOIN successors s USING (centre_id, as_of, load_order)
        WHERE r.replaced_by IS NULL AND s.replaced_by IS NOT NULL
    """)
    con.execute("""
        UPDATE core.register_rows r SET replaced_by = c.replaced_by
        FROM register_corrections c
        WHERE r.centre_id = c.centre_id AND r.as_of = c.as_of
          AND r.load_order = c.load_order AND r.replaced_by IS NULL
    """)
    register = column_names("core.centre_register")
    attributes = register[: register.index("valid_from")]
    con.execute("DELETE FROM core.centre_register")
    con.execute(f"""
        INSERT INTO core.centre_register ({', '.join(register)})
        WITH kept AS (
            SELECT * FROM core.register_rows
            WHERE replaced_by IS NULL
            QUALIFY row_number() OVER (PARTITION BY centre_id, as_of
                                       ORDER BY source_sheet, source_row) = 1
        ),
        versioned AS (
            SELECT *, as_of AS valid_from,
                   lead(as_of) OVER (PARTITION BY centre_id ORDER BY as_of) AS valid_to
            FROM kept
        )
        SELECT {', '.join(attributes)},
               valid_from, valid_to, valid_to IS NULL AS is_current,
               source_file, source_sheet, source_row
        FROM versioned ORDER BY centre_id, valid_from
    """)
    corrections = con.sql("SELECT * EXCLUDE (load_order) FROM register_corrections "
                          "ORDER BY ALL").pl()
    con.execute("DROP TABLE register_corrections")
    return corrections

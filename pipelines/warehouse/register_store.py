"""The register in the warehouse: accepted submission rows, versions, conflicts."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.warehouse.tables import column_names, insert_frame

# What makes two rows of the same centre and as-of "identical": every canonical value,
# with province/hub/cluster compared by code, not by how they were written.
_CONTENT = [
    "centre_name", "operator_name", "operator_uscc", "city", "design_racks", "design_it_kw",
    "design_pue", "centre_type", "design_pflops", "licence_no", "licence_issued",
    "licence_expires", "commissioned", "status", "province_code", "hub_code", "cluster_code",
]


def add_register_rows(con: duckdb.DuckDBPyConnection, accepted: pl.DataFrame,
                      source_file: str, sha256: str) -> None:
    insert_frame(con, "core.register_rows", accepted.with_columns(
        source_file=pl.lit(source_file), sha256=pl.lit(sha256)))


def rebuild_centre_register(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Rewrite core.centre_register from every accepted row: identical duplicates
    (same centre and as-of) collapse to the first copy; conflicting ones are all left
    out, so the previous version stands. Returns the conflicting rows."""
    content = ", ".join(_CONTENT)
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW register_conflicts AS
        SELECT r.* FROM core.register_rows r
        JOIN (SELECT centre_id, as_of FROM core.register_rows
              GROUP BY centre_id, as_of HAVING count(DISTINCT struct_pack({content})) > 1) c
        USING (centre_id, as_of)
    """)
    register = column_names("core.centre_register")
    attributes = register[: register.index("valid_from")]
    con.execute("DELETE FROM core.centre_register")
    con.execute(f"""
        INSERT INTO core.centre_register ({', '.join(register)})
        WITH kept AS (
            SELECT * FROM core.register_rows
            WHERE (centre_id, as_of) NOT IN (SELECT (centre_id, as_of) FROM register_conflicts)
            QUALIFY row_number() OVER (PARTITION BY centre_id, as_of
                                       ORDER BY source_file, source_sheet, source_row) = 1
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
    return con.sql("""
        SELECT source_file, sha256, source_sheet, source_row, centre_id, as_of
        FROM register_conflicts ORDER BY centre_id, as_of, source_file, source_sheet, source_row
    """).pl()

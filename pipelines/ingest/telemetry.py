"""Telemetry exports → typed samples with their findings, in DuckDB: the export's
columns are mapped to the canonical ones (aliases, unit factors), then the SQL
transforms of dbt_like_sql/ingest/ read the values and apply the row rules of §1.2.
No rows come into Python."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from pipelines.ingest.ingest_sql import transform
from pipelines.ingest.telemetry_readers import Export
from pipelines.ingest.values import norm_key
from schemas.rules import Rule
from schemas.telemetry import MEASURES, TELEMETRY_COLUMNS

ALIASES = {norm_key(alias): (column.name, factor)
           for column in TELEMETRY_COLUMNS for alias, factor in column.aliases.items()}
REQUIRED = [c.name for c in TELEMETRY_COLUMNS if c.required]
SAMPLES_SQL = transform("telemetry_samples")
RULES_SQL = transform("telemetry_rules")
# Column types whose values are exactly the DOUBLE their text reads as (a DOUBLE's text is
# its shortest round trip; an integer's is exact): read as they are. FLOAT and DECIMAL
# columns are read through their text, which names another DOUBLE than their value.
NUMBER_TYPES = {"DOUBLE", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER",
                "USMALLINT", "UTINYINT"}


class ExportRejected(Exception):
    """The whole export is rejected; the message is the reason."""


def column_map(columns: list[str]) -> dict[str, tuple[str, float]]:
    """canonical -> (the file's column, unit factor). The first matching column wins."""
    found: dict[str, tuple[str, float]] = {}
    for column in columns:
        hit = ALIASES.get(norm_key(column))
        if hit and hit[0] not in found:
            found[hit[0]] = (column, hit[1])
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise ExportRejected(f"no column for {', '.join(missing)} (columns found: "
                             f"{', '.join(columns)})")
    return found


def number_columns(columns: list[str]) -> list[str]:
    """The file's columns that carry measures (none where a required column is missing:
    the file is then rejected after it is read)."""
    try:
        mapping = column_map(columns)
    except ExportRejected:
        return []
    return [mapping[m][0] for m in MEASURES if m in mapping]


def check_export(con: duckdb.DuckDBPyConnection, typed: dict[str, str],
                 mapping: dict[str, tuple[str, float]], export: Export, file_name: str,
                 text_cells: Callable[[], tuple[str, dict[str, str]]]) -> None:
    """`export_cells` (the file as read, its columns `typed`) → `file_parsed`: every row's
    sample, whether its centre is registered, and whether anything is found in it; then
    the rows anything is found in, read again from their cells as written (`text_cells`:
    the table holding those and its columns' types), with their findings → `file_checked`.
    The file's columns are referred to by position, so its header text never enters the
    SQL."""
    params = export_params(mapping, export, file_name)
    _export_text(con, "export_cells", typed, mapping, export.first_row, typed_numbers=True)
    run_checks(con, SAMPLES_SQL, params, parsed=True)
    flagged = con.execute("SELECT count(*) FROM file_parsed WHERE flagged").fetchone()[0]
    table, types = text_cells() if flagged else ("export_cells", typed)
    _export_text(con, table, types, mapping, export.first_row, typed_numbers=False)
    run_checks(con, SAMPLES_SQL, params)


def parse_scan(con: duckdb.DuckDBPyConnection, scan: str, scan_params: dict[str, object],
               typed: dict[str, str], mapping: dict[str, tuple[str, float]], export: Export,
               file_name: str) -> None:
    """The rows of `scan` (the file as read, its columns `typed`) → `file_parsed`, as
    `check_export` makes it but straight from the file, without the rows' numbers
    (source_row is NULL)."""
    source = export_text_sql(scan, typed, mapping, "CAST(NULL AS BIGINT)", typed_numbers=True)
    run_checks(con, SAMPLES_SQL, {**export_params(mapping, export, file_name), **scan_params},
               parsed=True, export_text=source)


def export_params(mapping: dict[str, tuple[str, float]], export: Export,
                  file_name: str) -> dict[str, object]:
    """The transforms' parameters for an export whose columns are `mapping`."""
    labels = {name: source for name, (source, _) in mapping.items()}
    return {"file": file_name, "row_word": export.row_word,
            "decimal_comma": export.decimal_comma, "required": REQUIRED, **_labels(labels),
            **{f"factor_{m}": float(mapping.get(m, (None, 1))[1]) for m in MEASURES}}


def _export_text(con: duckdb.DuckDBPyConnection, table: str, typed: dict[str, str],
                 mapping: dict[str, tuple[str, float]], first_row: int,
                 typed_numbers: bool) -> None:
    """The view `export_text` (telemetry_samples.sql's input) over the cells in `table`:
    with `typed_numbers`, every row, with the numbers of number columns as they are;
    without, the rows `file_parsed` flags, every cell as text."""
    # Row ids follow the file's order (DuckDB keeps insertion order); the first need not
    # be 0.
    offset = first_row - con.execute(f"SELECT min(rowid) FROM {table}").fetchone()[0]
    rows = "" if typed_numbers else (
        f"WHERE rowid + {int(offset)} IN (SELECT source_row FROM file_parsed WHERE flagged)")
    con.execute("CREATE OR REPLACE TEMP VIEW export_text AS " + export_text_sql(
        f"{table} {rows}", typed, mapping, f"rowid + {int(offset)}", typed_numbers))


def export_text_sql(source: str, typed: dict[str, str], mapping: dict[str, tuple[str, float]],
                    source_row: str, typed_numbers: bool, prefix: str = "#") -> str:
    """telemetry_samples.sql's input over `source` (see `_export_text`), whose columns
    are `typed`, referred to by position: `#n` in DuckDB, or with another `prefix`
    (Spark's view of a file names its columns `c1`, `c2`, …)."""
    position = {name: n for n, name in enumerate(typed, start=1)}
    # A time typed with its time zone (Parquet) is taken as it is, not through text.
    ts_column = mapping["ts"][0]
    typed_instant = typed[ts_column] == "TIMESTAMP WITH TIME ZONE"
    instant = f"{prefix}{int(position[ts_column])}" if typed_instant else \
        "CAST(NULL AS TIMESTAMPTZ)"
    cells = ", ".join(_cell(c.name, mapping, position, prefix, typed, typed_numbers)
                      if not (c.name == "ts" and typed_instant)
                      else f"CAST(NULL AS VARCHAR) AS {c.name}" for c in TELEMETRY_COLUMNS)
    return f"SELECT {source_row} AS source_row, {cells}, {instant} AS ts_instant FROM {source}"


def _cell(name: str, mapping: dict[str, tuple[str, float]], position: dict[str, int], prefix: str,
          typed: dict[str, str], typed_numbers: bool) -> str:
    """A canonical column of `export_text`, and `<measure>_typed` beside a measure."""
    column = mapping.get(name, (None, 1))[0]
    if column is None:
        text = f"CAST(NULL AS VARCHAR) AS {name}"
    elif name in MEASURES and typed_numbers and typed[column] in NUMBER_TYPES:
        at = f"{prefix}{int(position[column])}"
        return f"CASE WHEN {at} IS NOT NULL THEN '' END AS {name}, " \
               f"CAST({at} AS DOUBLE) AS {name}_typed"
    else:
        text = f"{_as_text(f'{prefix}{int(position[column])}', typed[column])} AS {name}"
    return f"{text}, CAST(NULL AS DOUBLE) AS {name}_typed" if name in MEASURES else text


def run_checks(con: duckdb.DuckDBPyConnection, samples_sql: str,
               params: dict[str, object], parsed: bool = False,
               export_text: str | None = None) -> None:
    """The row rules on `samples_sql` (typed samples with the measures as written and the
    findings so far, telemetry_samples.sql's shape) → the temporary table `file_checked`,
    in one query: the samples are never stored on their own. With `parsed`, the samples
    and whether anything is found in them → `file_parsed` instead. `export_text`: the
    query `samples_sql` reads as export_text, where that is not the view. The connection
    has the forms (`create_forms`)."""
    checked = checks_sql(samples_sql, export_text)
    if parsed:
        checked = f"""SELECT source_row, centre_id, ts, {", ".join(MEASURES)}, known,
                             flagged FROM ({checked})"""
    target = "file_parsed" if parsed else "file_checked"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS {checked}", _used(checked, params))


def checks_sql(samples_sql: str, export_text: str | None = None,
               rules_sql: str = RULES_SQL) -> str:
    """The row rules (telemetry_rules.sql, or `rules_sql` made of it) on `samples_sql`,
    which reads `export_text`: the view of that name, or the query given."""
    source = f"export_text AS ({export_text}\n), " if export_text else ""
    return (f"WITH {source}telemetry_samples AS ({samples_sql}\n) "
            f"SELECT * FROM ({rules_sql}\n)")


def check_pending(con: duckdb.DuckDBPyConnection, file_name: str, row_word: str) -> None:
    """The row rules on the pending samples of one file whose centres are registered now
    → `file_checked`; findings name the canonical columns, values as stored."""
    written = ", ".join(f"CAST({m} AS VARCHAR) AS {m}_written" for m in MEASURES)
    run_checks(con, f"""
        SELECT source_row, centre_id, ts, {", ".join(MEASURES)}, {written}, FALSE AS unread,
               CAST([] AS STRUCT(column_name VARCHAR, value VARCHAR, rule VARCHAR,
                                 message VARCHAR)[]) AS findings
        FROM core.telemetry_pending
        WHERE file_name = $pending_file
          AND centre_id IN (SELECT centre_id FROM core.centre_register)""",
               {"pending_file": file_name, "file": file_name, "row_word": row_word,
                **_labels({m: m for m in MEASURES})})


def _labels(labels: dict[str, str]) -> dict[str, object]:
    return {f"label_{c.name}": labels.get(c.name) for c in TELEMETRY_COLUMNS}


def _used(sql: str, params: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in params.items() if f"${k}" in sql}


def _as_text(column: str, data_type: str) -> str:
    """The `column` as the text the transforms read (Parquet columns are typed): naive
    timestamps without an offset (China time, contract §1.2); floating-point numbers as
    DuckDB writes them, whichever engine reads them."""
    if data_type.startswith("TIMESTAMP"):
        return f"strftime(CAST({column} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%f')"
    if data_type in ("DOUBLE", "FLOAT"):
        # Cast to its own type, named by a constant of the code: DuckDB's macros take a
        # column by position (`#n`) only inside an expression.
        own = "FLOAT" if data_type == "FLOAT" else "DOUBLE"
        return f"telemetry_number_text(CAST({column} AS {own}))"
    return column if data_type == "VARCHAR" else f"CAST({column} AS VARCHAR)"


def unknown_centre_message(file_name: str, row_word: str) -> str:
    """The message for an unknown centre (DuckDB format() placeholders: row, centre)."""
    return (f"{file_name}, {row_word} {{}}, column 'centre_id': centre {{}} is not in the "
            f"register; kept and loaded once it is registered ({Rule.UNKNOWN_CENTRE})")

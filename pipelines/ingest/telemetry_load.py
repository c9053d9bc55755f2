"""The telemetry run: new exports → samples → hours in core.telemetry_hourly, with
restatements, conflicting duplicates, and unknown centres kept until registered.

Each file is read and checked into temporary tables first, outside any transaction
(DuckDB scans the tables of an open transaction on one thread), so a file rejected
half-way leaves nothing behind. Its writes to the warehouse are then one transaction
together with its ingestion_log row (the re-examination of pending samples is another)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipelines.ingest.attempts import (
    attempt_new_files,
    file_verdicts,
    files_to_ingest,
    now,
    unreadable,
)
from pipelines.ingest.export_opener import ExportOpener
from pipelines.ingest.files import LandingFile
from pipelines.ingest.hours_sql import (
    ALL_ON_THE_HOUR,
    FIRST_COPY,
    HOUR_US,
    MEASURE_COLUMNS,
    clean_samples_sql,
    conflicts_sql,
    hours_sql,
)
from pipelines.ingest.ingest_sql import create_forms
from pipelines.ingest.telemetry import (
    ExportRejected,
    check_export,
    check_pending,
    column_map,
    number_columns,
    parse_scan,
    unknown_centre_message,
)
from pipelines.ingest.telemetry_readers import (
    Export,
    ExportUnreadable,
    load_cells,
    load_text_cells,
    load_typed_cells,
    number_types,
    scan_columns,
)
from pipelines.spark import SparkError
from pipelines.warehouse.audit import FileOutcome
from pipelines.warehouse.tables import run_statements
from schemas.rules import Rule

if TYPE_CHECKING:  # pyspark is loaded only where Spark runs
    from pipelines.spark.lake import Lake

KIND = "telemetry"
# A sample's hour, as a number.
_HOUR_NUMBER = f"epoch_us(ts) // {HOUR_US}"
# The span of hours up to which duplicate samples are sought in a bitstring per centre (two
# years: under 3 KB a centre).
_BITSTRING_HOURS = 2 * 366 * 24
# The findings of the file's rows, one row each (file_checked holds them as lists).
_FINDINGS = """CREATE OR REPLACE TEMP TABLE file_findings AS
    SELECT source_row, centre_id, f.column_name, f.value, f.rule, 'error' AS severity,
           f.message, ts AS observed_at
    FROM (SELECT source_row, centre_id, ts, unnest(findings) AS f FROM file_checked
          WHERE len(findings) > 0)"""
_CLEAN = clean_samples_sql("file_checked")
# The samples of rows checked whole (pending samples, or an export Spark checked).
_CHECKED_SAMPLES = f"CREATE OR REPLACE TEMP VIEW file_samples AS {_CLEAN}"
# An export's samples: the rows nothing was found in, and those read again without finding.
_SAMPLES = f"""CREATE OR REPLACE TEMP VIEW file_samples AS
    SELECT source_row, centre_id, ts, {MEASURE_COLUMNS}, known FROM file_parsed
    WHERE NOT flagged
    UNION ALL {_CLEAN}"""


# A file's temporary tables and views, dropped when its writes are done or it is rejected.
_STAGING = ["export_cells", "export_text_cells", "export_text", "file_parsed", "file_checked",
            "file_findings", "file_samples", "file_duplicates", "file_conflicts", "file_clean",
            "new_hours", "restated"]


@dataclass(frozen=True)
class TelemetryReport:
    outcomes: list[FileOutcome]
    resolved: int  # pending samples loaded because their centre is now registered
    months: list[dt.date]  # months (China time) whose hours this run wrote


def ingest_telemetry(con: duckdb.DuckDBPyConnection, files: list[LandingFile],
                     run_id: str, scratch: Path,
                     open_lake: Callable[[], Lake | None] | None = None) -> TelemetryReport:
    """The new exports of `files` into the warehouse, each read and checked by DuckDB, or
    by Spark in the lake `open_lake` gives (CENSUS_ENGINE=spark; opened only where there
    is an export to read)."""
    create_forms(con)  # once: the transforms of every file call them
    with _joins_as_written(con):
        pending = _pending_files(con)
        verdicts = file_verdicts(con, files, KIND)
        new = files_to_ingest(verdicts)
        lake = open_lake() if open_lake is not None and (new or pending) else None
        con.execute("BEGIN TRANSACTION")
        resolved = _reexamine_pending(con, run_id, pending, lake)
        con.execute("COMMIT")
        if lake is not None and new:
            lake.copy_in(con, ["core.centre_register"])  # the rules read it
        with ExportOpener(new, scratch,
                          None if lake is None else lake.check_telemetry) as opener:
            outcomes = attempt_new_files(
                con, verdicts, KIND, run_id,
                lambda file, outcome: _stage_export(con, file, outcome, run_id, opener,
                                                   lake),
                commit_each=True)
    months = [row[0] for row in con.execute(
        "SELECT DISTINCT month FROM audit.telemetry_loads WHERE run_id = ? ORDER BY month",
        [run_id]).fetchall()]
    return TelemetryReport(outcomes, resolved, months)


@contextmanager
def _joins_as_written(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Every join hashes its right side, as the SQL writes it (the register, the few
    duplicate or restated keys). DuckDB estimates the tables an open transaction made
    (the re-examined pending samples) as empty: it would otherwise hash their rows and
    probe them with the register's. Not reset on an error: the run's connection is then
    closed."""
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    yield
    con.execute("RESET disabled_optimizers")


def _stage_export(con: duckdb.DuckDBPyConnection, file: LandingFile, outcome: FileOutcome,
                  run_id: str, opener: ExportOpener, lake: Lake | None
                  ) -> Callable[[], None] | None:
    """The export read and checked into temporary tables; returns its writes to the
    warehouse (None where it is rejected)."""
    try:
        opened = opener.open(file)
        export = opened.export
        if lake is not None and opened.checked is not None:  # read and checked by Spark
            outcome.rows_read = opened.checked.rows_read
            if opened.checked.rejection is not None:
                raise opened.checked.rejection
            lake.load_checked(con, file, opened.checked)
            samples = _CHECKED_SAMPLES
        elif stage_whole(con, export, file.file_name, outcome):
            return _writes(con, export, outcome,
                           lambda: write_hours(con, file.file_name, run_id, outcome))
        else:
            _check_in_duckdb(con, export, file.file_name, outcome)
            samples = _SAMPLES
    except (ExportUnreadable, ExportRejected) as exc:
        _drop_staging(con)
        outcome.status, outcome.message = "rejected", str(exc)
        return None
    except SparkError:  # not the file's fault: the step fails, the next run tries it again
        _drop_staging(con)
        raise
    except Exception as exc:  # a hostile or broken file must not stop the other files
        _drop_staging(con)
        outcome.status, outcome.message = "rejected", unreadable(exc)
        return None
    finally:
        opener.release(file)
    run_statements(con, [_FINDINGS, samples], {})
    # Spark made the export's hours already (the same transforms); DuckDB makes its own.
    params = _stage_clean(con, file, export.row_word,
                          None if lake is None else lambda: lake.load_hours(con, file))
    return _writes(con, export, outcome, lambda: _write_file(con, params, file, outcome, run_id))


def _check_in_duckdb(con: duckdb.DuckDBPyConnection, export: Export, file_name: str,
                     outcome: FileOutcome) -> None:
    """The export's rows → `file_parsed`, and those anything is found in → `file_checked`
    (`check_export`)."""
    typed = load_typed_cells(con, export, number_columns)
    columns = load_cells(con, export) if typed is None else typed
    outcome.rows_read = con.execute("SELECT count(*) FROM export_cells").fetchone()[0]
    if outcome.rows_read == 0:
        raise ExportRejected("the export has no rows")
    mapping = column_map(list(columns))
    check_export(con, columns, mapping, export, file_name,
                 lambda: ("export_cells", columns) if typed is None else
                 ("export_text_cells", load_text_cells(con, export)))
    con.execute("DROP TABLE export_cells")  # its rows are in file_parsed now
    con.execute("DROP TABLE IF EXISTS export_text_cells")


def _writes(con: duckdb.DuckDBPyConnection, export: Export, outcome: FileOutcome,
            write: Callable[[], None]) -> Callable[[], None]:
    """`write`, then the file's temporary tables dropped and how it was read noted."""
    def written() -> None:
        write()
        _drop_staging(con)
        outcome.message = "; ".join(filter(None, [f"read as {export.described}",
                                                  outcome.message]))
    return written


def stage_whole(con: duckdb.DuckDBPyConnection, export: Export, file_name: str,
                outcome: FileOutcome) -> bool:
    """The export read once, straight from the file, when each of its rows is a sample
    nothing is found in, of a registered centre, sent once (a national export as it
    should be): its hours → `new_hours`. False, with nothing kept, where one is not:
    the file is then read into a table, whose row ids give each finding its row. The
    connection has the forms (`create_forms`)."""
    if not _parse_once(con, export, file_name):
        _drop_staging(con)
        return False
    rows, whole, on_the_hour, first, last = con.execute(f"""
        SELECT count(*), coalesce(bool_and(known AND NOT flagged), FALSE),
               {ALL_ON_THE_HOUR}, min({_HOUR_NUMBER}), max({_HOUR_NUMBER})
        FROM file_parsed""").fetchone()
    if whole:
        whole = not _sent_twice(con, on_the_hour, first, last)
    if not whole:
        _drop_staging(con)
        return False
    outcome.rows_read = outcome.rows_loaded = rows
    stage_hours(con, "SELECT * FROM file_parsed", one_sample_per_hour=on_the_hour)
    return True


def _sent_twice(con: duckdb.DuckDBPyConnection, on_the_hour: bool, first: int | None,
                last: int | None) -> bool:
    """Whether a (centre, ts) of `file_parsed` (every centre registered) is there twice.
    Samples on the hour within a bounded span are counted against a bitstring of their
    hours per centre, a few kilobytes each: five times cheaper than grouping the rows by
    key."""
    if on_the_hour and first is not None and last - first < _BITSTRING_HOURS:
        return con.execute(f"""
            SELECT sum(samples) <> sum(bit_count(hours)) FROM (
                SELECT count(*) AS samples,
                       bitstring_agg({_HOUR_NUMBER}, $first, $last) AS hours
                FROM file_parsed GROUP BY centre_id)""",
                           {"first": first, "last": last}).fetchone()[0]
    return con.execute("""SELECT count(*) > 0 FROM (SELECT 1 FROM file_parsed
                          GROUP BY centre_id, ts HAVING count(*) > 1)""").fetchone()[0]


def _parse_once(con: duckdb.DuckDBPyConnection, export: Export, file_name: str) -> bool:
    """The export → `file_parsed` straight from the file: numbers as DuckDB reads them
    where the export allows (`number_types`), else, or where a cell is no such number,
    every cell as text. False where it cannot be read so."""
    try:
        types = number_types(con, export, number_columns)
    except duckdb.Error:
        return False
    for typed_read in ([False] if types is None else [True, False]):
        scan = export.typed_scan if typed_read and export.typed_scan else export.scan
        params = {**export.params(), "columns": types} if typed_read else export.params()
        try:
            typed = scan_columns(con, scan, params)
            parse_scan(con, scan, params, typed, column_map(list(typed)), export, file_name)
        except (duckdb.Error, ExportRejected):
            continue
        return True
    return False


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    found = con.execute("""
        SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND view_name IN $names
        UNION ALL
        SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name IN $names
        ORDER BY 2 DESC""", {"names": _STAGING}).fetchall()  # views first: they read tables
    for name, kind in found:
        con.execute(f"DROP {kind} {name}")


def _stage_clean(con: duckdb.DuckDBPyConnection, file: LandingFile, row_word: str,
                 load_hours: Callable[[], None] | None = None) -> dict[str, object]:
    """Conflicting duplicates out, identical ones once → the view `file_clean`, and the
    hours of its registered centres → `new_hours` (or `load_hours` stages those
    another engine made); returns the parameters of the file's writes."""
    conflict = str(Rule.CONFLICTING_DUPLICATE)
    params = {"file": file.file_name, "sha": file.sha256,
              "unknown": unknown_centre_message(file.file_name, row_word),
              "conflict": f"{file.file_name}, {row_word} {{}}, column 'ts': centre {{}} has "
                          f"other, different samples at {{}} in this file; all are rejected "
                          f"({conflict})"}
    run_statements(con, [
        """CREATE OR REPLACE TEMP TABLE file_duplicates AS
           SELECT centre_id, ts FROM file_samples GROUP BY centre_id, ts HAVING count(*) > 1"""],
        params)
    duplicates = con.execute("SELECT count(*) FROM file_duplicates").fetchone()[0]
    # Only keys sent more than once need the (costly) distinct-content test and the
    # first-row pick; most files have none, and then every sample is clean.
    run_statements(con, [
        f"""CREATE OR REPLACE TEMP TABLE file_conflicts AS
            SELECT s.* FROM file_samples s SEMI JOIN ({conflicts_sql(
                "SELECT * FROM file_samples SEMI JOIN file_duplicates USING (centre_id, ts)")}
            ) c USING (centre_id, ts)""",
        f"""INSERT INTO file_findings
            SELECT source_row, centre_id, 'ts', strftime(ts, '%Y-%m-%dT%H:%M:%SZ'),
                   '{conflict}', 'error', format($conflict, source_row, centre_id,
                   strftime(ts, '%Y-%m-%dT%H:%M:%SZ')), ts
            FROM file_conflicts""",
        f"""CREATE OR REPLACE TEMP VIEW file_clean AS
           SELECT * FROM file_samples ANTI JOIN file_duplicates USING (centre_id, ts)
           UNION ALL
           SELECT * FROM (
               SELECT * FROM file_samples SEMI JOIN file_duplicates USING (centre_id, ts)
               ANTI JOIN file_conflicts USING (centre_id, ts)
               QUALIFY {FIRST_COPY})""",
    ] if duplicates else ["CREATE OR REPLACE TEMP VIEW file_clean AS SELECT * FROM file_samples"],
        params)
    run_statements(con, [
        f"""INSERT INTO file_findings
            SELECT source_row, centre_id, 'centre_id', centre_id, '{Rule.UNKNOWN_CENTRE}',
                   'error', format($unknown, source_row, centre_id), ts
            FROM file_clean WHERE NOT known"""], params)
    if load_hours is not None:
        load_hours()
        return params
    on_the_hour = con.execute(f"SELECT {ALL_ON_THE_HOUR} FROM file_samples").fetchone()[0]
    stage_hours(con, "SELECT * FROM file_clean WHERE known",
                one_sample_per_hour=duplicates == 0 and on_the_hour)
    return params


def _write_file(con: duckdb.DuckDBPyConnection, params: dict[str, object],
                file: LandingFile, outcome: FileOutcome, run_id: str) -> None:
    """Unknown centres to pending; findings to the quarantine; the hours to
    core.telemetry_hourly."""
    run_statements(con, [
        f"""INSERT INTO core.telemetry_pending
            SELECT $file, $sha, source_row, centre_id, ts, {MEASURE_COLUMNS}
            FROM file_clean WHERE NOT known""",
        """INSERT INTO audit.quarantine BY NAME
           SELECT $file AS file_name, $sha AS sha256, * FROM file_findings""",
    ], params)
    write_hours(con, file.file_name, run_id, outcome)
    outcome.rows_rejected = con.execute(
        "SELECT count(DISTINCT source_row) FROM file_findings").fetchone()[0]
    outcome.rows_loaded = outcome.rows_read - outcome.rows_rejected


def stage_hours(con: duckdb.DuckDBPyConnection, samples_sql: str,
                one_sample_per_hour: bool = False) -> None:
    """Hourly means of the samples (`hours_sql`) → `new_hours`."""
    # Hourly samples are their hours: read where they are, not copied.
    create = ("CREATE OR REPLACE TEMP VIEW new_hours AS " if one_sample_per_hour else
              "CREATE OR REPLACE TEMP TABLE new_hours AS ")
    con.execute(create + hours_sql(samples_sql, one_sample_per_hour))


def write_hours(con: duckdb.DuckDBPyConnection, file_name: str, run_id: str,
                outcome: FileOutcome | None = None) -> None:
    """`new_hours` replace whatever earlier files loaded for the same centre-hours (a
    restatement); audit.telemetry_loads records how many."""
    # Restatements are sought only among the stored hours of the same time span:
    # constant bounds let DuckDB skip the rest of the history by its min/max indexes.
    low, high = con.execute("SELECT min(hour_start), max(hour_start) FROM new_hours").fetchone()
    with _without_fsst(con):
        run_statements(con, [
            """CREATE OR REPLACE TEMP TABLE restated AS
               SELECT centre_id, hour_start FROM new_hours SEMI JOIN (
                   SELECT centre_id, hour_start FROM core.telemetry_hourly
                   WHERE hour_start BETWEEN $low AND $high) USING (centre_id, hour_start)""",
            """DELETE FROM core.telemetry_hourly h USING restated r
               WHERE h.centre_id = r.centre_id AND h.hour_start = r.hour_start
                 AND h.hour_start BETWEEN $low AND $high""",
            """INSERT INTO core.telemetry_hourly BY NAME
               SELECT *, $file AS source_file FROM new_hours""",
            # per hour first: the time-zone conversion then runs once per hour, not per row
            """INSERT INTO audit.telemetry_loads
               SELECT $run, $file,
                      china_month(hour_start) AS month,
                      sum(written), sum(replaced), $now
               FROM (SELECT n.hour_start, count(*) AS written, count(r.centre_id) AS replaced
                     FROM new_hours n LEFT JOIN restated r USING (centre_id, hour_start)
                     GROUP BY n.hour_start)
               GROUP BY month""",
        ], {"file": file_name, "run": run_id, "now": now(), "low": low, "high": high})
    replaced = con.execute("SELECT count(*) FROM restated").fetchone()[0]
    if outcome is not None and replaced:
        hours = "centre-hour" if replaced == 1 else "centre-hours"
        outcome.message = f"restated {replaced} {hours} loaded by earlier files"


@contextmanager
def _without_fsst(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's FSST compression off: the hours' strings are few values each (the centre
    IDs, the file's name), which DuckDB stores as a dictionary, and weighing FSST for them
    as well took a tenth of writing the hours. The setting is the database's, not the
    connection's; census sets it nowhere else."""
    con.execute("SET disabled_compression_methods = 'fsst'")
    try:
        yield
    finally:
        con.execute("RESET disabled_compression_methods")


def _pending_files(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """The files with pending samples of centres registered since they arrived: name,
    SHA-256 and how many."""
    return con.execute("""
        SELECT file_name, any_value(sha256), count(*) FROM core.telemetry_pending
        WHERE centre_id IN (SELECT centre_id FROM core.centre_register)
        GROUP BY file_name ORDER BY file_name""").fetchall()


def _reexamine_pending(con: duckdb.DuckDBPyConnection, run_id: str,
                       files: list[tuple[str, str, int]], lake: Lake | None) -> int:
    """Samples of centres registered since they arrived (`files`): checked against the
    register now and loaded (their hours kept in the `lake` too, where there is one);
    their unknown_centre findings are marked resolved."""
    for file_name, sha, _ in files:
        row_word = "record" if file_name.lower().endswith(".parquet") else "line"
        check_pending(con, file_name, row_word)
        run_statements(con, [_FINDINGS, _CHECKED_SAMPLES], {})
        stage_hours(con, "SELECT * FROM file_samples")
        write_hours(con, file_name, run_id)
        if lake is not None:
            lake.keep_resolved(con, run_id, file_name)
        run_statements(con, ["""INSERT INTO audit.quarantine BY NAME
                                SELECT $file AS file_name, $sha AS sha256, * FROM file_findings"""],
                       {"file": file_name, "sha": sha})
        _drop_staging(con)
    run_statements(con, [
        """UPDATE audit.quarantine SET resolved_at = $now
           WHERE rule = $rule AND resolved_at IS NULL
             AND centre_id IN (SELECT centre_id FROM core.centre_register)""",
        """DELETE FROM core.telemetry_pending
           WHERE centre_id IN (SELECT centre_id FROM core.centre_register)""",
    ], {"now": now(), "rule": str(Rule.UNKNOWN_CENTRE)})
    return sum(count for _, _, count in files)

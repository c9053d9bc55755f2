"""Which landing files a run attempts: each (name, SHA-256) once; the same bytes under
another name are `skipped_duplicate`; other formats are `rejected`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from pipelines.ingest.files import LandingFile, is_supported, unsupported_reason
from pipelines.warehouse.audit import FileOutcome, attempted_files, record_outcomes


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Reads a file and checks it; returns its writes to the warehouse, if any.
Ingest = Callable[[LandingFile, FileOutcome], Callable[[], None] | None]


def attempt_new_files(con: duckdb.DuckDBPyConnection, files: list[LandingFile], kind: str,
                      run_id: str | None, ingest: Ingest,
                      commit_each: bool = False) -> list[FileOutcome]:
    """Call `ingest` for every file not attempted before, in the files' order, then the
    writes it returns. With `commit_each`, `ingest` runs outside any transaction and the
    writes are one transaction that also records the file's outcome: a run that dies keeps
    the files it finished, and each file's work is freed as it ends."""
    attempted, first_by_sha = attempted_files(con, kind)
    outcomes: list[FileOutcome] = []
    for file in files:
        if (file.file_name, file.sha256) in attempted:
            continue  # this very file was attempted by an earlier run
        outcome = FileOutcome(file.file_name, file.sha256, kind, "loaded", now(), run_id=run_id)
        write = None
        if file.sha256 in first_by_sha:
            outcome.status = "skipped_duplicate"
            outcome.message = f"same bytes as {first_by_sha[file.sha256]}"
        elif not is_supported(file, kind):
            outcome.status, outcome.message = "rejected", unsupported_reason(file, kind)
        else:
            write = ingest(file, outcome)
        if commit_each:
            con.execute("BEGIN TRANSACTION")
        if write is not None:
            write()
        first_by_sha.setdefault(file.sha256, file.file_name)
        outcome.finished_at = now()
        outcomes.append(outcome)
        if commit_each:
            record_outcomes(con, [outcome])
            con.execute("COMMIT")
    return outcomes


def unreadable(exc: Exception) -> str:
    """The reason for a file that failed in an unforeseen way: a hostile or broken file
    is rejected, and the other files go on."""
    return f"could not be read: {type(exc).__name__}: {str(exc)[:300]}"

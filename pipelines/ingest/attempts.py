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


# A file not attempted before, what becomes of it, and why (`file_verdicts`).
Verdict = tuple[LandingFile, str, str | None]

# Reads a file and checks it; returns its writes to the warehouse, if any.
Ingest = Callable[[LandingFile, FileOutcome], Callable[[], None] | None]


def attempt_new_files(con: duckdb.DuckDBPyConnection, verdicts: list[Verdict], kind: str,
                      run_id: str | None, ingest: Ingest,
                      commit_each: bool = False) -> list[FileOutcome]:
    """Record each of `verdicts` (`file_verdicts`), in order, calling `ingest` for every
    file to be loaded, then the writes it returns. With `commit_each`, `ingest` runs
    outside any transaction and the writes are one transaction that also records the
    file's outcome: a run that dies keeps the files it finished, and each file's work is
    freed as it ends."""
    outcomes: list[FileOutcome] = []
    for file, status, message in verdicts:
        outcome = FileOutcome(file.file_name, file.sha256, kind, status, now(), run_id=run_id,
                              message=message)
        write = ingest(file, outcome) if status == "loaded" else None
        if commit_each:
            con.execute("BEGIN TRANSACTION")
        if write is not None:
            write()
        outcome.finished_at = now()
        outcomes.append(outcome)
        if commit_each:
            record_outcomes(con, [outcome])
            con.execute("COMMIT")
    return outcomes


def files_to_ingest(verdicts: list[Verdict]) -> list[LandingFile]:
    """The files `attempt_new_files` will hand to its `ingest`, in order."""
    return [file for file, status, _ in verdicts if status == "loaded"]


def file_verdicts(con: duckdb.DuckDBPyConnection, files: list[LandingFile],
                  kind: str) -> list[Verdict]:
    """Each file not attempted before (by name and SHA-256) with what becomes of it:
    "loaded" (to be ingested), "skipped_duplicate" (the same bytes as an earlier file)
    or "rejected" (not a format of its kind), and why."""
    attempted, first_by_sha = attempted_files(con, kind)
    verdicts: list[Verdict] = []
    for file in files:
        if (file.file_name, file.sha256) in attempted:
            continue  # this very file was attempted by an earlier run
        if file.sha256 in first_by_sha:
            verdicts.append((file, "skipped_duplicate",
                             f"same bytes as {first_by_sha[file.sha256]}"))
        elif not is_supported(file, kind):
            verdicts.append((file, "rejected", unsupported_reason(file, kind)))
        else:
            verdicts.append((file, "loaded", None))
        first_by_sha.setdefault(file.sha256, file.file_name)
    return verdicts


def unreadable(exc: Exception) -> str:
    """The reason for a file that failed in an unforeseen way: a hostile or broken file
    is rejected, and the other files go on."""
    return f"could not be read: {type(exc).__name__}: {str(exc)[:300]}"

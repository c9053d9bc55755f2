"""The licensing register run: new workbooks → register rows, quarantine, versions, log.
The asset calls this inside one warehouse transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.ingest.attempts import (
    attempt_new_files,
    file_verdicts,
    files_to_ingest,
    unreadable,
)
from pipelines.ingest.files import LandingFile
from pipelines.ingest.register import FileRejected, RegisterSubmission, read_register_files
from pipelines.reference import Reference
from pipelines.warehouse.audit import FileOutcome, quarantine, record_outcomes
from pipelines.warehouse.register_store import add_register_rows, rebuild_centre_register

KIND = "licensing"


@dataclass(frozen=True)
class LicensingReport:
    outcomes: list[FileOutcome]
    versions: int
    centres: int

    def status_counts(self) -> Counter:
        return Counter(o.status for o in self.outcomes)


def ingest_licensing(con: duckdb.DuckDBPyConnection, files: list[LandingFile],
                     reference: Reference, run_id: str | None = None) -> LicensingReport:
    """Ingest every register workbook not attempted before (by name and SHA-256), one by
    one, as read_register_files reads them (their rows checked in batches)."""
    verdicts = file_verdicts(con, files, KIND)
    new = files_to_ingest(verdicts)
    submissions = zip(new, read_register_files([(f.path, f.file_name) for f in new],
                                               reference), strict=True)

    def ingest(file: LandingFile, outcome: FileOutcome) -> None:
        read, submission = next(submissions)
        assert read == file, (read, file)  # both in the verdicts' order
        _ingest_file(con, file, submission, outcome)

    outcomes = attempt_new_files(con, verdicts, KIND, run_id, ingest)
    if outcomes:  # else the register's rows are as the last rebuild left them
        _note_corrections(rebuild_centre_register(con), outcomes)
    record_outcomes(con, outcomes)
    versions, centres = con.execute(
        "SELECT count(*), count(DISTINCT centre_id) FROM core.centre_register").fetchone()
    return LicensingReport(outcomes, versions, centres)


def _ingest_file(con: duckdb.DuckDBPyConnection, file: LandingFile,
                 submission: RegisterSubmission | Exception, outcome: FileOutcome) -> None:
    if isinstance(submission, FileRejected):
        outcome.status, outcome.message = "rejected", str(submission)
        return
    if isinstance(submission, Exception):  # a hostile or broken file: the others go on
        outcome.status, outcome.message = "rejected", unreadable(submission)
        return
    add_register_rows(con, submission.accepted, file.file_name, file.sha256)
    quarantine(con, submission.issues, file.file_name, file.sha256)
    outcome.rows_read = submission.rows_read
    outcome.rows_loaded = submission.accepted.height
    outcome.rows_rejected = submission.rows_rejected
    outcome.rows_warned = submission.rows_warned
    outcome.message = "; ".join(submission.notes) or None


def _note_corrections(corrections: pl.DataFrame, outcomes: list[FileOutcome]) -> None:
    """Say in each correcting file's log entry which earlier workbooks' rows it replaced."""
    by_file = {o.file_name: o for o in outcomes}
    for (file_name,), rows in corrections.group_by("replaced_by", maintain_order=True):
        if file_name not in by_file:
            continue
        replaced = ", ".join(f"{n} of {f}" for f, n in
                             rows.group_by("source_file").len().sort("source_file").iter_rows())
        outcome = by_file[file_name]
        note = f"corrects rows of earlier workbooks: {replaced}"
        outcome.message = f"{outcome.message}; {note}" if outcome.message else note

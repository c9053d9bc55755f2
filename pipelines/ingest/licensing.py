"""The licensing register run: new workbooks → register rows, quarantine, versions, log.
The asset calls this inside one warehouse transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.ingest.attempts import attempt_new_files, unreadable
from pipelines.ingest.files import LandingFile
from pipelines.ingest.register import QUARANTINE_SCHEMA, FileRejected, read_register_file
from pipelines.reference import Reference
from pipelines.warehouse.audit import FileOutcome, quarantine, record_outcomes
from pipelines.warehouse.register_store import add_register_rows, rebuild_centre_register
from schemas.rules import Rule, Severity

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
    """Ingest every register workbook not attempted before (by name and SHA-256)."""
    outcomes = attempt_new_files(
        con, files, KIND, run_id,
        lambda file, outcome: _ingest_file(con, file, reference, outcome))
    conflicts = rebuild_centre_register(con)
    _quarantine_conflicts(con, conflicts, outcomes)
    record_outcomes(con, outcomes)
    versions, centres = con.execute(
        "SELECT count(*), count(DISTINCT centre_id) FROM core.centre_register").fetchone()
    return LicensingReport(outcomes, versions, centres)


def _ingest_file(con: duckdb.DuckDBPyConnection, file: LandingFile, reference: Reference,
                 outcome: FileOutcome) -> None:
    try:
        submission = read_register_file(file.path, file.file_name, reference)
    except FileRejected as exc:
        outcome.status, outcome.message = "rejected", str(exc)
        return
    except Exception as exc:  # a hostile or broken file must not stop the other files
        outcome.status, outcome.message = "rejected", unreadable(exc)
        return
    add_register_rows(con, submission.accepted, file.file_name, file.sha256)
    quarantine(con, submission.issues, file.file_name, file.sha256)
    outcome.rows_read = submission.rows_read
    outcome.rows_loaded = submission.accepted.height
    outcome.rows_rejected = submission.rows_rejected
    outcome.rows_warned = submission.rows_warned
    outcome.message = "; ".join(submission.notes) or None


def _quarantine_conflicts(con: duckdb.DuckDBPyConnection, conflicts: pl.DataFrame,
                          outcomes: list[FileOutcome]) -> None:
    """Quarantine conflicting duplicates not quarantined before; a row of this run's
    files moves from loaded to rejected."""
    known = con.execute(
        "SELECT file_name AS source_file, sheet AS source_sheet, source_row "
        "FROM audit.quarantine WHERE rule = ?", [str(Rule.CONFLICTING_DUPLICATE)]).pl()
    fresh = conflicts.join(known, on=["source_file", "source_sheet", "source_row"], how="anti")
    by_file = {o.file_name: o for o in outcomes}
    for (file_name, sha), rows in fresh.group_by("source_file", "sha256", maintain_order=True):
        issues = rows.select(
            sheet="source_sheet", source_row="source_row", centre_id="centre_id",
            column_name=pl.lit("centre_id"), value="centre_id",
            rule=pl.lit(str(Rule.CONFLICTING_DUPLICATE)), severity=pl.lit(str(Severity.ERROR)),
            message=pl.format(
                "{}, sheet '{}', row {}: centre {} has another, different row with as-of {}; "
                "all copies rejected, the previous version stands ({})",
                pl.lit(file_name), "source_sheet", "source_row", "centre_id",
                pl.col("as_of").cast(pl.String), pl.lit(str(Rule.CONFLICTING_DUPLICATE))),
        ).cast(QUARANTINE_SCHEMA)
        quarantine(con, issues, file_name, sha)
        if file_name in by_file:
            by_file[file_name].rows_loaded -= rows.height
            by_file[file_name].rows_rejected += rows.height

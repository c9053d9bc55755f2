"""audit.ingestion_log and audit.quarantine: writing and reading back."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import duckdb
import polars as pl

from pipelines.warehouse.tables import insert_frame


@dataclass
class FileOutcome:
    """One row of audit.ingestion_log."""

    file_name: str
    sha256: str
    kind: str
    status: str  # loaded, skipped_duplicate, rejected
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_warned: int = 0
    message: str | None = None
    run_id: str | None = None


def attempted_files(con: duckdb.DuckDBPyConnection, kind: str
                    ) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """(file_name, sha256) pairs already attempted, and the first file name per sha256."""
    rows = con.execute(
        "SELECT file_name, sha256 FROM audit.ingestion_log WHERE kind = ? "
        "ORDER BY started_at, file_name", [kind]).fetchall()
    first: dict[str, str] = {}
    for name, sha in rows:
        first.setdefault(sha, name)
    return {(name, sha) for name, sha in rows}, first


def record_outcomes(con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome]) -> None:
    if not outcomes:
        return
    insert_frame(con, "audit.ingestion_log", pl.DataFrame([asdict(o) for o in outcomes]))


def quarantine(con: duckdb.DuckDBPyConnection, issues: pl.DataFrame, file_name: str,
               sha256: str) -> None:
    """Record findings of one file (QUARANTINE_SCHEMA columns)."""
    if issues.height == 0:
        return
    insert_frame(con, "audit.quarantine",
                 issues.with_columns(file_name=pl.lit(file_name), sha256=pl.lit(sha256)))


def attempted_sha256s(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The SHA-256 of every file any run attempted, of either kind."""
    return {sha for (sha,) in con.execute(
        "SELECT DISTINCT sha256 FROM audit.ingestion_log").fetchall()}

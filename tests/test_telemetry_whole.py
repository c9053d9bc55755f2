"""An export whose every row is a sample nothing is found in, of a registered centre,
sent once, is read once, straight from the file; what it stores is what the read into
a table (row by row, each finding with its row) stores, in every format."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.ingest.files import LandingFile, sha256_of
from pipelines.ingest.ingest_sql import create_forms
from pipelines.ingest.telemetry_load import ingest_telemetry, stage_whole
from pipelines.ingest.telemetry_readers import open_export
from pipelines.warehouse.audit import FileOutcome
from tests.test_telemetry_typed import HEADER, _warehouse

# Clean samples in every accepted form of a time and a number; two in one hour.
CLEAN = [
    ["DC110100-0001", "2025-03-06T00:00:00Z", "10", "1.5", "2.25", "30", ""],
    ["DC110100-0001", "2025-03-06T00:30:00Z", "12", "1.25", "2.5", "31", "7"],
    ["DC110100-0001", "2025-03-06T09:00:00+08:00", " 12 ", "1e3", "1500", "30.5", "4"],
    ["DC110100-0002", "2025-03-06 10:00", "50", "1", "2", "3", "4"],
    ["dc110100-0002", "1741230000", "60", "1", "2", "3", "4"],
    ["DC110100-0002", "1741233600000", "70", "1,000", "2,000", "3", "4"],
]
# Samples on the hour only: a key sent twice is then sought hour by hour per centre.
HOURLY = [row for row in CLEAN if ":30" not in row[1]]
UNKNOWN = ["DC999999-0001", "2025-03-06T09:00:00Z", "5", "1", "2", "3", "4"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    """`rows` under HEADER in the format the name says."""
    name = path.name
    if name.endswith(".parquet"):
        columns = list(zip(*rows, strict=True))
        pq.write_table(pa.table({h: pa.array(c) for h, c in zip(HEADER, columns,
                                                                  strict=True)}), path)
    elif name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(dict(zip(HEADER, r, strict=True))) + "\n"
                                for r in rows), encoding="utf-8")
    elif name.endswith(".semicolon.csv"):  # a decimal comma, read as text
        text = [[c.replace(",", "") if n == 2 else c.replace(",", "").replace(".", ",")
                 for n, c in enumerate(r)] for r in rows]
        path.write_text("\n".join(";".join(r) for r in [HEADER, *text]) + "\n",
                        encoding="utf-8")
    else:
        text = "\n".join(",".join(f'"{c}"' for c in r) for r in [HEADER, *rows]) + "\n"
        path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz")
                         else text.encode())
    return path


def _stored(export: Path, tmp_path: Path) -> tuple[list[tuple], FileOutcome]:
    con = _warehouse(tmp_path / f"{export.name}.duckdb")
    report = ingest_telemetry(con, [LandingFile(export, f"telemetry/{export.name}",
                                                sha256_of(export))], "run", tmp_path / "s")
    hours = con.execute("SELECT * EXCLUDE (source_file) FROM core.telemetry_hourly "
                        "ORDER BY ALL").fetchall()
    return hours, report.outcomes[0]


def _read_once(export: Path, tmp_path: Path) -> bool:
    con = _warehouse(tmp_path / f"{export.name}.once.duckdb")
    outcome = FileOutcome(export.name, "", "telemetry", "loaded", dt.datetime.now(dt.UTC))
    create_forms(con)
    return stage_whole(con, open_export(export, tmp_path), export.name, outcome)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".semicolon.csv", ".jsonl",
                                    ".parquet"])
def test_a_clean_export_read_once_stores_what_the_row_read_stores(tmp_path: Path,
                                                                   suffix: str) -> None:
    clean = _write(tmp_path / f"clean{suffix}", CLEAN)
    # One sample of an unregistered centre: the file is read into a table instead.
    mixed = _write(tmp_path / f"mixed{suffix}", [*CLEAN, UNKNOWN])
    assert _read_once(clean, tmp_path)
    assert not _read_once(mixed, tmp_path)
    (hours, outcome), (row_hours, row_outcome) = _stored(clean, tmp_path), \
        _stored(mixed, tmp_path)
    assert outcome.status == "loaded", outcome.message
    assert hours == row_hours
    assert len(hours) == 5  # two samples in the first hour are its mean
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected) == (6, 6, 0)
    assert (row_outcome.rows_read, row_outcome.rows_loaded) == (7, 6)


@pytest.mark.parametrize("rows", [
    [*CLEAN, ["DC110100-0001", "2025-03-06T00:00:00Z", "10", "1.5", "2.25", "30", ""]],
    [*HOURLY, ["DC110100-0002", "2025-03-06T02:00:00Z", "50", "1", "2", "3", "4"]],
    [*HOURLY, ["DC110100-0001", "2025-03-06T01:00:00Z", "11", "1", "2", "3", "4"]],
    [*HOURLY, ["DC110100-0001", "2028-03-06T01:00:00Z", "11", "1", "2", "3", "4"],
     ["DC110100-0002", "2025-03-06T02:00:00Z", "50", "1", "2", "3", "4"]],
    [*CLEAN[:-1], ["DC110100-0002", "1741233600000", "-70", "1", "2", "3", "4"]],
    [*CLEAN[:-1], ["DC110100-0002", "", "70", "1", "2", "3", "4"]],
], ids=["sent twice", "sent twice on the hour", "sent twice on the hour, other values",
        "sent twice on the hour over three years", "a rule broken", "a value missing"])
def test_an_export_with_anything_to_report_is_read_row_by_row(tmp_path: Path,
                                                              rows: list[list[str]]) -> None:
    assert not _read_once(_write(tmp_path / "export.csv", rows), tmp_path)


def test_an_hourly_export_of_each_key_once_is_read_once(tmp_path: Path) -> None:
    assert _read_once(_write(tmp_path / "hourly.csv", HOURLY), tmp_path)


def test_read_once_keeps_nothing_of_an_export_it_declines(tmp_path: Path) -> None:
    con = _warehouse(tmp_path / "w.duckdb")
    create_forms(con)  # without the forms, the read would fail rather than decline
    outcome = FileOutcome("x", "", "telemetry", "loaded", dt.datetime.now(dt.UTC))
    export = _write(tmp_path / "mixed.csv", [*CLEAN, UNKNOWN])
    assert not stage_whole(con, open_export(export, tmp_path), "mixed.csv", outcome)
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() \
        == (0,)
    assert outcome.rows_read is None or outcome.rows_read == 0

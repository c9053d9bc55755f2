"""The typed read of an export (numbers parsed as DuckDB reads the file; the rows anything
is found in read again as text) gives what reading every cell as text gives: the same
hours, pending samples and quarantine entries, value for value."""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.ingest.files import LandingFile, sha256_of
from pipelines.ingest.telemetry import number_columns
from pipelines.ingest.telemetry_load import ingest_telemetry
from pipelines.ingest.telemetry_readers import load_typed_cells, open_export
from pipelines.warehouse.migrations import migrate

HEADER = ["centre_id", "ts", "racks_in_use", "it_load_kw", "facility_load_kw",
          "cpu_util_pct", "gpu_util_pct"]
# Clean rows, and one of each finding a cell or a rule gives.
ROWS = [
    ["DC110100-0001", "2025-03-06T00:00:00Z", "10", "1.5", "2.25", "30", ""],
    ["DC110100-0001", "2025-03-06T01:00:00+08:00", " 12 ", "1e3", "1500", "30.5", "4"],
    ["DC110100-0001", "2025-03-06 02:00", "-5", "1", "2", "3", "4"],  # racks < 0
    ["DC110100-0002", "2025-03-06T03:00:00Z", "500", "1", "2", "3", "4"],  # > 1.1 × design
    ["DC110100-0001", "2025-03-06T04:00:00Z", "5", "3", "2", "3", "4"],  # facility < IT
    ["DC110100-0001", "2025-03-06T05:00:00Z", "", "1", "2", "3", "4"],  # missing racks
    ["DC110100-0001", "2025-03-06T06:00:00Z", "nan", "1", "2", "3", "4"],
    ["DC110100-0001", "2025-03-06T07:00:00Z", "5", "Infinity", "2", "3", "4"],
    ["DC110100-0001", "2025-03-06T11:00:00Z", "5", "1", "2", "3", "NaN"],  # optional column
    ["DC110100-0001", "yesterday", "5", "1", "2", "3", "4"],
    ["", "2025-03-06T08:00:00Z", "5", "1", "2", "3", "4"],
    ["DC999999-0001", "2025-03-06T09:00:00Z", "5", "1", "2", "3", "4"],  # unknown centre
    ["DC110100-0002", "2025-03-06T10:00:00Z", "5", "1", "2", "3", "4"],
    ["DC110100-0002", "2025-03-06T10:00:00Z", "6", "1", "2", "3", "4"],  # conflicting
    ["DC110100-0001", "1741233600", "5", "1", "2", "300", "-1"],  # two out of range
]


def _warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")
    migrate(con)
    con.execute("""INSERT INTO core.centre_register BY NAME
                   SELECT * FROM (VALUES ('DC110100-0001', 1000, DATE '2024-12-31'),
                                         ('DC110100-0002', 100, DATE '2024-12-31'))
                   AS r(centre_id, design_racks, valid_from)""")
    return con


def _ingested(export: Path, tmp_path: Path) -> dict[str, list[tuple]]:
    """What ingesting `export` alone stores, its file name left out."""
    con = _warehouse(tmp_path / f"{export.name}.duckdb")
    name = f"telemetry/{export.name}"
    report = ingest_telemetry(con, [LandingFile(export, name, sha256_of(export))], "run",
                              tmp_path / "scratch")
    assert report.outcomes[0].status == "loaded", report.outcomes[0].message
    return {
        "hours": con.execute("SELECT * EXCLUDE (source_file) FROM core.telemetry_hourly "
                             "ORDER BY ALL").fetchall(),
        "pending": con.execute("SELECT * EXCLUDE (file_name, sha256) FROM "
                               "core.telemetry_pending ORDER BY ALL").fetchall(),
        "quarantine": con.execute(
            "SELECT source_row, centre_id, column_name, value, rule, observed_at, "
            "replace(message, ?, '') FROM audit.quarantine ORDER BY ALL", [name]).fetchall(),
    }


def _csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_a_csv_read_with_typed_numbers_gives_what_its_text_gives(tmp_path: Path) -> None:
    typed = _csv(tmp_path / "typed.csv", [HEADER, *ROWS])
    # A `_` anywhere in the data (here a column no rule reads) has the file read as text.
    text = _csv(tmp_path / "text.csv", [[*HEADER, "note"], *([*r, "a_b"] for r in ROWS)])
    con = duckdb.connect()
    con.execute("BEGIN TRANSACTION")
    assert load_typed_cells(con, open_export(typed, tmp_path), number_columns) == {
        **dict.fromkeys(HEADER, "DOUBLE"), "centre_id": "VARCHAR", "ts": "VARCHAR"}
    assert open_export(text, tmp_path).typed_scan is None
    got, expected = _ingested(typed, tmp_path), _ingested(text, tmp_path)
    assert got == expected
    assert len(got["hours"]) == 2 and len(got["pending"]) == 1
    assert {row[4] for row in got["quarantine"]} == {
        "out_of_range", "inconsistent", "missing", "unparseable", "unknown_centre",
        "conflicting_duplicate"}


@pytest.mark.parametrize("number_type", [pa.float64(), pa.int64()])
def test_typed_parquet_numbers_give_what_their_text_gives(tmp_path: Path,
                                                          number_type: pa.DataType) -> None:
    special = [float("nan"), float("inf"), -1.0] if number_type == pa.float64() else [7, 8, -1]
    numbers = [5, 1500, None, 2, *special]
    columns = {
        "centre_id": ["DC110100-0001"] * 5 + ["DC999999-0001", "DC110100-0002"],
        "ts": [dt.datetime(2025, 3, 6, hour, tzinfo=dt.UTC) for hour in range(7)],
        "racks_in_use": numbers, "it_load_kw": [1] * 7, "facility_load_kw": [2] * 7,
        "cpu_util_pct": [3] * 7}
    typed = pa.table({name: pa.array(values, number_type if name not in ("centre_id", "ts")
                                     else None) for name, values in columns.items()})
    pq.write_table(typed, tmp_path / "typed.parquet")
    # The same values as text: what the transforms read a typed number through.
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * REPLACE (CAST(racks_in_use AS VARCHAR) AS racks_in_use) "
                f"FROM '{tmp_path / 'typed.parquet'}') TO '{tmp_path / 'text.parquet'}'")
    got = _ingested(tmp_path / "typed.parquet", tmp_path)
    assert got == _ingested(tmp_path / "text.parquet", tmp_path)
    assert any(row[4] == "out_of_range" for row in got["quarantine"])
    assert any(row[4] == "missing" for row in got["quarantine"])


def test_a_digit_separator_is_unparseable_though_duckdb_reads_it(tmp_path: Path) -> None:
    export = _csv(tmp_path / "underscore.csv", [HEADER, ROWS[0], [*ROWS[1][:2], "1_000",
                                                                 *ROWS[1][3:]]])
    got = _ingested(export, tmp_path)
    assert [row[2:5] for row in got["quarantine"]] == [("racks_in_use", "1_000",
                                                        "unparseable")]
    assert len(got["hours"]) == 1


def test_duckdb_reads_a_csv_number_as_a_cast_of_its_text(tmp_path: Path) -> None:
    """What the typed CSV read rests on: where DuckDB's reader takes a cell as DOUBLE, it
    is the DOUBLE the cast of the cell's text gives (the number form is that cast, less
    `_`, commas and non-finite values, which the read leaves to the text)."""
    rng = random.Random(5)
    alphabet = "0123456789" * 3 + "+-.eE_ ,xinfINFaty\t\u3000"
    cells = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
                    for _ in range(4000)} | {"1_000", "1e309", "-.5e-3", "+5", "1.", "0x10",
                                              "nan", "-Infinity", " 12 ", "1,5"})
    path = tmp_path / "cells.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(["n", "cell"])
        writer.writerows(enumerate(cells))
    con = duckdb.connect()
    read = con.execute(f"""SELECT n, cell FROM read_csv('{path}', header = true,
                           columns = {{'n': 'BIGINT', 'cell': 'DOUBLE'}}, quote = '"',
                           escape = '"', ignore_errors = true)""").fetchall()
    assert 200 < len(read) < len(cells)  # some cells are numbers, many are not
    cast = dict(con.execute("SELECT n, try_cast(cell AS DOUBLE) FROM (SELECT unnest(?) AS cell, "
                            "generate_subscripts(?, 1) - 1 AS n)", [cells, cells]).fetchall())
    assert [(cells[n], value, cast[n]) for n, value in read if not _same(value, cast[n])] == []


def _same(read: float, cast: float | None) -> bool:
    return cast is not None and (read == cast or (math.isnan(read) and math.isnan(cast)))


def test_a_time_typed_with_its_zone_is_never_missing(tmp_path: Path) -> None:
    """A Parquet `ts` typed as an instant has no text; a row flagged for another cell
    must not also be found missing its time."""
    pq.write_table(pa.table({
        "centre_id": ["DC110100-0001"] * 2,
        "ts": [dt.datetime(2025, 3, 6, hour, tzinfo=dt.UTC) for hour in range(2)],
        "racks_in_use": [5.0, None], "it_load_kw": [1.0] * 2, "facility_load_kw": [2.0] * 2,
        "cpu_util_pct": [3.0] * 2}), tmp_path / "zoned.parquet")
    got = _ingested(tmp_path / "zoned.parquet", tmp_path)
    assert [row[2:5] for row in got["quarantine"]] == [("racks_in_use", None, "missing")]
    assert len(got["hours"]) == 1

"""Telemetry parsing: timestamps, numbers, column aliases and units (contract §1.2)."""

import datetime as dt
import gzip
import os
import unicodedata
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.ingest_sql import create_forms
from pipelines.ingest.telemetry import ExportRejected, column_map
from pipelines.ingest.telemetry_readers import ExportUnreadable, load_cells, open_export

UTC = dt.UTC
MIDNIGHT_UTC = dt.datetime(2025, 6, 30, 16, 0, tzinfo=UTC)  # 2025-07-01 00:00 China


def forms() -> duckdb.DuckDBPyConnection:
    """A connection with the SQL macros that read telemetry values."""
    con = duckdb.connect()
    create_forms(con)
    return con


@pytest.mark.parametrize("text", [
    "2025-07-01T00:00:00+08:00", "2025-07-01 00:00:00+08:00", "2025-06-30T16:00:00Z",
    "2025-06-30T16:00:00+00:00", "2025-07-01T00:00:00", "2025-07-01 00:00:00",
    "2025-07-01T00:00", "2025-07-01T00:00:00.000+0800", "1751299200", "1751299200000",
    # 24:00, the end of a day; an offset after the minutes, or to the hour (PostgreSQL's
    # text); the widest offsets, ±18:00
    "2025-06-30T24:00:00+08:00", "2025-06-30T24:00", "2025-06-30 24:00:00.000",
    "2025-07-01T00:00+08:00", "2025-07-01 00:00:00+08", "2025-07-01T00:00+08",
    "2025-07-01T10:00:00+18:00", "2025-06-29T22:00-1800", "2025-07-01T10:00+18",
])
def test_every_timestamp_form(text: str) -> None:
    assert forms().execute("SELECT telemetry_ts(?)", [text]).fetchone()[0] == MIDNIGHT_UTC


@pytest.mark.parametrize("text", [
    "2025-13-45T25:00:00", "yesterday", "12345", "",
    "2025-06-30T24:00:01+08:00", "2025-06-30T24:30", "2025-06-30T23:60:00Z",
    "2025-07-01T11:00:00+19:00", "2025-07-01T10:00:00+1460",
])
def test_unreadable_timestamps_are_null(text: str) -> None:
    assert forms().execute("SELECT telemetry_ts(?)", [text]).fetchone()[0] is None


@pytest.mark.parametrize("text, decimal_comma, expected", [
    ("1234.5", False, 1234.5), (" 12 ", False, 12.0), ("1,234.5", False, 1234.5),
    ("1234,5", True, 1234.5), ("0,25", True, 0.25), ("n/a", False, None), ("nan", False, None),
    ("inf", False, None),
])
def test_numbers(text: str, decimal_comma: bool, expected: float | None) -> None:
    got = forms().execute("SELECT telemetry_number(?, ?)", [text, decimal_comma]).fetchone()
    assert got[0] == expected


def test_the_trim_removes_unicode_white_space_and_nothing_else() -> None:
    """Padding is any Unicode white space at either end (tab to carriage return, U+0085
    and the separators Zs, Zl, Zp: no-break and ideographic spaces among them); every
    other character of the basic plane is kept, at the ends and within."""
    characters = [chr(c) for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF]
    white = {c for c in characters
             if c in "\t\n\v\f\r\x85" or unicodedata.category(c) in ("Zs", "Zl", "Zp")}
    con = forms()
    con.execute("CREATE TABLE padded AS SELECT unnest(?) AS c", [characters])
    kept = {c for (c,) in con.execute(
        "SELECT c FROM padded WHERE telemetry_trim(c || c || 'x' || c || 'y' || c) "
        "= c || c || 'x' || c || 'y' || c").fetchall()}
    trimmed = {c for (c,) in con.execute(
        "SELECT c FROM padded WHERE telemetry_trim(c || c || 'x' || c || 'y' || c) "
        "= 'x' || c || 'y'").fetchall()}
    # Padding at one end only, a letter at the other.
    one_end = {c for (c,) in con.execute(
        "SELECT c FROM padded WHERE telemetry_trim('x' || c) = 'x' "
        "AND telemetry_trim(c || 'y') = 'y'").fetchall()}
    assert trimmed == white
    assert one_end == white
    assert kept == set(characters) - white
    assert con.execute("SELECT telemetry_trim(?)", ["\u3000 \t"]).fetchone()[0] == ""


def test_aliases_and_units() -> None:
    mapping = column_map(["\ufeffdc_id", "时间", "racks_active", "it_load_mw",
                          "总负载(kW)", "cpu_util_ratio", "pflops_used", "extra"])
    assert mapping["it_load_kw"] == ("it_load_mw", 1000)
    assert mapping["facility_load_kw"] == ("总负载(kW)", 1)
    assert mapping["cpu_util_pct"] == ("cpu_util_ratio", 100)
    assert mapping["compute_used_pflops"] == ("pflops_used", 1)
    assert "gpu_util_pct" not in mapping


def test_an_export_without_a_required_column_is_rejected() -> None:
    with pytest.raises(ExportRejected, match="no column for ts"):
        column_map(["centre_id", "racks_in_use", "it_load_kw", "facility_load_kw",
                    "cpu_util_pct"])


@pytest.mark.parametrize("encoding, separator", [
    ("utf-8", ","), ("utf-8-sig", ";"), ("gb18030", "\t"), ("gb18030", ","),
])
def test_csv_encodings_and_separators(tmp_path: Path, encoding: str, separator: str) -> None:
    text = separator.join(["数据中心编号", "时间", "在用机架数"]) + "\n" + \
        separator.join(["DC110100-0001", "2025-07-01 00:00:00", "12"]) + "\n"
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode(encoding))
    export = open_export(path, tmp_path)
    con = duckdb.connect()
    assert list(load_cells(con, export)) == ["数据中心编号", "时间", "在用机架数"]
    assert con.execute("SELECT * FROM export_cells").fetchall() == [
        ("DC110100-0001", "2025-07-01 00:00:00", "12")]
    assert export.first_row == 2 and export.decimal_comma is (separator == ";")


@pytest.mark.parametrize("line", ['[{"dc_id": "DC110100-0002", "ts": 1751299200}]',
                                  '  ["DC110100-0002"]'])
def test_a_json_line_holding_an_array_rejects_the_export(tmp_path: Path, line: str) -> None:
    """Past the lines whose keys are read first, and past a block of the check: whichever
    engine reads the file, it is refused, as DuckDB's reader refuses it (Spark would read
    an array's objects as rows). Blank lines and objects after white space are lines like
    the others."""
    good = '{"dc_id": "DC110100-0001", "ts": 1751299200}\n'
    path = tmp_path / "x.jsonl"
    path.write_text("\ufeff" + good * 1200 + " \r\n\n  " + good + good * 400_000 + line
                    + "\n" + good, encoding="utf-8")
    with pytest.raises(ExportUnreadable, match=r"^line 401204 holds a JSON array, not an object$"):
        open_export(path, tmp_path)
    path.write_text(good * 1200 + " \r\n\n  " + good, encoding="utf-8")
    assert open_export(path, tmp_path).options["columns"] == {"dc_id": "VARCHAR",
                                                               "ts": "VARCHAR"}


def test_a_json_line_null_is_a_row_of_nulls(tmp_path: Path) -> None:
    """Whichever engine reads it (DuckDB reads `null` so, Spark would refuse the file): the
    engines read a copy in which such a line is `{}`, line for line."""
    good = '{"dc_id": "DC110100-0001", "ts": 1751299200}\n'
    path = tmp_path / "x.jsonl"
    path.write_text(good + "null\n" + good + "  null \r\n" + good, encoding="utf-8")
    (tmp_path / "scratch").mkdir()
    export = open_export(path, tmp_path / "scratch")
    assert export.path.parent == tmp_path / "scratch"
    assert export.path.read_bytes() == (good + "{}\n" + good + "{}\r\n" + good).encode()
    con = duckdb.connect()
    load_cells(con, export)
    assert con.execute("SELECT * FROM export_cells").fetchall() == [
        ("DC110100-0001", "1751299200"), (None, None)] * 2 + [("DC110100-0001", "1751299200")]
    path.write_text(good, encoding="utf-8")
    assert open_export(path, tmp_path).path == path  # no copy where there is no such line


@pytest.mark.parametrize("hint", ["sep=;\n", "\ufeffsep=;\r\n"])
def test_an_excel_separator_hint_line_is_left_out(tmp_path: Path, hint: str) -> None:
    """`sep=;` before the header, as exporters write it for Excel: the header is the next
    line, the separator is found in it, and a row's number stays its line in the file."""
    path = tmp_path / "x.csv"
    path.write_text(hint + "数据中心编号;时间;在用机架数\nDC110100-0001;2025-07-01 00:00;12,5\n",
                    encoding="utf-8")
    (tmp_path / "scratch").mkdir()
    export = open_export(path, tmp_path / "scratch")
    assert (export.first_row, export.decimal_comma) == (3, True)
    con = duckdb.connect()
    assert list(load_cells(con, export)) == ["数据中心编号", "时间", "在用机架数"]
    assert con.execute("SELECT * FROM export_cells").fetchall() == [
        ("DC110100-0001", "2025-07-01 00:00", "12,5")]
    path.write_text("sep;a;b\n1;2;3\n", encoding="utf-8")  # a header, not a hint
    assert open_export(path, tmp_path / "scratch").first_row == 2


def test_gzip_and_broken_gzip(tmp_path: Path) -> None:
    good = tmp_path / "x.jsonl.gz"
    good.write_bytes(gzip.compress(b'{"dc_id": "DC110100-0001", "ts": 1751299200}\n'))
    export = open_export(good, tmp_path)
    con = duckdb.connect()
    assert list(load_cells(con, export)) == ["dc_id", "ts"]
    assert con.execute("SELECT * FROM export_cells").fetchall() == [
        ("DC110100-0001", "1751299200")]
    assert export.first_row == 1
    broken = tmp_path / "y.csv.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ExportUnreadable, match="gzip"):
        open_export(broken, tmp_path)
    # A sound header, then deflate data broken in the middle.
    packed = bytearray(gzip.compress(os.urandom(1 << 16)))
    packed[len(packed) // 2:len(packed) // 2 + 64] = bytes(64)
    broken.write_bytes(bytes(packed))
    with pytest.raises(ExportUnreadable, match="not a readable gzip file"):
        open_export(broken, tmp_path)

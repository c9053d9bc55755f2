"""Broken and hostile files landing beside good ones: each is rejected with a
clear reason, or its unreadable rows quarantined, within bounded memory and time (the
`census run` process's peak RSS), and the good files still load."""

from __future__ import annotations

import gzip
import io
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
from msoffcrypto.format.ooxml import OOXMLFile

from pipelines.ingest.register import ALIASES
from pipelines.ingest.workbook import read_tables
from tests.conftest import Census, copy_into, good_workbooks
from tests.test_publish import census_env

HEADER = b"centre_id,ts,racks_in_use,it_load_kw,facility_load_kw,cpu_util_pct\n"


def _hostile_files(census: Census, source: bytes) -> dict[str, str]:
    """file name -> the reason its rejection must give."""
    licensing, telemetry = census.landing / "licensing", census.landing / "telemetry"
    telemetry.mkdir(exist_ok=True)
    (licensing / "truncated_2025Q1.xlsx").write_bytes(source[: len(source) // 2])
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
        for _ in range(600):
            part.write(b"0" * (1 << 20))  # 600 MiB unpacked from about 600 KiB
    (licensing / "bomb_2025Q1.xlsx").write_bytes(bomb.getvalue())
    (licensing / "picture_2025Q1.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    (licensing / "empty_2025Q1.xlsx").write_bytes(b"")
    (telemetry / "garbage_2025-03.csv").write_bytes(os.urandom(65536))
    with open(telemetry / "long_line_2025-03.csv", "wb") as long_line:  # a 100 MB line
        long_line.write(HEADER)
        for _ in range(100):
            long_line.write(b"A" * 1_000_000)
        long_line.write(b"\n")
    with gzip.open(telemetry / "bomb_2025-03.csv.gz", "wb", compresslevel=9) as packed:
        packed.write(HEADER)
        for _ in range(40):
            packed.write(b"DC110100-0001,2025-03-01T00:00:00Z,1,2,3,4\n" * 25_000)
    pl.DataFrame({"centre_id": [1, 2], "ts": [1.5, 2.5], "racks_in_use": ["a", "b"],
                  "it_load_kw": [True, False], "facility_load_kw": [1, 2],
                  "cpu_util_pct": [1, 2]}).write_parquet(telemetry / "wrong_types_2025-03.parquet")
    (telemetry / "nested_2025-03.jsonl").write_text(
        '{"centre_id": {"a": 1}, "ts": [1, 2], "racks_in_use": 1, "it_load_kw": 2, '
        '"facility_load_kw": 3, "cpu_util_pct": 4}\n')
    (telemetry / "name with space 中文 'quote' ..2025-03.csv").write_bytes(HEADER)
    return {
        "licensing/truncated_2025Q1.xlsx": "not a readable xlsx workbook",
        "licensing/bomb_2025Q1.xlsx": "refused (a zip bomb?)",
        "licensing/picture_2025Q1.xlsx": "not a readable xlsx workbook",
        "licensing/empty_2025Q1.xlsx": "the file is empty",
        "telemetry/garbage_2025-03.csv": "neither UTF-8 nor GB18030 text",
        "telemetry/long_line_2025-03.csv": "a line is longer than 1,048,576 bytes",
        "telemetry/bomb_2025-03.csv.gz": "decompresses to more than 10,000,000 bytes",
        "telemetry/name with space 中文 'quote' ..2025-03.csv": "the export has no rows",
    }


def _hostile_workbooks(census: Census, source: Path, other: Path) -> dict[str, str]:
    """Workbooks made from good ones: file name -> the reason its rejection must give."""
    licensing = census.landing / "licensing"
    with open(source, "rb") as plain, open(licensing / "locked_2025Q1.xlsx", "wb") as locked:
        OOXMLFile(plain).encrypt("secret", locked)
    _with_parts(source, licensing / "macros_2025Q1.xlsm", {
        "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b'Attribute VB_Name = "Module1"\n' * 64,
        "[Content_Types].xml": lambda xml: xml.replace(
            b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")})
    headers = {t.sheet: t.header_row for t in read_tables(source, ALIASES)}
    book = openpyxl.load_workbook(source)
    for sheet, row in headers.items():
        book[sheet].delete_rows(row + 1, book[sheet].max_row)
    book.save(licensing / "header_only_2025Q1.xlsx")

    def million_empty_rows(xml: bytes) -> bytes:
        """1,000,000 formatted but empty rows below the data, as a sheet formatted to the
        bottom is written."""
        last = max(int(n) for n in re.findall(rb'<row r="(\d+)"', xml))
        rows = b"".join(b'<row r="%d" customFormat="1" s="0"><c r="A%d" s="0"/></row>' % (n, n)
                        for n in range(last + 1, last + 1_000_001))
        return xml.replace(b"</sheetData>", rows + b"</sheetData>")

    _with_parts(other, licensing / f"{SQL_LIKE}{other.name}",
                {"xl/worksheets/sheet1.xml": million_empty_rows})
    tall = b'<row r="2000000"><c r="A2000000" t="inlineStr"><is><t>x</t></is></c></row>'
    _with_parts(source, licensing / "tall_2025Q1.xlsx", {
        "xl/worksheets/sheet1.xml": lambda xml: xml.replace(b"</sheetData>",
                                                            tall + b"</sheetData>")})
    return {
        "licensing/tall_2025Q1.xlsx": "has 2,000,000 rows, more than 1,048,576: refused",
        "licensing/locked_2025Q1.xlsx": "the workbook is password-protected",
        "licensing/macros_2025Q1.xlsm": "a macro-enabled workbook is not accepted",
        "licensing/header_only_2025Q1.xlsx": "but no centre rows below it",
    }


def _with_parts(source: Path, target: Path, parts: dict) -> None:
    """A copy of a zip workbook with parts added (bytes) or rewritten (a function)."""
    with zipfile.ZipFile(source) as original, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in original.infolist():
            data = original.read(info)
            change = parts.get(info.filename)
            copy.writestr(info, change(data) if callable(change) else data)
        for name, data in parts.items():
            if not callable(data):
                copy.writestr(name, data)


def _invalid_utf8_export(census: Census, centre_id: str) -> Path:
    """A day of hourly UTF-8 telemetry of a registered centre, two lines with bytes that
    are not UTF-8: line 4 in the centre ID, line 6 in it_load_kw."""
    lines = [HEADER]
    for hour in range(24):
        lines.append(f"{centre_id},2025-03-01T{hour:02d}:00:00+08:00,1,2.5,4.0,50\n".encode())
    lines[3] = lines[3].replace(b"DC", b"D\xffC", 1)
    lines[5] = lines[5].replace(b",2.5,", b",2.\xfe5,", 1)
    path = census.landing / "telemetry" / "invalid_utf8_2025-03.csv"
    path.write_bytes(b"".join(lines))
    return path


SQL_LIKE = "empty rows '); DROP TABLE core.centre_register; -- "

# The gzip bomb need not be gigabytes here: the run's decompression limit is lowered.
RUN = """import sys, pipelines.ingest.telemetry_readers as readers
readers.MAX_DECOMPRESSED_BYTES = 10_000_000
from pipelines.cli import main
sys.exit(main(["run"]))"""


def test_hostile_files_are_rejected_and_good_files_load(
        census: Census, generated: Path, tmp_path: Path) -> None:
    good, other = good_workbooks(generated, "*2025*Q1.xlsx")[:2]
    copy_into(good, census)
    expected = _hostile_files(census, good.read_bytes())
    expected |= _hostile_workbooks(census, good, other)
    [table] = read_tables(good, ALIASES)[:1]
    _invalid_utf8_export(census, table.frame["centre_id"][0])
    other_rows = sum(t.frame.height for t in read_tables(other, ALIASES))

    started = time.monotonic()
    run = subprocess.Popen([sys.executable, "-c", RUN], env=census_env(census, tmp_path),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(run.pid, 0)
    seconds = time.monotonic() - started
    assert os.waitstatus_to_exitcode(status) == 0, run.stderr.read().decode()
    # bounded: well under the 4 GiB a national run may use, and a few minutes
    assert usage.ru_maxrss * 1024 < 1.5 * 2**30 and seconds < 240, (usage.ru_maxrss, seconds)
    print(f"hostile landing: {seconds:.1f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MiB")

    log = {r["file_name"]: r for r in census.query(
        "SELECT file_name, status, rows_loaded, rows_rejected, message "
        "FROM audit.ingestion_log").to_dicts()}
    for name, reason in expected.items():
        assert log[name]["status"] == "rejected", name
        assert reason in log[name]["message"], (name, log[name]["message"])
    # readable rows of the wrong types or shapes: row-level quarantine, nothing loaded
    for name in ("telemetry/wrong_types_2025-03.parquet", "telemetry/nested_2025-03.jsonl"):
        assert log[name]["rows_loaded"] == 0 and log[name]["rows_rejected"] > 0, name
    # the good files, and the good rows beside the bad bytes, load
    assert log[f"licensing/{good.name}"]["status"] == "loaded"
    assert log[f"licensing/{good.name}"]["rows_loaded"] > 0
    # 1,000,000 empty rows skipped; a name made to break quoted SQL stored verbatim
    assert log[f"licensing/{SQL_LIKE}{other.name}"]["rows_loaded"] == other_rows > 0
    assert census.query("SELECT count(*) FROM core.centre_register WHERE source_file = ?",
                        [f"licensing/{SQL_LIKE}{other.name}"]).item() == other_rows
    utf8 = log["telemetry/invalid_utf8_2025-03.csv"]
    assert (utf8["status"], utf8["rows_loaded"], utf8["rows_rejected"]) == ("loaded", 22, 2)
    findings = census.query(
        "SELECT source_row, column_name, rule, message FROM audit.quarantine "
        "WHERE file_name = 'telemetry/invalid_utf8_2025-03.csv' ORDER BY source_row").rows()
    assert [f[:3] for f in findings] == [(4, "centre_id", "unparseable"),
                                         (6, "it_load_kw", "unparseable")]
    assert "not valid UTF-8" in findings[0][3]

"""Formula injection (contract §2.2): a register value that starts with =, +, - or @
reaches the export as text, never as a formula, in the workbook and in the CSVs; and
so does any text of any exported table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
from python_calamine import CalamineWorkbook

from pipelines.defs.resources import Warehouse
from pipelines.export.csvs import write_csv
from pipelines.export.sheets import read_tables
from pipelines.export.text import FORMULA_STARTS
from pipelines.runs import run_export
from tests.conftest import Census

NAME = '=HYPERLINK("http://x","y")'
OPERATOR = "@SUM(1+1)*cmd|' /C calc'!A0"


def test_formula_like_register_values_are_exported_as_text(
        loaded: Census, tmp_path: Path) -> None:
    # A centre the June export lists (a glutted province's), from an xlsx submission.
    centre_id, source_file, sheet, row, old_name, old_operator = loaded.query("""
        SELECT v.centre_id, v.source_file, v.source_sheet, v.source_row, v.centre_name,
               v.operator_name
        FROM marts.centre_monthly c
        JOIN marts.region_monthly r ON r.month = c.month AND r.level = 'province'
         AND r.region_code = c.province_code AND r.glut_flag
        JOIN core.centre_register v ON v.centre_id = c.centre_id
         AND v.valid_from <= DATE '2025-06-30' AND coalesce(v.valid_to > DATE '2025-06-30', TRUE)
        WHERE c.month = DATE '2025-06-01' AND v.source_file LIKE '%.xlsx'
        ORDER BY v.centre_id LIMIT 1""").row(0)
    landing = tmp_path / "landing"  # the register, and June's telemetry (faster)
    shutil.copytree(loaded.landing, landing, ignore=lambda folder, names: [
        n for n in names if n == "_truth"
        or (Path(folder).name == "telemetry" and "2025-06" not in n)])
    submission = landing / source_file
    book = openpyxl.load_workbook(submission)
    cells = {c.value: c for c in book[sheet][row]}
    for old, new in ((old_name, NAME), (old_operator, OPERATOR)):
        cells[old].value = new
        cells[old].data_type = "s"  # typed as text in the province's spreadsheet
    book.save(submission)

    census = Census(landing, tmp_path / "warehouse" / "census.duckdb")
    census.run()
    assert census.query("SELECT centre_name, operator_name FROM core.centre_register "
                        "WHERE centre_id = ? AND source_file = ?",
                        [centre_id, source_file]).row(0) == (NAME, OPERATOR)
    outcome = run_export(dt.date(2025, 6, 1), warehouse=census.warehouse,
                         exports=tmp_path / "exports")
    assert outcome.success, outcome.failure
    folder = tmp_path / "exports" / "2025-06"
    workbook = folder / "census_summary_2025-06.xlsx"

    rows = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name(
        "Glut watchlist").to_python()
    [listed] = [r for r in rows if r[5] == centre_id]
    assert (listed[6], listed[7]) == (NAME, OPERATOR)  # verbatim, as calamine reads it

    sheet_xml = zipfile.ZipFile(workbook)
    for name in sheet_xml.namelist():
        if name.startswith("xl/worksheets/"):
            assert not re.search(rb"<(\w+:)?f[ >]", sheet_xml.read(name)), name  # no formula
    cell = next(c for r in openpyxl.load_workbook(workbook)["Glut watchlist"].iter_rows()
                for c in r if c.value == NAME)
    assert cell.data_type == "s" and cell.quotePrefix

    with open(folder / "census_glut_watchlist_2025-06.csv", encoding="utf-8-sig",
              newline="") as handle:
        [exported] = [r for r in csv.DictReader(handle) if r["centre_id"] == centre_id]
    assert exported["centre_name"] == "'" + NAME
    assert exported["operator_name"] == "'" + OPERATOR

    # LibreOffice opens both and keeps the text: an evaluated HYPERLINK would show "y".
    for source in (workbook, folder / "census_glut_watchlist_2025-06.csv"):
        converted = _convert(source, tmp_path)
        text = converted.read_text(encoding="utf-8-sig")
        assert NAME.replace('"', '""') in text, source.name
        record = next(r for r in csv.reader(io.StringIO(text)) if centre_id in r)
        assert NAME in record[record.index(centre_id) + 1], record


def _convert(source: Path, tmp_path: Path) -> Path:
    """LibreOffice headless: the workbook's Glut watchlist sheet, or the CSV, to CSV."""
    out = tmp_path / "converted" / source.stem
    # csv filter: comma, double quote, UTF-8 (76), sheet 4 (the watchlist) of the workbook
    sheet = "4" if source.suffix == ".xlsx" else "1"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,"
                         f"false,false,{sheet}",
         "--outdir", str(out), str(source)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    [converted] = list(out.glob("*.csv"))
    return converted


def test_every_csv_keeps_formula_like_text_as_text(loaded: Census, tmp_path: Path) -> None:
    """Each table the export writes as CSV, its every text cell made formula-like (from
    any source: register, reference, file names): the CSV holds it apostrophe-prefixed,
    and numbers stay numbers."""
    with Warehouse(path=str(loaded.warehouse)).reader() as con:
        tables = read_tables(con, dt.date(2025, 6, 1))
    for table in tables:
        starts = itertools.cycle(FORMULA_STARTS)
        hostile = [tuple(f"{next(starts)}SUM(1+1)*cmd|'/C calc'!A0 {v}" if isinstance(v, str)
                         else v for v in row) for row in table.rows]
        texts = sum(isinstance(v, str) for row in hostile for v in row)
        assert texts > 0, table.key  # every exported table carries some text
        path = tmp_path / f"{table.key}.csv"
        write_csv(path, replace(table, rows=hostile))
        with open(path, encoding="utf-8-sig", newline="") as handle:
            read = list(csv.reader(handle))[1:]
        for written, row in zip(hostile, read, strict=True):
            for value, cell in zip(written, row, strict=True):
                if isinstance(value, str):
                    assert cell == "'" + value, (table.key, cell)
                elif isinstance(value, float):
                    assert float(cell) == value

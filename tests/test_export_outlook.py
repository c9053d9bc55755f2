"""The ministry workbook's Outlook and Licences sheets (contract §2.2, §3), read back by
calamine, show the marts' rows of the month; its charts are in the workbook (read back by
openpyxl and after LibreOffice's conversion) and beside it, their Chinese drawn with the
CJK font; and it is ready to print: LibreOffice's PDF has each sheet one page wide, with
text that can be read back, Chinese included."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import warnings
import zipfile
from pathlib import Path

import duckdb
import matplotlib.pyplot as plt
import openpyxl
import pytest
from matplotlib import font_manager
from matplotlib.text import Text
from python_calamine import CalamineWorkbook

from pipelines.export.cartogram import TILES, cartogram_figure
from pipelines.export.chart_data import read_tiles, read_trend
from pipelines.export.display import NO, NOT_AVAILABLE, NOT_AVAILABLE_NOTE, SIGNAL_LABELS, YES
from pipelines.export.figures import chart_style, png_bytes
from pipelines.export.labels import LABELS
from pipelines.export.trend import trend_figure
from tests.conftest import Census
from tests.test_export import TABLES, WORKBOOK_SHEETS, sheet_rows

MONTH = dt.date(2025, 6, 1)


def _same(shown: object, stored: object) -> bool:
    if isinstance(stored, float):
        return isinstance(shown, float) and math.isclose(shown, stored, rel_tol=0, abs_tol=0)
    return shown == stored


@pytest.fixture(scope="module")
def workbook(exported: Path) -> Path:
    return exported / "census_summary_2025-06.xlsx"


def test_outlook_sheet_shows_the_provinces_and_hubs_of_the_month(workbook: Path,
                                                                 export_warehouse: Census) -> None:
    expected = export_warehouse.query(
        "SELECT level, region_code, rack_utilisation, threshold, months_to_threshold, "
        "clears_by, months_to_absorb_pipeline FROM marts.glut_outlook "
        "WHERE month = ? AND level IN ('hub', 'province')", [MONTH])
    rows = sheet_rows(workbook, "Outlook")
    shown = {(r[0], r[1]): (r[4], r[5], r[7], r[8], r[10]) for r in rows}
    assert len(rows) == expected.height == len(shown) > 0
    for level, code, *figures in expected.iter_rows():
        assert all(_same(a, b) for a, b in zip(shown[(level, code)], figures, strict=True)), \
            (level, code, shown[(level, code)], figures)


def test_licences_sheet_lists_the_findings_of_the_month(workbook: Path,
                                                        export_warehouse: Census) -> None:
    expected = export_warehouse.query(
        "SELECT finding, centre_id, status, licence_expires, hours_reported "
        "FROM marts.licence_findings WHERE month = ?", [MONTH])
    rows = sheet_rows(workbook, "Licences")
    assert sorted((r[0], r[1], r[8], r[10], r[11]) for r in rows) == sorted(
        expected.iter_rows())
    assert {r[0] for r in rows} >= {"expired_licence", "no_licence"}


@pytest.fixture(scope="module")
def converted(workbook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workbook as LibreOffice reads it, saved as OpenDocument."""
    return _convert(workbook, tmp_path_factory.mktemp("ods"), "ods")


def _pictures(workbook: Path) -> list[bytes]:
    book = openpyxl.load_workbook(workbook)
    return [image._data() for image in book["Charts"]._images]


def test_charts_are_in_the_workbook_and_beside_it(workbook: Path, converted: Path) -> None:
    folder = workbook.parent
    beside = [(folder / f"census_{name}_2025-06.png").read_bytes()
              for name in ("province_map", "utilisation_trend")]
    assert _pictures(workbook) == beside
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in beside)
    names = CalamineWorkbook.from_path(str(workbook)).sheet_names
    assert names.index("Charts") == names.index("Licences") + 1
    with zipfile.ZipFile(converted) as ods:
        content = ods.read("content.xml").decode("utf-8")
        pictures = [n for n in ods.namelist() if n.startswith("Pictures/")]
    assert len(pictures) == 2 and content.count("<draw:image") >= 2
    assert "<draw:object" in content  # the native chart of the Summary sheet


def test_every_province_has_a_tile_of_its_own(export_warehouse: Census) -> None:
    provinces = export_warehouse.query(
        "SELECT province_code FROM core.dim_province")["province_code"]
    assert set(TILES) == set(provinces)
    assert len(set(TILES.values())) == len(TILES)


def test_chart_text_is_drawn_with_the_cjk_font(workbook: Path, export_warehouse: Census) -> None:
    """Every text of both figures resolves to Noto Sans CJK from fonts-noto-cjk, drawing it
    finds every glyph (matplotlib warns of a missing one: a box in the picture), and those
    figures are the PNGs of the export."""
    con = duckdb.connect(str(export_warehouse.warehouse), read_only=True)
    try:
        tiles, trend = read_tiles(con, MONTH), read_trend(con, MONTH)
    finally:
        con.close()
    folder = workbook.parent
    for make, data, name in ((cartogram_figure, tiles, "province_map"),
                             (trend_figure, trend, "utilisation_trend")):
        with warnings.catch_warnings(), plt.rc_context(chart_style()):
            warnings.simplefilter("error")
            figure = make(MONTH, data)
            texts = [t for t in figure.findobj(Text) if t.get_text().strip()]
            assert any("\u4e00" <= ch <= "\u9fff" for t in texts for ch in t.get_text())
            for text in texts:
                font = font_manager.findfont(text.get_fontproperties(),
                                             fallback_to_default=False)
                assert font.startswith("/usr/share/fonts/opentype/noto/NotoSansCJK"), \
                    (text.get_text(), font)
            drawn = png_bytes(figure)
        assert drawn == (folder / f"census_{name}_2025-06.png").read_bytes(), name


def _convert(workbook: Path, folder: Path, fmt: str) -> Path:
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{folder}/profile", "--headless",
         "--convert-to", fmt, "--outdir", str(folder), str(workbook)],
        capture_output=True, text=True, timeout=180)
    converted = folder / f"{workbook.stem}.{fmt}"
    assert result.returncode == 0 and converted.exists(), result.stderr
    return converted


def _pdf_pages(pdf: Path) -> list[str]:
    """Each page's text, whitespace removed (wrapped labels join up again)."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          text=True, check=True, timeout=60).stdout
    return ["".join(page.split()) for page in text.split("\f")[:-1]]


def test_each_sheet_prints_one_page_wide_with_extractable_chinese(
        workbook: Path, tmp_path: Path) -> None:
    pages = _pdf_pages(_convert(workbook, tmp_path, "pdf"))
    # every page repeats its sheet's title row: "… <sheet> — 2025-06"
    titles = {sheet: "".join(f"{sheet} — 2025-06".split()) for sheet in WORKBOOK_SHEETS}
    by_sheet: dict[str, list[str]] = {}
    for page in pages:
        [sheet] = [s for s, title in titles.items() if title in page]
        by_sheet.setdefault(sheet, []).append(page)
    assert list(by_sheet) == WORKBOOK_SHEETS
    assert len(by_sheet["Summary"]) == len(by_sheet["Charts"]) == 1
    assert len(pages) <= 2 * len(WORKBOOK_SHEETS)
    book = openpyxl.load_workbook(workbook)
    for sheet, table in zip([s for s in WORKBOOK_SHEETS if s != "Charts"], TABLES, strict=True):
        # one page wide: the first and the last column's Chinese labels on every page
        # (About's source-file table: on the page where it starts)
        first, last = (book[sheet].cell(2, 1).value,
                       book[sheet].cell(2, book[sheet].max_column).value)
        if sheet == "About":
            first, last = LABELS["file_name"].zh, LABELS["loaded_at"].zh
            by_sheet[sheet] = [p for p in by_sheet[sheet] if first in p]
        for page in by_sheet[sheet]:
            assert first in page and last in page, (sheet, table, first, last)
    assert "机架利用率" in by_sheet["Provinces"][0] and "许可证过期" in by_sheet["Licences"][0]


def test_workbook_is_set_up_to_print_and_shows_values_for_people(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and setup.fitToWidth == 1, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert (sheet.print_title_rows or "").startswith("$1:$"), sheet.title
        # nothing the reader's program would evaluate
        assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    provinces = book["Provinces"]
    assert provinces.print_title_rows == "$1:$3"
    headers = {provinces.cell(3, c).value: c for c in range(1, provinces.max_column + 1)}
    # wrapped headers get rows tall enough: "Centres operating" in 12 characters is 2 lines
    assert provinces.row_dimensions[3].height >= 30
    flags = {provinces.cell(r, headers["Glut flag"]).value for r in range(4, provinces.max_row + 1)}
    assert flags == {YES, NO}
    signals = {provinces.cell(r, headers["Glut signals"]).value
               for r in range(4, provinces.max_row + 1)} - {None}
    assert signals and all(part in SIGNAL_LABELS.values() for value in signals
                           for part in value.split("; "))
    growth = {provinces.cell(r, headers["Demand growth 12m"]).value
              for r in range(4, provinces.max_row + 1)}
    assert growth == {NOT_AVAILABLE}  # six months: no month twelve earlier
    assert NOT_AVAILABLE_NOTE in provinces["A1"].value
    about = book["About"]
    assert about.column_dimensions["B"].width >= len("Months to absorb pipeline")
    assert about.row_dimensions[3].height > 15  # a definition of two lines


def test_summary_chart_prints_whole_below_the_figures_with_a_straight_threshold(
        workbook: Path) -> None:
    summary = openpyxl.load_workbook(workbook)["Summary"]
    assert summary.page_setup.fitToHeight == 1  # the figures and the chart on one page
    [chart] = summary._charts
    assert chart.anchor._from.row >= summary.max_row  # below the last figure, not beside
    _, line = chart._charts  # read back: the bars and the threshold's line chart
    [threshold] = line.series
    assert not threshold.smooth and threshold.graphicalProperties.line.noFill
    assert threshold.marker.symbol == "dash"


def test_no_formula_survives_libreoffice(converted: Path) -> None:
    with zipfile.ZipFile(converted) as ods:
        content = ods.read("content.xml").decode("utf-8")
    assert "table:formula" not in content
    assert CalamineWorkbook.from_path(str(converted)).sheet_names == WORKBOOK_SHEETS

"""The ministry workbook (openpyxl): bilingual, formatted, with a native chart, and
byte-identical when written twice from the same tables."""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import _writer as cell_writer
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from pipelines.export.definitions import DEFINITIONS
from pipelines.export.display import NOT_AVAILABLE, NOT_AVAILABLE_NOTE, shown
from pipelines.export.labels import LABELS, Format
from pipelines.export.print_setup import print_setup
from pipelines.export.sheets import Table, Vintage
from pipelines.export.text import looks_like_formula

HEADER_ROWS = 3  # title, Chinese labels, English labels
CHARTS_SHEET = "Charts"
_ROW_POINTS = 15  # the default row height: one line
_ROW_PIXELS = 20  # the same in pixels
_TITLE = Font(bold=True, size=13)
_HEADER = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


def write_workbook(path: Path, month: dt.date, tables: list[Table], vintage: Vintage,
                   pictures: list[bytes]) -> None:
    """Write the workbook: one sheet per table (About: definitions, vintage, then the
    source-file table), the rack-utilisation chart on the Summary sheet, and the PNG
    charts (`pictures`) on a Charts sheet after Licences."""
    book = Workbook()
    book.remove(book.active)
    # Fixed document dates keep the bytes reproducible (openpyxl would stamp "now").
    stamp = dt.datetime(month.year, month.month, 1)
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "census"
    book.properties.title = f"census summary {month:%Y-%m}"
    for table in tables:
        sheet = book.create_sheet(table.sheet)
        title = f"{table.title_zh} {table.sheet} — {month:%Y-%m}"
        if table.sheet == "About":
            start = _about_preamble(sheet, title, month, vintage)
            _write_table(sheet, table, start)
            _fit_definitions(sheet)
            print_setup(sheet, title_rows=1)
        else:
            _write_table(sheet, table, 1, title)
            sheet.freeze_panes = sheet.cell(row=HEADER_ROWS + 1, column=1)
            # The Summary with its chart on one page; the tables as many pages tall as
            # their rows need.
            print_setup(sheet, title_rows=HEADER_ROWS, pages_tall=1 if table.key == "summary"
                        else None)
    provinces = next(t for t in tables if t.key == "provinces")
    summary = next(t for t in tables if t.key == "summary")
    _utilisation_chart(book["Summary"], book["Provinces"], provinces,
                       f"A{HEADER_ROWS + len(summary.rows) + 3}")
    charts = book.create_sheet(CHARTS_SHEET, index=book.sheetnames.index("Licences") + 1)
    _pictures(charts, f"图表 {CHARTS_SHEET} — {month:%Y-%m}", pictures)
    print_setup(charts, title_rows=1, pages_tall=1)
    _save_reproducibly(book, path)


def _write_table(sheet: Worksheet, table: Table, start: int, title: str | None = None) -> None:
    for index, column in enumerate(table.columns, start=1):
        label = LABELS[column]
        for offset, text in ((1, label.zh), (2, label.en)):
            cell = sheet.cell(row=start + offset, column=index, value=text)
            cell.font, cell.fill, cell.alignment = _HEADER, _HEADER_FILL, _WRAP
            # Tall enough for the wrapped label: it must not run over the row below.
            height = _ROW_POINTS * _lines(text, label.width)
            dimension = sheet.row_dimensions[start + offset]
            dimension.height = max(dimension.height or _ROW_POINTS, height)
        sheet.column_dimensions[get_column_letter(index)].width = label.width
    missing = False
    for r, row in enumerate(table.rows, start=start + HEADER_ROWS):
        for c, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            summary_row = bool(table.row_formats) and column == "value"
            fmt = table.row_formats[r - start - HEADER_ROWS] if summary_row \
                else LABELS[column].format
            missing |= _put(sheet.cell(row=r, column=c), shown(row[0] if summary_row
                                                                else column, value), fmt)
    if title:
        # The note on n/a in the title row, which prints on every page.
        sheet.cell(row=start, column=1, value=f"{title}    {NOT_AVAILABLE_NOTE}" if missing
                   else title).font = _TITLE


def _lines(text: str, width: float) -> int:
    """Lines a text takes in a column `width` characters wide (CJK characters count
    twice)."""
    units = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)
    return max(1, math.ceil(units / max(width - 1, 1)))


def _put(cell: Cell, value: object, fmt: Format) -> bool:
    """A value in its native type with its number format; text never as a formula. A
    figure with no value is "n/a"; returns whether it was."""
    if value is None:
        if fmt in (Format.TEXT, Format.BOOL):
            return False
        cell.value = NOT_AVAILABLE
        cell.alignment = Alignment(horizontal="right")
        return True
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        if looks_like_formula(value):
            cell.quotePrefix = True  # and Excel / LibreOffice keep it text on edit
    elif fmt not in (Format.TEXT, Format.BOOL):
        cell.number_format = fmt.value
    return False


def _about_preamble(sheet: Worksheet, title: str, month: dt.date, vintage: Vintage) -> int:
    sheet.cell(row=1, column=1, value=title).font = _TITLE
    sheet.cell(row=2, column=1, value="定义 Definitions").font = _HEADER
    for row, (zh, en, text) in enumerate(DEFINITIONS, start=3):
        sheet.cell(row=row, column=1, value=zh)
        sheet.cell(row=row, column=2, value=en)
        sheet.cell(row=row, column=3, value=text).alignment = _WRAP
    row = len(DEFINITIONS) + 4
    sheet.cell(row=row, column=1, value="数据截至 Data vintage").font = _HEADER
    facts = (("登记数据版本", "Register as of", vintage.register_as_of),
             ("遥测数据截至(北京时间)", "Telemetry through (China time)",
              vintage.telemetry_through),
             ("最近载入(UTC)", "Last file loaded (UTC)", vintage.last_loaded_at))
    for offset, (zh, en, value) in enumerate(facts, start=1):
        sheet.cell(row=row + offset, column=1, value=zh)
        sheet.cell(row=row + offset, column=2, value=en)
        _put(sheet.cell(row=row + offset, column=3), value, Format.DATE)
    start = row + len(facts) + 1
    sheet.cell(row=start, column=1, value=f"数据来源 Source files ({month:%Y-%m})").font = _HEADER
    return start


def _fit_definitions(sheet: Worksheet) -> None:
    """About's definitions: English names whole, each text's row tall enough for it."""
    names = sheet.column_dimensions["B"]
    names.width = max(names.width, max(len(en) for _, en, _ in DEFINITIONS) + 2)
    width = sheet.column_dimensions["C"].width
    for row, (_, _, text) in enumerate(DEFINITIONS, start=3):
        sheet.row_dimensions[row].height = _ROW_POINTS * _lines(text, width)


def _utilisation_chart(target: Worksheet, provinces: Worksheet, table: Table,
                       anchor: str) -> None:
    """Bars: rack utilisation by province; marks: each province's glut threshold, a
    straight dash over its bar (a line through them would slope between provinces)."""
    first, last = HEADER_ROWS + 1, HEADER_ROWS + len(table.rows)
    if last < first:
        return
    column = {name: i for i, name in enumerate(table.columns, start=1)}
    names = Reference(provinces, min_col=column["region_name_en"], min_row=first, max_row=last)
    bars = BarChart()
    bars.title = "机架利用率 Rack utilisation by province"
    bars.y_axis.title = "Rack utilisation"
    bars.y_axis.number_format = "0%"
    bars.y_axis.scaling.min = 0
    bars.add_data(Reference(provinces, min_col=column["rack_utilisation"], min_row=first - 1,
                            max_row=last), titles_from_data=True)
    bars.set_categories(names)
    threshold = LineChart()
    threshold.add_data(Reference(provinces, min_col=column["threshold"], min_row=first - 1,
                                 max_row=last), titles_from_data=True)
    threshold.set_categories(names)
    [marks] = threshold.series
    marks.smooth = False
    marks.graphicalProperties.line.noFill = True
    marks.marker.symbol, marks.marker.size = "dash", 20
    marks.marker.graphicalProperties = GraphicalProperties(solidFill="000000")
    marks.marker.graphicalProperties.line.solidFill = "000000"
    bars += threshold
    bars.width, bars.height = 30, 12
    target.add_chart(bars, anchor)


def _pictures(sheet: Worksheet, title: str, pictures: list[bytes]) -> None:
    """Each picture below the title and the one before it."""
    sheet.cell(row=1, column=1, value=title).font = _TITLE
    row = 3
    for png in pictures:
        picture = Image(io.BytesIO(png))
        sheet.add_image(picture, f"A{row}")
        row += math.ceil(picture.height / _ROW_PIXELS) + 2


@contextmanager
def _exact_floats() -> Iterator[None]:
    """openpyxl writes numbers with 16 significant digits ("%.16g"), which loses the last
    digit of some doubles; Excel itself writes 17. The shortest round-trip repr keeps the
    cell equal to the warehouse figure."""
    original = cell_writer.safe_string

    def exact(value: object) -> str:
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        return original(value)

    cell_writer.safe_string = exact
    try:
        yield
    finally:
        cell_writer.safe_string = original


def _save_reproducibly(book: Workbook, path: Path) -> None:
    """Save with fixed zip entry dates (and the document dates set above), so the same
    tables give the same bytes, and with every float exact."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive, \
            _exact_floats():
        ExcelWriter(book, archive).write_data()
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as source, \
            zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry.filename))
    path.write_bytes(fixed.getvalue())

"""Workbooks as provinces send them: every sheet tried, title rows above the header,
merged cells, footers. Cells are read with calamine and rendered as text; typed
parsing happens afterwards, once, for every format."""

from __future__ import annotations

import datetime as dt
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import polars as pl
from python_calamine import CalamineWorkbook

from pipelines.ingest.limits import LimitExceeded, check_sheet_rows, check_workbook_size
from pipelines.ingest.values import norm_key

MAX_TITLE_ROWS = 20
MIN_HEADER_MATCHES = 4
FOOTER_PREFIXES = ("合计", "总计", "total", "注", "note", "说明")


class WorkbookUnreadable(Exception):
    """The file cannot be read as a workbook at all (corrupt, encrypted, not a workbook)."""


@dataclass(frozen=True)
class HeaderColumn:
    canonical: str
    label: str  # the header as the province wrote it
    scale: float  # converts the header's unit to the stored unit


@dataclass(frozen=True)
class SheetTable:
    """One sheet's register rows below its header, as text, keyed by canonical column."""

    sheet: str
    header_row: int  # 1-based, as the spreadsheet program shows it
    columns: dict[str, HeaderColumn]
    frame: pl.DataFrame  # canonical columns (str) + source_row (1-based)


def cell_text(value: object) -> str | None:
    """A calamine cell as text: whole floats without `.0`, dates in ISO form."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def is_footer(cells: Iterable[str | None]) -> bool:
    """A row whose first non-empty cell starts with 合计/总计/Total/注/Note/说明."""
    for cell in cells:
        if cell is not None and cell.strip():
            folded = unicodedata.normalize("NFKC", cell).strip().casefold()
            return folded.startswith(FOOTER_PREFIXES)
    return False


def find_header(rows: list[list[str | None]], aliases: Mapping[str, tuple[str, float]]
                ) -> tuple[int, dict[int, HeaderColumn]] | None:
    """The first row (within the allowed title rows) with ≥ 4 known column aliases."""
    for index, row in enumerate(rows[: MAX_TITLE_ROWS + 1]):
        matched: dict[int, HeaderColumn] = {}
        seen: set[str] = set()
        for col, cell in enumerate(row):
            if cell is None:
                continue
            hit = aliases.get(norm_key(cell))
            if hit and hit[0] not in seen:
                seen.add(hit[0])
                matched[col] = HeaderColumn(hit[0], cell.strip(), hit[1])
        if len(matched) >= MIN_HEADER_MATCHES:
            return index, matched
    return None


def read_tables(path: Path, aliases: Mapping[str, tuple[str, float]]) -> list[SheetTable]:
    """Every sheet of the workbook that has a register header, in sheet order."""
    try:
        check_workbook_size(path)
    except (LimitExceeded, zipfile.BadZipFile) as exc:
        raise WorkbookUnreadable(str(exc)) from exc
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [(name, workbook.get_sheet_by_name(name)) for name in workbook.sheet_names]
        ods_merges = _ods_merged_ranges(path) if path.suffix.lower() == ".ods" else {}
        grids = []
        for name, sheet in sheets:
            check_sheet_rows(name, sheet.height)
            merges = sheet.merged_cell_ranges or ods_merges.get(name, [])
            grids.append((name, _rendered_grid(sheet.to_python(skip_empty_area=False), merges)))
    except LimitExceeded as exc:
        raise WorkbookUnreadable(str(exc)) from exc
    except Exception as exc:  # calamine raises several error types for unreadable files
        raise WorkbookUnreadable(_unreadable_reason(path, exc)) from exc
    tables = []
    for name, rows in grids:
        found = find_header(rows, aliases)
        if found is None:
            continue  # instructions, notes: no header
        header_index, columns = found
        tables.append(_table(name, rows, header_index, columns))
    return tables


def _rendered_grid(raw: list[list[object]], merges: Iterable) -> list[list[str | None]]:
    rows = [[cell_text(cell) for cell in row] for row in raw]
    for (top, left), (bottom, right) in merges:
        if top >= len(rows) or left >= len(rows[top]):
            continue
        value = rows[top][left]
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            for c in range(left, min(right, len(rows[r]) - 1) + 1):
                rows[r][c] = value
    return rows


def _table(sheet: str, rows: list[list[str | None]], header_index: int,
           columns: dict[int, HeaderColumn]) -> SheetTable:
    data: dict[str, list[str | None]] = {col.canonical: [] for col in columns.values()}
    source_rows: list[int] = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        if all(cell is None or not cell.strip() for cell in row) or is_footer(row):
            continue
        source_rows.append(index + 1)
        for col, header in columns.items():
            data[header.canonical].append(row[col] if col < len(row) else None)
    frame = pl.DataFrame(
        {**data, "source_row": source_rows},
        schema={**{name: pl.String for name in data}, "source_row": pl.Int64},
    )
    by_name = {header.canonical: header for header in columns.values()}
    return SheetTable(sheet, header_index + 1, by_name, frame)


def _unreadable_reason(path: Path, exc: Exception) -> str:
    if path.stat().st_size == 0:
        return "the file is empty"
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    # Password-protected OOXML is an OLE container holding an EncryptionInfo stream.
    if head.startswith(b"\xd0\xcf\x11\xe0") and "EncryptionInfo".encode("utf-16-le") in head:
        return "the workbook is password-protected: ask the province for an unprotected copy"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"not a readable {path.suffix.lstrip('.')} workbook ({text})"


_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def _ods_merged_ranges(path: Path) -> dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]:
    """Merged ranges of an ODS file, which calamine does not report: read from the
    spans (number-rows/columns-spanned) of content.xml."""
    ranges: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}

    def attr(elem: ElementTree.Element, name: str, default: int = 1) -> int:
        return int(elem.get(f"{{{_TABLE_NS}}}{name}", default))

    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
        sheet, row, col = "", 0, 0
        for event, elem in ElementTree.iterparse(content, events=("start", "end")):
            tag = elem.tag.rsplit("}", 1)[-1]
            if event == "start" and tag == "table":
                sheet, row = elem.get(f"{{{_TABLE_NS}}}name", ""), 0
                ranges[sheet] = []
            elif event == "start" and tag == "table-row":
                col = 0
            elif event == "end" and tag == "table-row":
                row += attr(elem, "number-rows-repeated")
                elem.clear()
            elif event == "start" and tag in ("table-cell", "covered-table-cell"):
                rows_spanned = attr(elem, "number-rows-spanned")
                cols_spanned = attr(elem, "number-columns-spanned")
                if rows_spanned > 1 or cols_spanned > 1:
                    ranges[sheet].append(((row, col), (row + rows_spanned - 1,
                                                       col + cols_spanned - 1)))
                col += attr(elem, "number-columns-repeated")
    return ranges

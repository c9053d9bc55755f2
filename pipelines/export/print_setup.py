"""Page setup of the workbook's sheets, so that what LibreOffice or Excel prints (or
converts to PDF) is readable: landscape A4, one page wide, the title and header rows
repeated on every page."""

from __future__ import annotations

from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet


def print_setup(sheet: Worksheet, title_rows: int, pages_tall: int | None = None) -> None:
    """Fit the sheet to one page wide and `pages_tall` pages tall (None: as many as the
    rows need), repeating its first `title_rows` rows on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = pages_tall or 0  # 0: no limit
    sheet.print_title_rows = f"1:{title_rows}"
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    sheet.oddFooter.center.text = "&P / &N"  # page numbers

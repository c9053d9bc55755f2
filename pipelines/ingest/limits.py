"""Limits that keep a broken or hostile file from exhausting the machine: past them the
file is rejected with the reason, and the other files go on."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

MAX_DECOMPRESSED_BYTES = 4 << 30  # a gzip export; a national month is about 0.5 GiB
MAX_LINE_BYTES = 1 << 20  # one CSV or JSON line; real lines are about 100 bytes
MAX_WORKBOOK_BYTES = 512 << 20  # a workbook's unpacked parts (zip bombs)
MAX_SHEET_ROWS = 1_048_576  # as many as Excel holds; a province's register is thousands
READ_BLOCK_BYTES = 1 << 24  # how much of a file the checks read at a time
_WINDOW = MAX_LINE_BYTES // 2


class LimitExceeded(Exception):
    """The file is past a limit; the message says which."""


def check_line_lengths(path: Path) -> None:
    """Every line of a text file within MAX_LINE_BYTES. A longer line spans a whole
    aligned window of half that many bytes without a newline, so the lines are measured
    only where a window has none; in real files a newline is in each window's first
    hundred bytes."""
    with open(path, "rb") as handle:
        # A block is whole windows: the windows stay aligned across blocks.
        while chunk := handle.read(READ_BLOCK_BYTES):
            if any(chunk.find(b"\n", start, start + _WINDOW) < 0
                   for start in range(0, len(chunk), _WINDOW)):
                _measure_lines(path)
                return


def _measure_lines(path: Path) -> None:
    """Every line's length measured (one vectorised pass)."""
    carry = 0  # bytes of the line still open at the end of the previous chunk
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_BLOCK_BYTES):
            newlines = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
            if newlines.size:
                longest = max(carry + int(newlines[0]),
                              int(np.diff(newlines).max()) - 1 if newlines.size > 1 else 0)
                carry = len(chunk) - int(newlines[-1]) - 1
            else:
                longest, carry = 0, carry + len(chunk)
            if max(longest, carry) > MAX_LINE_BYTES:
                raise LimitExceeded(f"a line is longer than {MAX_LINE_BYTES:,} bytes: refused")


def check_workbook_size(path: Path) -> None:
    """A zip workbook (xlsx, ods) whose parts unpack to more than MAX_WORKBOOK_BYTES is
    refused before it is opened; the sizes come from the zip's own directory."""
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_WORKBOOK_BYTES:
        raise LimitExceeded(f"unpacks to {unpacked:,} bytes, more than "
                            f"{MAX_WORKBOOK_BYTES:,}: refused (a zip bomb?)")


def check_sheet_rows(sheet: str, rows: int) -> None:
    """A sheet of more rows than MAX_SHEET_ROWS (counted to its last non-empty cell) is
    refused before its cells become Python objects."""
    if rows > MAX_SHEET_ROWS:
        raise LimitExceeded(f"sheet {sheet!r} has {rows:,} rows, more than {MAX_SHEET_ROWS:,}: "
                            "refused")

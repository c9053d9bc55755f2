"""Telemetry exports, read by DuckDB into the temporary table `export_cells`: the
file's columns as it names them, as text (Parquet: as typed; a CSV whose number columns
DuckDB reads as numbers: those as DOUBLE), in file order (a row's number: CSV line,
header = 1; JSON line; Parquet record). The rows never come into Python. Here the file is
checked and prepared first: gzip (with its limit), line lengths, encoding (GB18030 and
stray invalid bytes transcoded to UTF-8), separator."""

from __future__ import annotations

import codecs
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import duckdb
import numpy as np
from isal import igzip, isal_zlib

from pipelines.ingest.limits import (
    MAX_DECOMPRESSED_BYTES,
    READ_BLOCK_BYTES,
    LimitExceeded,
    check_line_lengths,
)

SNIFF_BYTES = 1 << 16
INVALID_TEXT = "\ufffd"  # what stands for bytes that are not UTF-8


class ExportUnreadable(Exception):
    """The file cannot be read as a telemetry export; the message says why."""


@dataclass(frozen=True)
class Export:
    described: str  # the format as read, for the ingestion log
    row_word: str  # how a person finds a row: "line" or "record"
    decimal_comma: bool  # `;`-separated CSV: a comma is the decimal mark
    scan: str  # the DuckDB table function reading it, parameters $path and `options`
    options: dict[str, object]
    path: Path  # the file (or its decompressed or transcoded copy) the scan reads
    first_row: int  # source_row of the first row
    scratch: Path  # where copies of it are written while it is read
    form: str  # csv, json (lines) or parquet: how another engine (Spark) reads it
    typed_scan: str | None = None  # a CSV read with column types: `scan`, types in $columns

    def params(self, path: Path | None = None) -> dict[str, object]:
        return {"path": str(path or self.path), **self.options}


def open_export(path: Path, scratch: Path) -> Export:
    """How to read the export. `scratch` holds decompressed or transcoded copies while
    it is read."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return Export("parquet", "record", False, "read_parquet($path)", {}, path, 1,
                      scratch, "parquet")
    plain = _decompressed(path, scratch) if name.endswith(".gz") else path
    try:
        check_line_lengths(plain)
    except LimitExceeded as exc:
        raise ExportUnreadable(str(exc)) from exc
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        columns = dict.fromkeys(_json_keys(plain), "VARCHAR")
        return Export("json lines", "line", False,
                      "read_json($path, format = 'newline_delimited', columns = $columns)",
                      {"columns": columns}, _objects(plain, scratch), 1, scratch, "json")
    encoding, text = _utf8(plain, scratch)
    text, hinted = _without_separator_hint(text, scratch)
    separator = _separator(text)
    dialect = "header = true, delim = $delim, quote = '\"', escape = '\"', null_padding = true"
    # DuckDB reads a number as a text cast would, but takes `_` as a digit separator,
    # which the number form refuses, and a decimal comma only where told: such files are
    # read as text.
    typed = separator != ";" and not _data_holds(text, b"_")
    # The typed read is given every column (as the text read names them) and the dialect:
    # DuckDB's sniffer, which costs more than reading a small export, has nothing to find.
    return Export(f"csv, {encoding}, separator {separator!r}", "line", separator == ";",
                  f"read_csv($path, all_varchar = true, {dialect})", {"delim": separator},
                  text, 2 + hinted, scratch, "csv",
                  f"read_csv($path, columns = $columns, auto_detect = false, {dialect})"
                  if typed else None)


def number_types(con: duckdb.DuckDBPyConnection, export: Export,
                 numbers: Callable[[list[str]], list[str]]) -> dict[str, str] | None:
    """The column types of a CSV's `typed_scan` ($columns): its number columns (`numbers`
    picks them from the file's columns) DOUBLE, parsed as DuckDB reads them, the others
    text. None where the export cannot be read so (not such a CSV, no number columns)."""
    if export.typed_scan is None:
        return None
    names = list(scan_columns(con, export.scan, export.params()))
    chosen = set(numbers(names))
    if not chosen:
        return None
    return {name: "DOUBLE" if name in chosen else "VARCHAR" for name in names}


def scan_columns(con: duckdb.DuckDBPyConnection, scan: str,
                 params: dict[str, object]) -> dict[str, str]:
    """The columns a scan (or a table) gives and their types."""
    return {row[0]: row[1] for row in
            con.execute(f"DESCRIBE SELECT * FROM {scan}", params).fetchall()}


def load_typed_cells(con: duckdb.DuckDBPyConnection, export: Export,
                     numbers: Callable[[list[str]], list[str]]) -> dict[str, str] | None:
    """A CSV's rows into `export_cells` as its `typed_scan` reads them (`number_types`);
    returns the columns and their types. None, with nothing read, where the export cannot
    be read so (see `number_types`, or a cell no number)."""
    try:
        types = number_types(con, export, numbers)
        if types is None:
            return None
        con.execute(f"CREATE OR REPLACE TEMP TABLE export_cells AS SELECT * FROM "
                    f"{export.typed_scan}", {**export.params(), "columns": types})
    except duckdb.Error:
        return None
    return scan_columns(con, "export_cells", {})


def load_text_cells(con: duckdb.DuckDBPyConnection, export: Export) -> dict[str, str]:
    """The export's rows again, every column as text, into `export_text_cells` (after a
    typed read: the cells as written, which findings quote)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE export_text_cells AS SELECT * FROM "
                f"{export.scan}", export.params())
    return scan_columns(con, "export_text_cells", {})


def load_cells(con: duckdb.DuckDBPyConnection, export: Export) -> dict[str, str]:
    """The export's rows into `export_cells` (in file order: its row id gives source_row);
    returns the file's columns and their types."""
    scan = f"CREATE OR REPLACE TEMP TABLE export_cells AS SELECT * FROM {export.scan}"
    try:
        con.execute(scan, export.params())
    except duckdb.Error as exc:
        if "Invalid unicode" not in str(exc):
            raise ExportUnreadable(f"not readable as {export.described} ({first_line(exc)})"
                                   ) from exc
        # UTF-8 but for stray bytes past the sniffed head: those become U+FFFD, so only
        # their rows are quarantined.
        target = export.scratch / f"{export.path.name}.utf8"
        _transcode(export.path, target, "utf-8")
        con.execute(scan, export.params(target))
    return scan_columns(con, "export_cells", {})


def first_line(exc: Exception) -> str:
    """An error's first line, at most 300 characters: what a person reads of it."""
    return str(exc).splitlines()[0][:300]


def _transcode(source: Path, target: Path, encoding: str) -> None:
    with open(source, encoding=encoding, errors="replace") as text, \
            open(target, "w", encoding="utf-8") as out:
        shutil.copyfileobj(text, out, 1 << 20)


def _decompressed(path: Path, scratch: Path) -> Path:
    target = scratch / path.name.removesuffix(".gz").removesuffix(".GZ")
    written = 0
    try:
        # ISA-L's gzip (the standard library's interface) inflates about 2.5× faster.
        with igzip.open(path, "rb") as source, open(target, "wb") as out:
            while block := source.read(1 << 20):
                written += len(block)
                if written > MAX_DECOMPRESSED_BYTES:
                    raise ExportUnreadable(
                        f"decompresses to more than {MAX_DECOMPRESSED_BYTES:,} bytes: "
                        "refused (a gzip bomb?)")
                out.write(block)
    except (OSError, EOFError, isal_zlib.error) as exc:
        raise ExportUnreadable(f"not a readable gzip file ({exc})") from exc
    return target


def _utf8(path: Path, scratch: Path) -> tuple[str, Path]:
    """UTF-8 (BOM or not) is read as is; GB18030 is transcoded to UTF-8 in `scratch`.
    Text that is UTF-8 but for a few bad bytes (at most 1 in 100 at the start) is read as
    UTF-8: those bytes become U+FFFD and their rows are quarantined, the rest loads."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8 with BOM", path
    if _decodes(head, "utf-8"):
        return "utf-8", path
    if _decodes(head, "gb18030"):
        target = scratch / f"{path.name}.utf8"
        _transcode(path, target, "gb18030")
        return "gb18030", target
    invalid = head.decode("utf-8", errors="replace").count(INVALID_TEXT)
    if invalid * 100 <= len(head):
        return f"utf-8 with invalid bytes ({invalid} in the first {len(head):,})", path
    raise ExportUnreadable(f"neither UTF-8 nor GB18030 text ({invalid:,} invalid UTF-8 "
                           f"sequences in the first {len(head):,} bytes)")


def _decodes(head: bytes, encoding: str) -> bool:
    """Whether `head` is valid in `encoding` (a character cut at its end allowed)."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _data_holds(path: Path, byte: bytes) -> bool:
    """Whether `byte` is anywhere in the file past its first line (the header)."""
    with open(path, "rb") as handle:
        handle.readline()
        while block := handle.read(READ_BLOCK_BYTES):
            if byte in block:
                return True
    return False


def _without_separator_hint(path: Path, scratch: Path) -> tuple[Path, int]:
    """The CSV without the line `sep=;` (any one character) that exporters write first
    for Excel, which reads it as the separator: a copy in `scratch` from the header on,
    and how many lines were left out (0 or 1; a row's number stays its line in the file).
    The separator is then found in the header, as in any other export."""
    with open(path, "rb") as handle:
        if not re.fullmatch(rb"(\xef\xbb\xbf)?sep=.\r?\n", handle.readline(16)):
            return path, 0
        target = scratch / f"header.{path.name}"
        with open(target, "wb") as out:
            shutil.copyfileobj(handle, out)
    return target, 1


def _separator(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    separator = max(counts, key=counts.get)
    if counts[separator] == 0:
        raise ExportUnreadable("no header with , ; or tab separated columns")
    return separator


def _objects(path: Path, scratch: Path) -> Path:
    """The JSON lines file as both engines read it alike: a line that holds an array
    rejects it (as DuckDB's reader does; Spark would read the array's objects as rows);
    a line `null` is `{}`, a row of NULLs (as DuckDB reads it; Spark would refuse the
    file), in a copy in `scratch` where there is such a line. Only the lines whose first
    byte is neither `{` nor a line break are looked at."""
    nulls: list[tuple[int, int]] = []  # where each `null` line's text starts and ends
    breaks = 0  # line breaks in the blocks before this one
    line_start = 0  # where the block's first line starts in it: after a BOM; -1 mid-line
    with open(path, "rb") as handle, open(path, "rb") as lines:
        while block := handle.read(READ_BLOCK_BYTES):
            if handle.tell() == len(block) and block.startswith(codecs.BOM_UTF8):
                line_start = len(codecs.BOM_UTF8)
            data = np.frombuffer(block, np.uint8)
            ends = np.flatnonzero(data == ord("\n"))
            starts = np.concatenate(([line_start] if line_start >= 0 else [], ends + 1))
            starts = starts[starts < len(block)].astype(np.int64)
            firsts = data[starts]
            for place in np.flatnonzero((firsts != ord("{")) & (firsts != ord("\n"))):
                at = handle.tell() - len(block) + int(starts[place])
                lines.seek(at)
                line = lines.readline()
                text = line.strip(b" \t\r\n")
                if text.startswith(b"["):
                    number = breaks + int(place) + (1 if line_start >= 0 else 2)
                    raise ExportUnreadable(f"line {number} holds a JSON array, not an "
                                           "object")
                if text == b"null":
                    nulls.append((at, at + len(line.rstrip(b"\r\n"))))
            breaks += len(ends)
            line_start = 0 if block.endswith(b"\n") else -1
    if not nulls:
        return path
    target = scratch / f"objects.{path.name}"
    with open(path, "rb") as source, open(target, "wb") as out:
        for begin, end in nulls:
            _copy_bytes(source, out, begin - source.tell())
            source.seek(end)
            out.write(b"{}")
        shutil.copyfileobj(source, out)
    return target


def _copy_bytes(source: BinaryIO, out: BinaryIO, count: int) -> None:
    """The next `count` bytes of `source` into `out`, a block at a time."""
    while count > 0 and (block := source.read(min(count, READ_BLOCK_BYTES))):
        out.write(block)
        count -= len(block)


def _json_keys(path: Path) -> list[str]:
    """The keys of the first lines' objects, in order of appearance."""
    keys: dict[str, None] = {}
    with open(path, encoding="utf-8-sig") as handle:
        for n, line in enumerate(handle):
            if n >= 1000:
                break
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ExportUnreadable(f"line {n + 1} is not JSON ({exc.msg})") from exc
                if isinstance(record, dict):
                    keys.update(dict.fromkeys(record))
    if not keys:
        raise ExportUnreadable("no JSON objects in the first lines")
    return list(keys)

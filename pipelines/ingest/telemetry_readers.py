"""Telemetry exports, one reader per format, each yielding bounded batches of text
columns as the file names them, plus `source_row` (CSV: line, header = 1; JSON lines:
line; Parquet: record number). Never the whole file in memory."""

from __future__ import annotations

import codecs
import gzip
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.ingest.limits import MAX_DECOMPRESSED_BYTES, LimitExceeded, check_line_lengths
from pipelines.ingest.telemetry import INVALID_TEXT

BATCH_ROWS = 500_000
SNIFF_BYTES = 1 << 16


class ExportUnreadable(Exception):
    """The file cannot be read as a telemetry export; the message says why."""


@dataclass(frozen=True)
class Export:
    described: str  # the format as read, for the ingestion log
    row_word: str  # how a person finds a row: "line" or "record"
    decimal_comma: bool  # `;`-separated CSV: a comma is the decimal mark
    batches: Iterator[pl.DataFrame]


def open_export(path: Path, scratch: Path) -> Export:
    """The export's batches. `scratch` holds decompressed or transcoded copies while
    the batches are read."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return Export("parquet", "record", False, _parquet(path))
    plain = _decompressed(path, scratch) if name.endswith(".gz") else path
    try:
        check_line_lengths(plain)
    except LimitExceeded as exc:
        raise ExportUnreadable(str(exc)) from exc
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        return Export("json lines", "line", False, _ndjson(plain))
    encoding, text = _utf8(plain, scratch)
    separator = _separator(text)
    return Export(f"csv, {encoding}, separator {separator!r}", "line", separator == ";",
                  _csv(text, separator))


def _decompressed(path: Path, scratch: Path) -> Path:
    target = scratch / path.name.removesuffix(".gz").removesuffix(".GZ")
    written = 0
    try:
        with gzip.open(path, "rb") as source, open(target, "wb") as out:
            while block := source.read(1 << 20):
                written += len(block)
                if written > MAX_DECOMPRESSED_BYTES:
                    raise ExportUnreadable(
                        f"decompresses to more than {MAX_DECOMPRESSED_BYTES:,} bytes: "
                        "refused (a gzip bomb?)")
                out.write(block)
    except (OSError, EOFError) as exc:
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
        with open(path, encoding="gb18030", errors="replace") as source, \
                open(target, "w", encoding="utf-8") as out:
            shutil.copyfileobj(source, out, 1 << 20)
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


def _separator(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    separator = max(counts, key=counts.get)
    if counts[separator] == 0:
        raise ExportUnreadable("no header with , ; or tab separated columns")
    return separator


def _csv(path: Path, separator: str) -> Iterator[pl.DataFrame]:
    # Invalid UTF-8 bytes become U+FFFD, so the row they are in is quarantined
    # (telemetry.canonical_samples) rather than the whole file refused.
    scan = pl.scan_csv(path, separator=separator, infer_schema=False,
                       row_index_name="source_row", row_index_offset=2,
                       truncate_ragged_lines=True, encoding="utf8-lossy")
    for batch in scan.collect_batches(chunk_size=BATCH_ROWS):
        yield _clean_names(batch).with_columns(pl.col("source_row").cast(pl.Int64))


def _ndjson(path: Path) -> Iterator[pl.DataFrame]:
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
    scan = pl.scan_ndjson(path, schema=dict.fromkeys(keys, pl.String),
                          row_index_name="source_row", row_index_offset=1)
    for batch in scan.collect_batches(chunk_size=BATCH_ROWS):
        yield batch.with_columns(pl.col("source_row").cast(pl.Int64))


def _parquet(path: Path) -> Iterator[pl.DataFrame]:
    try:
        scan = pl.scan_parquet(path).with_row_index("source_row", offset=1)
        schema = scan.collect_schema()
    except Exception as exc:  # polars raises several error types for non-Parquet bytes
        raise ExportUnreadable(f"not a readable Parquet file ({exc})") from exc
    as_text = [_text(name, dtype) for name, dtype in schema.items() if name != "source_row"]
    yield from scan.select(pl.col("source_row").cast(pl.Int64), *as_text).collect_batches(
        chunk_size=BATCH_ROWS)


def _text(name: str, dtype: pl.DataType) -> pl.Expr:
    """A typed Parquet column as the text the parsers read: instants with their offset,
    naive timestamps without (China time, contract §1.2)."""
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            return column.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00")
        return column.dt.strftime("%Y-%m-%dT%H:%M:%S%.f")
    return column.cast(pl.String)


def _clean_names(batch: pl.DataFrame) -> pl.DataFrame:
    return batch.rename({c: c.lstrip("\ufeff") for c in batch.columns if c.startswith("\ufeff")})

"""The export's CSVs: UTF-8 with BOM (Excel opens it as UTF-8), RFC 4180 line ends,
values written exactly (shortest round-trip floats), so the same warehouse gives the
same bytes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from pipelines.export.sheets import Table
from pipelines.export.text import csv_safe


def write_csv(path: Path, table: Table) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([csv_value(v) for v in row] for row in table.rows)
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))


def csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return csv_safe(value)
    return str(value)

"""One month's export folder: workbook, CSVs, charts and manifest (contract §2.2)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.export.chart_data import read_tiles, read_trend
from pipelines.export.csvs import write_csv
from pipelines.export.sheets import Table, Vintage, read_tables, read_vintage

# The share of its operating centres that must report a month for its telemetry to be
# called complete.
COMPLETE_SHARE = 0.5


@dataclass(frozen=True)
class ExportBundle:
    month: dt.date
    folder: Path
    workbook: Path
    checksums: dict[str, str]  # file name -> SHA-256, the manifest's list
    tables: list[Table]
    vintage: Vintage

    @property
    def summary(self) -> dict[str, object]:
        table = self.tables[0]
        return {row[0]: row[-1] for row in table.rows}

    @property
    def underreported(self) -> tuple[int, int] | None:
        """(reporting, operating) centres where fewer than half of those operating
        reported the month, else None: its telemetry is then incomplete, and its figures
        stand for a part of the country only (a month exported before its exports all
        arrived)."""
        operating = int(self.summary["centres_operating"])
        reporting = int(self.summary["centres_reporting"])
        return (reporting, operating) if reporting < operating * COMPLETE_SHARE else None


def export_month(con: duckdb.DuckDBPyConnection, month: dt.date, root: Path,
                 now: dt.datetime) -> ExportBundle:
    """Write `root/<YYYY-MM>/` from the warehouse. Each file is written beside its final
    name and renamed into place; the manifest comes last, so a folder with a manifest is
    complete. Raises NoDataForMonth before writing anything for an empty month."""
    # Here, not at the top: matplotlib and openpyxl would add most of a second to the
    # start of every process that loads the definitions, most of which never export.
    from pipelines.export.cartogram import draw_cartogram
    from pipelines.export.chart import write_chart
    from pipelines.export.trend import draw_trend
    from pipelines.export.workbook import write_workbook

    tables = read_tables(con, month)
    vintage = read_vintage(con, month)
    cartogram = draw_cartogram(month, read_tiles(con, month))
    trend = draw_trend(month, read_trend(con, month))
    folder = root / f"{month:%Y-%m}"
    folder.mkdir(parents=True, exist_ok=True)
    workbook = f"census_summary_{month:%Y-%m}.xlsx"
    writers = {
        workbook: lambda p: write_workbook(p, month, tables, vintage, [cartogram, trend]),
        f"census_rack_utilisation_{month:%Y-%m}.png":
            lambda p: write_chart(p, month, tables[1]),
        f"census_province_map_{month:%Y-%m}.png": lambda p: p.write_bytes(cartogram),
        f"census_utilisation_trend_{month:%Y-%m}.png": lambda p: p.write_bytes(trend),
        **{f"census_{t.key}_{month:%Y-%m}.csv": (lambda p, t=t: write_csv(p, t))
           for t in tables},
    }
    checksums = {name: _write_atomically(folder / name, write)
                 for name, write in writers.items()}
    manifest = {
        "month": f"{month:%Y-%m}",
        "data_vintage": vintage.as_dict(),
        "generated_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "files": [{"name": name, "sha256": digest, "bytes": (folder / name).stat().st_size}
                  for name, digest in sorted(checksums.items())],
    }
    _write_atomically(folder / "manifest.json", lambda p: p.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"))
    return ExportBundle(month, folder, folder / workbook, checksums, tables, vintage)


def _write_atomically(path: Path, write: Callable[[Path], object]) -> str:
    partial = path.with_name(f".{path.name}.partial")
    write(partial)
    digest = hashlib.sha256(partial.read_bytes()).hexdigest()
    os.replace(partial, path)
    return digest

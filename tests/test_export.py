"""The ministry summary export (contract §2.2): the folder's files, the workbook read back
by another reader and converted by LibreOffice, byte-identical CSVs, an empty month, the
schedule."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import subprocess
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import openpyxl
from dagster import build_schedule_context
from dagster._utils.schedules import cron_string_iterator
from python_calamine import CalamineWorkbook

from pipelines.definitions import build_definitions
from pipelines.export import headline
from pipelines.export.bundle import ExportBundle, export_month
from pipelines.export.display import FINDING_LABELS, NO, NOT_AVAILABLE, SIGNAL_LABELS, YES
from pipelines.runs import run_export
from tests.conftest import Census

MONTH = dt.date(2025, 6, 1)
SHEETS = ["Summary", "Provinces", "Hubs", "Glut watchlist", "Surplus compute", "Outlook",
          "Licences", "Data quality", "About"]
# The sheets of the tables above, with the PNG charts' sheet after Licences.
WORKBOOK_SHEETS = [*SHEETS[:7], "Charts", *SHEETS[7:]]
TABLES = ["summary", "provinces", "hubs", "glut_watchlist", "surplus_compute", "outlook",
          "licences", "data_quality", "source_files"]


def sheet_rows(workbook: Path, sheet: str) -> list[list]:
    """The data rows of a sheet as calamine reads them (below the three header rows; on
    About, below the source-file table's headers), with the values the workbook shows
    for people (是 Yes, n/a, bilingual signal labels) read back as stored."""
    rows = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name(sheet).to_python()
    start = 3 if sheet != "About" else next(i for i, r in enumerate(rows) if r[0] == "文件") + 2
    return [[_as_stored(v) for v in row] for row in rows[start:]]


_SHOWN = {"": None, NOT_AVAILABLE: None, YES: True, NO: False}
_CODES = {label: code for code, label in (*SIGNAL_LABELS.items(), *FINDING_LABELS.items())}


def _as_stored(value: object) -> object:
    if not isinstance(value, str):
        return value
    if value in _SHOWN:
        return _SHOWN[value]
    signals = value.split("; ")
    if all(s in _CODES for s in signals):
        return ", ".join(_CODES[s] for s in signals)
    return value


def same(a: object, b: object) -> bool:
    if isinstance(b, float) or isinstance(a, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=0, abs_tol=0)
    return a == b


def test_folder_holds_the_workbook_csvs_chart_and_manifest(exported: Path) -> None:
    names = {p.name for p in exported.iterdir()}
    assert names == {"census_summary_2025-06.xlsx", "census_rack_utilisation_2025-06.png",
                     "census_province_map_2025-06.png", "census_utilisation_trend_2025-06.png",
                     "manifest.json", *(f"census_{t}_2025-06.csv" for t in TABLES)}
    manifest = json.loads((exported / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["month"] == "2025-06"
    assert manifest["data_vintage"]["register_as_of"] == "2025-06-30"
    assert manifest["data_vintage"]["telemetry_through_china_time"].startswith("2025-06-30")
    assert dt.datetime.fromisoformat(manifest["generated_at"]).tzinfo is not None
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == names - {"manifest.json"}
    for name, entry in listed.items():
        data = (exported / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
    assert (exported / "census_rack_utilisation_2025-06.png").read_bytes()[:8] == \
        b"\x89PNG\r\n\x1a\n"


def test_workbook_read_back_by_calamine_shows_the_warehouse_figures(
        exported: Path, export_warehouse: Census) -> None:
    workbook = exported / "census_summary_2025-06.xlsx"
    assert CalamineWorkbook.from_path(str(workbook)).sheet_names == WORKBOOK_SHEETS
    month = [MONTH]
    figures = ("centres_operating, centres_reporting, reporting_share, design_racks, "
               "racks_in_use, rack_utilisation, vacancy_rate, power_utilisation, pue, "
               "compute_utilisation, idle_share, pipeline_racks, pipeline_ratio, "
               "racks_growth_12m, demand_growth_12m, threshold, glut_flag, "
               "array_to_string(glut_signals, ', '), glut_score")
    for sheet, level, dim, extra in (
            ("Provinces", "province", "core.dim_province d ON d.province_code",
             "d.hub_code, d.nbs_region"),
            ("Hubs", "hub", "core.dim_hub d ON d.hub_code", "d.side")):
        expected = export_warehouse.query(
            f"SELECT r.region_code, r.region_name_zh, r.region_name_en, {extra}, {figures} "
            f"FROM marts.region_monthly r JOIN {dim} = r.region_code WHERE r.month = ? "
            "AND r.level = ?", [MONTH, level]).rows()
        by_code = {row[0]: row for row in sheet_rows(workbook, sheet)}
        assert set(by_code) == {row[0] for row in expected}
        for row in expected:
            shown = by_code[row[0]]
            # an empty text (no glut signals) is an empty cell
            assert all(same(a, None if b == "" else b)
                       for a, b in zip(shown, row, strict=True)), (sheet, shown, row)

    national = export_warehouse.query("SELECT * FROM marts.region_monthly WHERE month = ? "
                               "AND level = 'national'", month).row(0, named=True)
    summary = {row[0]: row[3] for row in sheet_rows(workbook, "Summary")}
    for key in ("centres_operating", "centres_reporting", "design_racks", "racks_in_use",
                "rack_utilisation", "vacancy_rate", "pue", "glut_score"):
        assert same(summary[key], national[key]), key
    assert summary["glut_flag"] is national["glut_flag"]

    surplus = export_warehouse.query("SELECT hub_code, sellable_pflops, rtt_ms_to_JJJ, "
                              "array_to_string(reachable_east_hubs, ', ') AS reach "
                              "FROM marts.surplus_compute WHERE month = ?", month)
    shown = {r[0]: (r[5], r[6], r[10]) for r in sheet_rows(workbook, "Surplus compute")}
    assert shown == {h: (s, j, reach or None) for h, s, j, reach in surplus.iter_rows()}

    watch = export_warehouse.query("""
        SELECT c.centre_id, c.rack_utilisation FROM marts.centre_monthly c
        JOIN marts.region_monthly r ON r.month = c.month AND r.level = 'province'
         AND r.region_code = c.province_code AND r.glut_flag WHERE c.month = ?""", month)
    rows = sheet_rows(workbook, "Glut watchlist")
    assert len(rows) > 0
    assert {r[5]: r[12] for r in rows} == dict(watch.iter_rows())

    quality = sheet_rows(workbook, "Data quality")
    open_findings = export_warehouse.query("""
        SELECT count(*) FROM audit.quarantine WHERE resolved_at IS NULL AND (observed_at IS NULL
        OR date_trunc('month', observed_at AT TIME ZONE 'Asia/Shanghai') = ?)""", month).item()
    assert sum(r[-1] for r in quality) == open_findings > 0
    assert sum(r[3] for r in quality) == national["centres_operating"]

    sources = {r[0]: r[2] for r in sheet_rows(workbook, "About")}
    logged = dict(export_warehouse.query("SELECT file_name, sha256 FROM audit.ingestion_log "
                                  "WHERE status = 'loaded'").iter_rows())
    assert sources and all(logged[name] == sha for name, sha in sources.items())
    used = export_warehouse.query("SELECT DISTINCT source_file FROM core.centre_register WHERE "
                           "valid_from <= DATE '2025-06-30' AND coalesce(valid_to > DATE "
                           "'2025-06-30', TRUE)")["source_file"]
    assert set(used) <= set(sources)


def test_workbook_is_bilingual_formatted_and_charted(exported: Path) -> None:
    book = openpyxl.load_workbook(exported / "census_summary_2025-06.xlsx")
    provinces = book["Provinces"]
    assert provinces["A2"].value == "代码" and provinces["A3"].value == "Code"
    headers = {provinces.cell(3, c).value: c for c in range(1, provinces.max_column + 1)}
    utilisation = provinces.cell(4, headers["Rack utilisation"])
    assert utilisation.number_format == "0.0%"
    assert provinces.cell(4, headers["Design racks"]).number_format == "#,##0"
    assert provinces.cell(2, headers["Rack utilisation"]).value == "机架利用率"
    for name in SHEETS[:-1]:
        assert book[name].freeze_panes == "A4", name
        assert book[name].column_dimensions["A"].width > 0
    charts = book["Summary"]._charts
    assert len(charts) == 1
    refs = {s.val.numRef.f for chart in (charts[0], *charts[0]._charts) for s in chart.series}
    letters = {openpyxl.utils.get_column_letter(headers[h]) for h in
               ("Rack utilisation", "Threshold")}
    assert len(refs) == 2 and all(r.startswith("'Provinces'!$") for r in refs)
    assert {r.split("$")[1] for r in refs} == letters, refs
    about = [c.value for row in book["About"].iter_rows() for c in row if c.value]
    assert "Rack utilisation" in about and "Register as of" in about


def test_libreoffice_converts_the_workbook(exported: Path, tmp_path: Path) -> None:
    workbook = exported / "census_summary_2025-06.xlsx"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "ods", "--outdir", str(tmp_path), str(workbook)],
        capture_output=True, text=True, timeout=180)
    converted = tmp_path / "census_summary_2025-06.ods"
    assert result.returncode == 0 and converted.exists(), result.stderr
    assert CalamineWorkbook.from_path(str(converted)).sheet_names == WORKBOOK_SHEETS
    for sheet in ("Provinces", "Surplus compute"):
        original, after = sheet_rows(workbook, sheet), sheet_rows(converted, sheet)
        assert [r[0] for r in after] == [r[0] for r in original]
        assert all(math.isclose(a, b, rel_tol=1e-14) for ra, rb in zip(original, after,
                                                                        strict=True)
                   for a, b in zip(ra, rb, strict=True) if isinstance(a, float))


def test_csvs_match_the_sheets_and_are_byte_identical_on_rerun(
        exported: Path, export_warehouse: Census, tmp_path: Path) -> None:
    workbook = exported / "census_summary_2025-06.xlsx"
    for sheet, table in zip(SHEETS, TABLES, strict=True):
        data = (exported / f"census_{table}_2025-06.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
        cells = sheet_rows(workbook, sheet)
        assert len(rows) == len(cells) + 1
        for text_row, cell_row in zip(rows[1:], cells, strict=True):
            for text, cell in zip(text_row, cell_row, strict=True):
                if isinstance(cell, bool):
                    assert text == str(cell).lower()
                elif isinstance(cell, float):
                    assert float(text) == cell, (table, text, cell)
                else:
                    assert text == ("" if cell is None else str(cell)), (table, text, cell)
    again = run_export(MONTH, warehouse=export_warehouse.warehouse, exports=tmp_path)
    assert again.success, again.failure
    first = json.loads((exported / "manifest.json").read_text(encoding="utf-8"))
    second = json.loads((tmp_path / "2025-06" / "manifest.json").read_text(encoding="utf-8"))
    assert first["files"] == second["files"]
    for entry in first["files"]:
        assert (exported / entry["name"]).read_bytes() == \
            (tmp_path / "2025-06" / entry["name"]).read_bytes(), entry["name"]


def test_a_month_without_data_fails_clearly_and_writes_nothing(
        export_warehouse: Census, tmp_path: Path) -> None:
    outcome = run_export(dt.date(2025, 9, 1), warehouse=export_warehouse.warehouse,
                         exports=tmp_path)
    assert not outcome.success
    assert "no data for 2025-09: the marts hold 2025-01 to 2025-06" in outcome.failure
    assert not any(tmp_path.iterdir())


def test_schedule_exports_the_previous_month_on_the_5th_at_9_china_time() -> None:
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("monthly_export")
    assert schedule.job_name == "export"
    ticks = cron_string_iterator(dt.datetime(2025, 12, 20, tzinfo=dt.UTC).timestamp(),
                                 schedule.cron_schedule, schedule.execution_timezone)
    first, second = next(ticks), next(ticks)
    china = ZoneInfo("Asia/Shanghai")
    assert first == dt.datetime(2026, 1, 5, 9, tzinfo=china)
    assert second == dt.datetime(2026, 2, 5, 9, tzinfo=china)
    for tick, partition in ((first, "2025-12-01"), (second, "2026-01-01")):
        context = build_schedule_context(scheduled_execution_time=tick,
                                         repository_def=defs.get_repository_def())
        data = schedule.evaluate_tick(context)
        [request] = data.run_requests
        assert request.partition_key == partition
        job = defs.resolve_job_def("export")
        assert partition in job.partitions_def.get_partition_keys(
            current_time=tick.astimezone(dt.UTC))


def test_a_month_fewer_than_half_of_whose_centres_reported_is_said_to_be_incomplete(
        export_warehouse: Census, tmp_path: Path) -> None:
    con = duckdb.connect(str(export_warehouse.warehouse), read_only=True)
    try:
        bundle = export_month(con, MONTH, tmp_path, dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    finally:
        con.close()
    assert headline.incomplete(bundle) is None and "Note:" not in headline.body(bundle)

    def reported(reporting: int, operating: int) -> ExportBundle:
        """The bundle with its Summary's counts of centres set."""
        counts = {"centres_reporting": reporting, "centres_operating": operating}
        summary = bundle.tables[0]
        rows = [(*row[:-1], counts.get(row[0], row[-1])) for row in summary.rows]
        return replace(bundle, tables=[replace(summary, rows=rows), *bundle.tables[1:]])

    short = reported(4, 10)
    assert headline.incomplete(short) == (
        "only 4 of 10 operating centres reported 2025-06: its telemetry is incomplete, and "
        "its figures stand for the centres that reported")
    assert "\n注意：本月遥测数据不完整 Note: only 4 of 10 operating centres" in headline.body(short)
    assert headline.incomplete(reported(5, 10)) is None  # half reported
    assert headline.incomplete(reported(0, 0)) is None  # none operating

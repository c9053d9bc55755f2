"""Sensors, schedules and automation as Dagster evaluates them (no daemon): the landing
sensor's run keys and cursor, the daily schedule, and what the UI shows of each asset."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import AssetKey, build_schedule_context, build_sensor_context
from dagster._utils.schedules import cron_string_iterator

from pipelines.definitions import build_definitions
from pipelines.resources import Landing
from pipelines.sensors import landing_arrivals


def _evaluate(landing: Path, cursor: str | None):
    context = build_sensor_context(cursor=cursor, resources={"landing": Landing(root=str(landing))})
    return landing_arrivals(context)


def test_landing_sensor_requests_one_run_per_new_content(tmp_path: Path) -> None:
    (tmp_path / "licensing").mkdir()
    (tmp_path / "telemetry").mkdir()
    workbook = tmp_path / "licensing" / "hebei_2025Q1.xlsx"
    workbook.write_bytes(b"register bytes")
    export = tmp_path / "telemetry" / "hebei_2025-03.csv"
    export.write_bytes(b"telemetry bytes")
    old = time.time() - 60
    for path in (workbook, export):
        os.utime(path, (old, old))
    (tmp_path / "telemetry" / ".partial.csv").write_bytes(b"hidden")

    first = _evaluate(tmp_path, None)
    assert {(r.run_key, r.tags["census/file"]) for r in first.run_requests} == {
        (hashlib.sha256(b"register bytes").hexdigest(), "licensing/hebei_2025Q1.xlsx"),
        (hashlib.sha256(b"telemetry bytes").hexdigest(), "telemetry/hebei_2025-03.csv")}

    again = _evaluate(tmp_path, first.cursor)  # nothing changed: nothing requested
    assert again.run_requests == [] and again.cursor == first.cursor

    copy = tmp_path / "telemetry" / "hebei_2025-03_copy.csv"
    copy.write_bytes(b"telemetry bytes")  # same bytes, new name, still being written
    young = _evaluate(tmp_path, first.cursor)
    assert young.run_requests == []  # waits until the file settles
    os.utime(copy, (old, old))
    settled = _evaluate(tmp_path, young.cursor)
    # the same run key: Dagster starts no second run for the same bytes
    assert [r.run_key for r in settled.run_requests] == [
        hashlib.sha256(b"telemetry bytes").hexdigest()]


def test_daily_refresh_runs_the_ingest_at_six_china_time() -> None:
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.job_name == "ingest"
    ticks = cron_string_iterator(dt.datetime(2025, 2, 28, 20, tzinfo=dt.UTC).timestamp(),
                                 schedule.cron_schedule, schedule.execution_timezone)
    assert next(ticks) == dt.datetime(2025, 3, 1, 6, tzinfo=ZoneInfo("Asia/Shanghai"))
    context = build_schedule_context(scheduled_execution_time=next(ticks),
                                     repository_def=defs.get_repository_def())
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key is None


def test_the_ui_shows_groups_owners_automation_and_freshness(tmp_path: Path) -> None:
    defs = build_definitions(tmp_path, tmp_path / "w.duckdb")
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == {"ingest", "warehouse", "marts", "exports"}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners and node.description and node.kinds, key
    for name in ("centre_monthly", "region_monthly", "surplus_compute", "glut_outlook",
                 "compute_matching", "licence_findings"):
        node = graph.get(AssetKey(["marts", name]))
        assert node.freshness_policy is not None
        assert node.automation_condition.get_label() == "follow_monthly_inputs"
    assert graph.get(AssetKey("published_warehouse")).automation_condition.get_label() == \
        "publish_when_built"
    repository = defs.get_repository_def()
    assert {s.name for s in repository.sensor_defs} == {
        "landing_arrivals", "rebuild_touched_months", "run_failures", "census_automation"}
    assert {s.name for s in repository.schedule_defs} == {"daily_refresh", "monthly_export"}

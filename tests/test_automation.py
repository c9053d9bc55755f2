"""Sensors and schedules as Dagster evaluates them (no daemon): the landing sensor's
batches, run keys and cursor against a real warehouse, the daily schedule and the chain
its ingest starts, and what the UI shows of each asset."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import AssetKey, build_schedule_context, build_sensor_context
from dagster._utils.schedules import cron_string_iterator

from pipelines.arrivals import batch_key
from pipelines.definitions import build_definitions
from pipelines.defs.ingest.sensors import landing_arrivals
from pipelines.defs.resources import Landing, Warehouse
from pipelines.planner import INGEST
from pipelines.warehouse.audit import FileOutcome, record_outcomes


def _evaluate(landing: Path, warehouse: Warehouse, cursor: str | None):
    context = build_sensor_context(cursor=cursor, resources={
        "landing": Landing(root=str(landing)), "warehouse": warehouse})
    return landing_arrivals(context)


def _land(path: Path, content: bytes, settled: bool = True) -> str:
    path.write_bytes(content)
    if settled:
        old = time.time() - 60
        os.utime(path, (old, old))
    return hashlib.sha256(content).hexdigest()


def test_landing_sensor_batches_new_files_and_skips_attempted_ones(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "licensing").mkdir(parents=True)
    (landing / "telemetry").mkdir()
    warehouse = Warehouse(path=str(tmp_path / "warehouse" / "census.duckdb"))
    register = _land(landing / "licensing" / "hebei_2025Q1.xlsx", b"register bytes")
    export = _land(landing / "telemetry" / "hebei_2025-03.csv", b"telemetry bytes")
    _land(landing / "telemetry" / ".partial.csv", b"hidden")

    first = _evaluate(landing, warehouse, None)  # files landing together: one run
    [request] = first.run_requests
    assert request.run_key == batch_key({"a": export, "b": register})
    assert request.tags["census/files"] == "2"

    again = _evaluate(landing, warehouse, first.cursor)  # nothing changed: nothing requested
    assert again.run_requests == [] and again.cursor == first.cursor

    # Same bytes under a new name, still being written, then settled: already handed on.
    copy = landing / "telemetry" / "hebei_2025-03_copy.csv"
    _land(copy, b"telemetry bytes", settled=False)
    young = _evaluate(landing, warehouse, first.cursor)
    os.utime(copy, (time.time() - 60,) * 2)
    assert young.run_requests == _evaluate(landing, warehouse, young.cursor).run_requests == []

    # A fresh sensor (a new `census ui`) on files the warehouse attempted: no run; of a new
    # file landing beside them, a run for that file alone.
    with warehouse.writer() as con:
        record_outcomes(con, [FileOutcome(name, sha, name.split("/")[0], "loaded",
                                          dt.datetime.now(dt.UTC)) for name, sha in (
            ("licensing/hebei_2025Q1.xlsx", register), ("telemetry/hebei_2025-03.csv", export))])
    assert _evaluate(landing, warehouse, None).run_requests == []
    april = _land(landing / "telemetry" / "hebei_2025-04.csv", b"april bytes")
    held = _evaluate(landing, warehouse, None)
    [request] = held.run_requests
    assert request.run_key == batch_key({"telemetry/hebei_2025-04.csv": april})

    # While a run writes the warehouse, a new file waits; it goes once the warehouse is free.
    may = _land(landing / "telemetry" / "hebei_2025-05.csv", b"may bytes")
    with warehouse.writer():
        busy = _evaluate(landing, warehouse, held.cursor)
    assert busy.run_requests == [] and "wait" in busy.skip_reason.skip_message
    [request] = _evaluate(landing, warehouse, busy.cursor).run_requests
    assert request.run_key == batch_key({"telemetry/hebei_2025-05.csv": may})


def test_daily_refresh_runs_the_ingest_at_six_china_time_and_the_chain_follows() -> None:
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("daily_refresh")
    # The start of the planner's chain, which chain_runs continues (tests/test_planner.py).
    assert schedule.job_name == INGEST.job_name == "ingest"
    ticks = cron_string_iterator(dt.datetime(2025, 2, 28, 20, tzinfo=dt.UTC).timestamp(),
                                 schedule.cron_schedule, schedule.execution_timezone)
    assert next(ticks) == dt.datetime(2025, 3, 1, 6, tzinfo=ZoneInfo("Asia/Shanghai"))
    context = build_schedule_context(scheduled_execution_time=next(ticks),
                                     repository_def=defs.get_repository_def())
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key is None


def test_the_ui_shows_groups_owners_and_freshness_and_no_automation(tmp_path: Path) -> None:
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
    # Runs follow runs by the planner (chain_runs), not by asset automation.
    assert all(graph.get(key).automation_condition is None
               for key in graph.get_all_asset_keys())
    repository = defs.get_repository_def()
    assert {s.name for s in repository.sensor_defs} == {
        "landing_arrivals", "chain_runs", "run_failures"}
    assert {s.name for s in repository.schedule_defs} == {"daily_refresh", "monthly_export"}

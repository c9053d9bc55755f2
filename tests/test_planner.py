"""The planner on a tiny warehouse the pipeline's own connection creates: which months a
telemetry or register load makes due, which run follows each job, and that the sensor
after a real ingest run requests exactly the run `census run` makes next."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, RunRequest, build_run_status_sensor_context

from pipelines.definitions import build_definitions
from pipelines.defs.publish.sensors import chain_runs
from pipelines.defs.resources import Warehouse
from pipelines.planner import PlannedRun, builds_due, monthly_models, next_run
from pipelines.settings import setting

JAN, FEB, MAR, FEB_NEXT_YEAR = (dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1),
                                dt.date(2026, 2, 1))
MONTHS = [JAN, FEB, MAR, FEB_NEXT_YEAR]
BUILT = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
LATER = BUILT + dt.timedelta(days=1)


def _hour_in(month: dt.date) -> dt.datetime:
    # Mid-month, so China time and UTC agree on the month.
    return dt.datetime(month.year, month.month, 15, tzinfo=dt.UTC)


def _load_telemetry(con: duckdb.DuckDBPyConnection, month: dt.date, at: dt.datetime) -> None:
    con.execute("INSERT INTO audit.telemetry_loads (run_id, file_name, month, loaded_at) "
                "VALUES ('run', 'telemetry.csv', ?, ?)", [month, at])


def _load_register(con: duckdb.DuckDBPyConnection, as_of: dt.date, at: dt.datetime) -> None:
    con.execute("INSERT INTO core.register_rows (centre_id, as_of, source_file, sha256) "
                "VALUES ('DC11000001', ?, 'register.xlsx', 'abc')", [as_of])
    con.execute("INSERT INTO audit.ingestion_log (file_name, sha256, kind, status, finished_at)"
                " VALUES ('register.xlsx', 'abc', 'register', 'loaded', ?)", [at])


def months_to_rebuild(con: duckdb.DuckDBPyConnection, models: list[str]) -> list[dt.date]:
    """The months some model is due to rebuild."""
    return sorted({month for month, _ in builds_due(con, models)})


def _build(con: duckdb.DuckDBPyConnection, models: list[str], at: dt.datetime) -> None:
    for model in models:
        for month in MONTHS:
            con.execute("INSERT INTO audit.model_builds VALUES (?, ?, 'run', ?, 'duckdb')",
                        [model, month, at])


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    """Telemetry in four months, each built by every monthly model (the coverage among
    them)."""
    warehouse = Warehouse(path=str(tmp_path / "census.duckdb"))
    with warehouse.writer() as con:
        for month in MONTHS:
            con.execute("INSERT INTO core.telemetry_hourly (centre_id, hour_start) "
                        "VALUES ('DC11000001', ?)", [_hour_in(month)])
        _build(con, monthly_models(), BUILT)
    return warehouse


@pytest.fixture
def con(warehouse: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    with warehouse.writer() as con:
        yield con


def test_a_month_outside_the_partitions_is_never_due(con: duckdb.DuckDBPyConnection) -> None:
    """Telemetry dated before the first month census builds or after the current one
    is held, but no run can build its month: it is not due, so it cannot fail the runs of
    the months that are."""
    for month in (dt.date(2019, 12, 1), dt.date(2099, 3, 1), MAR):
        con.execute("INSERT INTO core.telemetry_hourly (centre_id, hour_start) "
                    "VALUES ('DC11000002', ?)", [_hour_in(month)])
        _load_telemetry(con, month, LATER)
    assert months_to_rebuild(con, monthly_models()) == [MAR]


def test_nothing_due_when_every_month_is_built_after_its_loads(
        con: duckdb.DuckDBPyConnection) -> None:
    _load_telemetry(con, FEB, BUILT - dt.timedelta(days=1))
    _load_register(con, JAN, BUILT - dt.timedelta(days=1))
    assert months_to_rebuild(con, monthly_models()) == []


def test_a_telemetry_load_makes_its_month_and_the_next_years_due(
        con: duckdb.DuckDBPyConnection) -> None:
    _load_telemetry(con, FEB, LATER)
    assert months_to_rebuild(con, monthly_models()) == [FEB, FEB_NEXT_YEAR]


def test_a_register_load_makes_due_the_months_ending_on_or_after_its_first_as_of(
        con: duckdb.DuckDBPyConnection) -> None:
    _load_register(con, dt.date(2025, 2, 28), LATER)
    assert months_to_rebuild(con, monthly_models()) == [FEB, MAR, FEB_NEXT_YEAR]


def test_a_month_one_model_never_built_is_due(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM audit.model_builds WHERE model = ? AND month = ?",
                [monthly_models()[-1], MAR])
    assert months_to_rebuild(con, monthly_models()) == [MAR]


@pytest.mark.parametrize(("unbuilt", "rebuilt"), [
    ("marts.glut_outlook", ["marts.glut_outlook"]),  # nothing reads it
    ("marts.region_monthly", ["marts.region_monthly", "marts.glut_outlook"]),
    ("staging.centre_state", ["staging.centre_state", "marts.centre_monthly",
                              "marts.licence_findings", "marts.region_monthly",
                              "marts.surplus_compute", "marts.glut_outlook",
                              "marts.compute_matching"]),
])
def test_a_model_never_built_is_rebuilt_with_the_models_that_read_it_alone(
        warehouse: Warehouse, unbuilt: str, rebuilt: list[str]) -> None:
    with warehouse.writer() as con:  # as a model file added to the folder
        con.execute("DELETE FROM audit.model_builds WHERE model = ?", [unbuilt])
    planned = next_run(warehouse, "ingest")
    assert planned == PlannedRun("monthly", tuple(MONTHS), tuple(rebuilt))
    assert planned.asset_selection == [AssetKey(t.split(".")) for t in rebuilt]


def test_an_unpartitioned_model_reading_a_model_due_is_rebuilt_with_it(
        warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "dbt_like_sql"
    shutil.copytree(setting("CENSUS_MODELS_DIR"), models)
    (models / "marts" / "latest_region.sql").write_text("""/*
description: Each region's latest month.
grain: [level, region_code]
columns:
  level: Region level
  region_code: Region code
  latest: Latest month with the region
*/
SELECT level, region_code, max(month) AS latest FROM marts.region_monthly GROUP BY ALL
""")
    monkeypatch.setenv("CENSUS_MODELS_DIR", str(models))
    with warehouse.writer() as con:
        con.execute("DELETE FROM audit.model_builds WHERE model = 'marts.region_monthly'")
    assert next_run(warehouse, "ingest").models == (
        "marts.region_monthly", "marts.glut_outlook", "marts.latest_region")
    with warehouse.writer() as con:  # every monthly model due: the whole job, this one too
        _load_telemetry(con, FEB, LATER)
    assert next_run(warehouse, "ingest").models == ()


def test_nothing_due_once_rebuilt_after_the_loads(con: duckdb.DuckDBPyConnection) -> None:
    _load_telemetry(con, FEB, LATER)
    _load_register(con, JAN, LATER)
    _build(con, monthly_models(), LATER + dt.timedelta(hours=1))
    assert months_to_rebuild(con, monthly_models()) == []


def test_after_an_ingest_the_months_due_are_rebuilt_in_one_range(warehouse: Warehouse) -> None:
    with warehouse.writer() as con:
        _load_telemetry(con, FEB, LATER)
    planned = next_run(warehouse, "ingest")
    assert planned == PlannedRun("monthly", (FEB, FEB_NEXT_YEAR))
    assert planned.tags == {"dagster/asset_partition_range_start": FEB.isoformat(),
                            "dagster/asset_partition_range_end": FEB_NEXT_YEAR.isoformat()}


def test_after_an_ingest_with_no_month_due_the_warehouse_is_published(
        warehouse: Warehouse) -> None:
    assert next_run(warehouse, "ingest") == PlannedRun("publish")


def test_a_monthly_run_is_followed_by_the_publish_and_the_publish_by_nothing(
        warehouse: Warehouse) -> None:
    with warehouse.writer() as con:  # still due: a monthly run publishes what it built
        _load_telemetry(con, FEB, LATER)
    assert next_run(warehouse, "monthly") == PlannedRun("publish")
    assert next_run(warehouse, "publish") is None


def _sensor_after_ingest(warehouse: Warehouse, tmp_path: Path) -> RunRequest:
    """What the sensor requests after a real ingest run (of an empty landing folder) on
    the warehouse."""
    landing = tmp_path / "landing"
    for folder in ("licensing", "telemetry"):
        (landing / folder).mkdir(parents=True)
    ingest = build_definitions(landing, warehouse.published_path).resolve_job_def("ingest")
    with DagsterInstance.ephemeral() as instance:
        result = ingest.execute_in_process(instance=instance)
        context = build_run_status_sensor_context(
            sensor_name=chain_runs.name, dagster_event=result.get_run_success_event(),
            dagster_instance=instance, dagster_run=result.dagster_run,
            resources={"warehouse": warehouse})
        request = chain_runs(context)
    assert isinstance(request, RunRequest)
    assert request.run_key == f"{request.job_name}-after-{result.run_id}"
    return request


def test_sensor_requests_the_run_census_run_makes_after_an_ingest(
        warehouse: Warehouse, tmp_path: Path) -> None:
    with warehouse.writer() as con:
        _load_telemetry(con, MAR, LATER)
    request = _sensor_after_ingest(warehouse, tmp_path)
    planned = next_run(warehouse, "ingest")
    assert (request.job_name, request.tags) == (planned.job_name, planned.tags)
    assert request.job_name == "monthly"
    assert request.tags["dagster/asset_partition_range_start"] == MAR.isoformat()
    assert request.tags["dagster/asset_partition_range_end"] == MAR.isoformat()


def test_sensor_requests_the_models_census_run_rebuilds(warehouse: Warehouse,
                                                         tmp_path: Path) -> None:
    with warehouse.writer() as con:
        con.execute("DELETE FROM audit.model_builds WHERE model = 'marts.region_monthly'")
    request = _sensor_after_ingest(warehouse, tmp_path)
    assert request.job_name == "monthly"
    assert request.asset_selection == [AssetKey(["marts", "region_monthly"]),
                                       AssetKey(["marts", "glut_outlook"])]


def test_sensor_publishes_when_no_month_is_due(warehouse: Warehouse, tmp_path: Path) -> None:
    request = _sensor_after_ingest(warehouse, tmp_path)
    assert (request.job_name, request.tags) == ("publish", {})

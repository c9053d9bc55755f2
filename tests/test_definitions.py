"""The Dagster definitions: the asset graph (snapshot), checks and the job."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey, EnvVar

from pipelines.definitions import build_definitions, defs
from pipelines.defs.models.sql_files import sql_models
from pipelines.settings import DEFAULTS, PROJECT_ROOT, apply_defaults

EXPECTED_GRAPH = {
    "core/dim_province": [],
    "core/dim_hub": [],
    "core/dim_cluster": [],
    "core/centre_register": ["core/dim_cluster", "core/dim_hub", "core/dim_province"],
    "core/telemetry_hourly": ["core/centre_register"],
    "core/telemetry_coverage": ["core/telemetry_hourly"],
    "staging/centre_state": ["core/centre_register"],
    "staging/centre_telemetry": ["core/telemetry_hourly"],
    "marts/centre_monthly": ["core/telemetry_hourly", "staging/centre_state",
                             "staging/centre_telemetry"],
    "marts/region_monthly": ["core/dim_hub", "core/dim_province", "marts/centre_monthly",
                             "staging/centre_state", "staging/centre_telemetry"],
    "marts/surplus_compute": ["core/dim_hub", "marts/centre_monthly",
                              "staging/centre_telemetry"],
    "marts/glut_outlook": ["marts/region_monthly"],
    "marts/compute_matching": ["marts/centre_monthly", "marts/surplus_compute",
                               "staging/centre_telemetry"],
    "marts/licence_findings": ["marts/centre_monthly", "staging/centre_state",
                               "staging/centre_telemetry"],
    "published_warehouse": ["core/centre_register", "core/dim_cluster", "core/dim_hub",
                            "core/dim_province", "core/telemetry_coverage",
                            "core/telemetry_hourly", "marts/centre_monthly",
                            "marts/compute_matching", "marts/glut_outlook",
                            "marts/licence_findings", "marts/region_monthly",
                            "marts/surplus_compute", "staging/centre_state",
                            "staging/centre_telemetry"],
    "summary_export": ["published_warehouse"],
}


def test_asset_graph_snapshot(tmp_path: Path) -> None:
    graph = build_definitions(tmp_path, tmp_path / "w.duckdb").resolve_asset_graph()
    got = {key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
           for key in graph.get_all_asset_keys()}
    assert got == EXPECTED_GRAPH


def _unset_settings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every CENSUS_* path setting unset, and as it was again after the test (whatever
    the test puts into the environment)."""
    names = [name for name in DEFAULTS if name.startswith("CENSUS_")]
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return names


def test_the_code_location_loads_the_defs_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    _unset_settings(monkeypatch)
    location = defs()
    assert {j.name for j in location.resolve_all_job_defs()} == {
        "ingest", "monthly", "publish", "export", "__ASSET_JOB"}
    assert {s.name for s in location.sensors} == {"landing_arrivals", "chain_runs",
                                                  "run_failures"}
    assert {s.name for s in location.schedules} == {"daily_refresh", "monthly_export"}
    graph = location.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == set(EXPECTED_GRAPH)
    # Settings are EnvVars, so the UI names the variable; unset ones are at their defaults.
    assert location.resources["warehouse"].path == EnvVar("CENSUS_WAREHOUSE")
    assert isinstance(location.resources["landing"].root, EnvVar)
    assert os.environ["CENSUS_WAREHOUSE"] == str(PROJECT_ROOT / "data/warehouse/census.duckdb")
    for key in ("core/centre_register", "marts/region_monthly"):
        assert "dagster/column_schema" in graph.get(AssetKey(key.split("/"))).metadata, key


def test_unset_settings_take_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    names = _unset_settings(monkeypatch)
    monkeypatch.setenv("CENSUS_LANDING_DIR", "/elsewhere/landing")
    apply_defaults()
    assert os.environ["CENSUS_LANDING_DIR"] == "/elsewhere/landing"
    assert {name: os.environ[name] for name in names if name != "CENSUS_LANDING_DIR"} == {
        name: str(PROJECT_ROOT / DEFAULTS[name]) for name in names
        if name != "CENSUS_LANDING_DIR"}


def test_given_folders_are_plain_values_and_the_environment_is_kept(tmp_path: Path) -> None:
    before = dict(os.environ)
    given = build_definitions(tmp_path, tmp_path / "w.duckdb", models=tmp_path / "models")
    assert given.resources["warehouse"].path == str(tmp_path / "w.duckdb")
    assert given.resources["landing"].root == str(tmp_path)
    assert not any(key.path[0] in ("staging", "marts")
                   for key in given.resolve_asset_graph().get_all_asset_keys())
    assert dict(os.environ) == before


def test_register_checks_and_census_job(tmp_path: Path) -> None:
    defs = build_definitions(tmp_path, tmp_path / "w.duckdb")
    graph = defs.resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    ingestion = {"no_rejected_files", "no_rejected_rows", "no_warnings"}
    assert checks == {
        *(("core/centre_register", name) for name in ingestion),
        *(("core/telemetry_hourly", name) for name in ingestion),
        *((m.key.to_user_string(), t.name)
          for m in sql_models() for t in m.tests),
    }
    assert {name for key, name in checks if key == "marts/region_monthly"} == {
        "keys_unique", "rack_utilisation_within_0_1.1", "power_utilisation_within_0_1.1",
        "every_level", "provinces_add_up_to_national", "glut_signals_consistent"}
    assert {name for key, name in checks if key == "core/telemetry_coverage"} == {
        "keys_unique", "coverage_within_0_1", "centres_reporting", "no_rejected_samples"}
    assert {job.name for job in defs.resolve_all_job_defs()} >= {"ingest", "monthly", "publish",
                                                                 "export"}


def test_monthly_assets_are_partitioned_by_china_month(tmp_path: Path) -> None:
    graph = build_definitions(tmp_path, tmp_path / "w.duckdb").resolve_asset_graph()
    for key in ("core/telemetry_coverage", "staging/centre_state", "staging/centre_telemetry",
                "marts/centre_monthly", "marts/region_monthly", "marts/surplus_compute",
                "marts/glut_outlook", "marts/compute_matching", "marts/licence_findings"):
        months = graph.get(AssetKey(key.split("/"))).partitions_def
        assert months.timezone == "Asia/Shanghai", key
        assert months.get_partition_keys()[:2] == ["2020-01-01", "2020-02-01"], key
    for key in ("core/centre_register", "core/telemetry_hourly", "published_warehouse"):
        assert graph.get(AssetKey(key.split("/"))).partitions_def is None, key


def test_dagster_validates_the_definitions() -> None:
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run([str(dagster), "definitions", "validate", "-m", "pipelines.definitions"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]

"""The Dagster definitions: the asset graph (snapshot), checks and the job."""

import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from pipelines.definitions import build_definitions
from pipelines.defs.models.sql_files import sql_models

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


def test_register_checks_and_census_job(tmp_path: Path) -> None:
    defs = build_definitions(tmp_path, tmp_path / "w.duckdb")
    graph = defs.resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    ingestion = {"no_rejected_files", "no_rejected_rows", "no_warnings"}
    assert checks == {
        *(("core/centre_register", name) for name in ingestion),
        *(("core/telemetry_hourly", name) for name in ingestion),
        ("core/telemetry_coverage", "no_rejected_samples"),
        ("core/telemetry_coverage", "centres_reporting"),
        *((m.key.to_user_string(), t.name)
          for m in sql_models() for t in m.tests),
    }
    assert {name for key, name in checks if key == "marts/region_monthly"} == {
        "keys_unique", "rack_utilisation_within_0_1.1", "power_utilisation_within_0_1.1",
        "every_level", "provinces_add_up_to_national", "glut_signals_consistent"}
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

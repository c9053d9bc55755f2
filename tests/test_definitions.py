"""The Dagster definitions: the asset graph (snapshot), checks and the job."""

import subprocess
import sys
from pathlib import Path

from pipelines.definitions import build_definitions

EXPECTED_GRAPH = {
    "core/dim_province": [],
    "core/dim_hub": [],
    "core/dim_cluster": [],
    "core/centre_register": ["core/dim_cluster", "core/dim_hub", "core/dim_province"],
    "published_warehouse": ["core/centre_register", "core/dim_cluster", "core/dim_hub",
                            "core/dim_province"],
}


def test_asset_graph_snapshot(tmp_path: Path) -> None:
    graph = build_definitions(tmp_path, tmp_path / "w.duckdb").resolve_asset_graph()
    got = {key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
           for key in graph.get_all_asset_keys()}
    assert got == EXPECTED_GRAPH


def test_register_checks_and_census_job(tmp_path: Path) -> None:
    defs = build_definitions(tmp_path, tmp_path / "w.duckdb")
    graph = defs.resolve_asset_graph()
    checks = {key.name for key in graph.asset_check_keys}
    assert checks == {"no_rejected_files", "no_rejected_rows", "no_warnings"}
    assert defs.resolve_job_def("census") is not None


def test_dagster_validates_the_definitions() -> None:
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run([str(dagster), "definitions", "validate", "-m", "pipelines.definitions"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]

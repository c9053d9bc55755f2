"""The Dagster instance census writes: its settings reach Dagster, and an engineer's own
dagster.yaml keeps its keys."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance

from pipelines.settings import ensure_dagster_home


def test_the_instance_has_one_writer_finishing_runs_and_run_monitoring(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")

    home = ensure_dagster_home()

    config = (home / "dagster.yaml").read_text()
    assert "enabled: true" in config.split("concurrency:")[0]  # the engineer's own kept
    instance = DagsterInstance.from_config(str(home))
    try:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_max_resume_run_attempts == 0
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        assert pools.pool_granularity.value == "run"
        assert instance.run_coordinator.dequeue_interval_seconds == 1
        assert instance.code_server_settings["wait_for_local_processes_on_shutdown"]
    finally:
        instance.dispose()
    assert ensure_dagster_home().joinpath("dagster.yaml").read_text() == config  # idempotent


def test_processes_starting_together_on_a_new_home_all_start(tmp_path: Path) -> None:
    """Two `census run` at once on a fresh DAGSTER_HOME: each must get the instance
    (Dagster's SQLite tables are created once, not by both)."""
    code = ("from dagster import DagsterInstance\n"
            "from pipelines.settings import ensure_dagster_home\n"
            "ensure_dagster_home()\nDagsterInstance.get().get_runs()\n")
    for home in range(2):  # the race is lost on most new homes, not on every one
        env = {**os.environ, "DAGSTER_HOME": str(tmp_path / f"home{home}")}
        started = [subprocess.Popen([sys.executable, "-c", code], env=env,
                                    stderr=subprocess.PIPE, text=True) for _ in range(4)]
        errors = [p.communicate()[1] for p in started]
        assert [p.returncode for p in started] == [0, 0, 0, 0], errors

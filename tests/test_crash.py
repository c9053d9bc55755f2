"""Crash safety: `census run` killed with SIGKILL inside each step of a run
that versions the register, loads telemetry (a restatement among it), rebuilds the
marts and publishes: the test waits for the step to start in the run's own event log,
and at a random moment within the step's duration kills the process group, then reads in
the event log, as the kill left it, that the step had started and not ended. A kill that
landed past its step is made again at the step's start (a fresh copy); the test fails
unless every kill lands inside the step it aims at. After each kill the published
warehouse passes `census check` and equals the last completed run; the next run
completes, and its warehouse equals that of an uninterrupted run. Real processes.

CENSUS_CRASH_POINTS sets the number of kills (CI: 4, one each in the register and
telemetry step, the SQL models' step and the publish, then one in the first other step;
README: Reliability, the full count)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from pipelines.defs.models.sql_assets import MONTHLY_STEP
from pipelines.generate import generate
from tests.compare import differences, problems
from tests.test_cli import CENSUS, env_for

POINTS = int(os.environ.get("CENSUS_CRASH_POINTS", "4"))

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class CensusFolder:
    """A landing folder, a warehouse and a Dagster instance under one folder."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "census.duckdb"

    def start(self) -> subprocess.Popen:
        return subprocess.Popen([*CENSUS, "run"],
                                env=env_for(self.root),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)  # its own group, killed whole

    def run(self) -> None:
        done = self.start()
        out, err = done.communicate(timeout=600)
        assert done.returncode == 0, err
        assert "census run" in out

    def copy(self, target: Path) -> CensusFolder:
        shutil.copytree(self.root, target, symlinks=True)
        return CensusFolder(target)


@dataclass(frozen=True)
class Scenario:
    base: CensusFolder  # after a completed run on the first files, the rest landed since
    before: Path  # its published warehouse
    after: Path  # the published warehouse of an uninterrupted run from base
    steps: list[tuple[str, float, float]]  # that run's steps: job: step, start, end (s)


# With few points (CI), one in each part of a run first: register and telemetry (one step),
# the SQL models (one step), publish.
FIRST = ("landing_files", MONTHLY_STEP, "published_warehouse")


def kill_plan(steps: list[tuple[str, float, float]], points: int,
              rng: random.Random) -> list[tuple[str, float]]:
    """(step, seconds into it) to kill at: the FIRST steps, then every other step, in
    turn; a random moment within the step's duration in the uninterrupted run."""
    def rank(step: tuple[str, float, float]) -> int:
        key = step[0].split(": ")[1]
        return FIRST.index(key) if key in FIRST else len(FIRST)

    ordered = sorted(steps, key=rank)  # stable: the other steps keep their run order
    chosen = [ordered[i % len(ordered)] for i in range(points)]
    return [(name, (end - start) * rng.random()) for name, start, end in chosen]


def wait_for_step(census: CensusFolder, earlier: int, step: str,
                  process: subprocess.Popen) -> None:
    """Until the process's run of `step`'s job has started that step (its event log)."""
    job, key = step.split(": ")
    with DagsterInstance.from_config(str(census.root / "dagster_home")) as instance:
        while process.poll() is None:
            runs = instance.get_runs()
            if len(runs) > earlier and any(
                    e.step_key == key for run in runs[:len(runs) - earlier]
                    if run.job_name == job for e in instance.all_logs(
                        run.run_id, of_type=DagsterEventType.STEP_START)):
                return
            time.sleep(0.05)


def in_progress(census: CensusFolder, earlier: int) -> set[str]:
    """'job: step' of every step the process's newest run has started and not ended, from
    its event log; `earlier` runs were there before the process started."""
    with DagsterInstance.from_config(str(census.root / "dagster_home")) as instance:
        runs = instance.get_runs()  # latest first
        if len(runs) == earlier or runs[0].status != DagsterRunStatus.STARTED:
            return set()
        run = runs[0]
        events = instance.all_logs(run.run_id, of_type={
            DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS,
            DagsterEventType.STEP_FAILURE})
        started = {e.step_key for e in events
                   if e.dagster_event.event_type == DagsterEventType.STEP_START}
        return {f"{run.job_name}: {key}" for key in started - {
            e.step_key for e in events
            if e.dagster_event.event_type != DagsterEventType.STEP_START}}


def kill_inside(census: CensusFolder, earlier: int, step: str, delay: float,
                process: subprocess.Popen) -> bool:
    """SIGKILL the process `delay` seconds into `step`; whether it was still in the step
    then. The event log is read once the process is dead: it is then as the kill left it,
    and no lock of the log is held by a process that cannot go on."""
    wait_for_step(census, earlier, step, process)
    time.sleep(delay)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # the whole run finished
        pass
    process.communicate(timeout=600)
    return step in in_progress(census, earlier)


def runs_in(census: CensusFolder, *statuses: DagsterRunStatus) -> int:
    with DagsterInstance.from_config(str(census.root / "dagster_home")) as instance:
        return len(instance.get_runs(RunsFilter(statuses=list(statuses) or None)))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The first register workbooks and January's telemetry loaded by a completed run;
    then the other workbooks (new versions), February and a January restatement land."""
    source = tmp_path_factory.mktemp("inputs") / "landing"
    generate(seed=3, centres=20, months=2, start="2025-01", out=source)
    base = CensusFolder(tmp_path_factory.mktemp("base"))
    workbooks = sorted((source / "licensing").iterdir())
    first = set(workbooks[:len(workbooks) // 2]) | {
        p for p in (source / "telemetry").iterdir() if "2025-01" in p.name and
        "restated" not in p.name}
    later = [p for p in [*workbooks, *(source / "telemetry").iterdir()] if p not in first]

    def land(paths: Iterable[Path]) -> None:
        for path in paths:
            target = base.root / "landing" / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)

    land(first)
    base.run()
    before = shutil.copyfile(base.warehouse, base.root.parent / "before.duckdb")
    land(later)
    reference = base.copy(tmp_path_factory.mktemp("reference") / "census")
    started = time.time()
    reference.run()
    steps = []
    with DagsterInstance.from_config(str(reference.root / "dagster_home")) as instance:
        for run in reversed(instance.get_runs(limit=runs_in(reference) - runs_in(base))):
            begun = {}
            for event in instance.all_logs(run.run_id, of_type={
                    DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}):
                if event.dagster_event.event_type == DagsterEventType.STEP_START:
                    begun[event.step_key] = event.timestamp - started
                else:
                    steps.append((f"{run.job_name}: {event.step_key}",
                                  begun[event.step_key], event.timestamp - started))
    assert {name.split(":")[0] for name, _, _ in steps} == {"ingest", "monthly", "publish"}
    assert problems(reference.warehouse) == []
    assert differences(reference.warehouse, before) != []
    return Scenario(base, before, reference.warehouse, steps)


def test_killed_runs_lose_nothing_and_resume(scenario: Scenario, tmp_path: Path) -> None:
    rng = random.Random(POINTS)
    earlier = runs_in(scenario.base)
    report = []
    for point, (step, delay) in enumerate(kill_plan(scenario.steps, POINTS, rng)):
        # At the aimed moment, or at the step's start when this run got through it sooner.
        for attempt, wait in enumerate((delay, 0.0)):
            census = scenario.base.copy(tmp_path / f"kill{point}-{attempt}")
            if kill_inside(census, earlier, step, wait, census.start()):
                break
        else:
            pytest.fail(f"{step}: no kill landed inside the step")
        # The killed run's own event log: the step started and never ended.
        assert step in in_progress(census, earlier)
        unchanged = differences(census.warehouse, scenario.before) == []
        assert unchanged or differences(census.warehouse, scenario.after) == [], \
            f"killed in {step}: published is neither the previous nor the new state"
        assert problems(census.warehouse) == [], f"killed in {step}"
        census.run()
        # The killed process's runs are marked failed by the next, not left in progress.
        assert runs_in(census, DagsterRunStatus.STARTED, DagsterRunStatus.NOT_STARTED) == 0
        assert problems(census.warehouse) == [], f"resumed after {step}"
        assert differences(census.warehouse, scenario.after) == [], f"resumed after {step}"
        state = "previous" if unchanged else "new"
        report.append(f"{step}: killed {wait:.2f} s in (attempt {attempt + 1}); "
                      f"published: {state}")
    print("\n".join(["kill points (step, moment, published state):", *report]))

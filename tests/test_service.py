"""census as a service (`census ui`: the real webserver and daemon on loopback), started
on a warehouse `census run` filled: the files it loaded start nothing, files landing
together start one run, the runs `census run` would make follow it (the months touched,
then the publish), the same bytes start nothing, runs queue one after the other, a
manual `census run` beside the sensor's runs neither fails nor loads a file twice, a
failed run is recorded and mailed, and stopping the service lets the run in progress
finish. Everything is observed through the GraphQL API, as the UI sees it, but the last
run's end (read from the instance once the UI is gone)."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from dagster import DagsterInstance, DagsterRunStatus

from pipelines.defs.resources import Warehouse
from pipelines.runs import PROCESS_TAG
from tests.conftest import good_workbooks
from tests.test_cli import CENSUS, env_for
from tests.test_delivery import Inbox
from tests.test_ui import free_port, graphql, wait_until_gone

LOCATION = {"repositoryName": "__repository__", "repositoryLocationName": "pipelines.definitions"}
RUNS = """{ runsOrError(limit: 200) { ... on Runs { results {
    runId jobName status startTime endTime tags { key value } } } } }"""


@dataclass
class Service:
    port: int
    landing: Path
    warehouse: Path
    inbox: Inbox
    env: dict[str, str]
    ui: subprocess.Popen

    def stop(self) -> None:
        """SIGTERM to `census ui`'s process group, as Ctrl-C or a service manager sends
        it; returns once `census ui` has ended."""
        os.killpg(self.ui.pid, signal.SIGTERM)
        self.ui.wait(timeout=300)

    def runs(self) -> list[dict]:
        results = graphql(self.port, RUNS)["data"]["runsOrError"]["results"]
        for run in results:
            run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
        return results

    def wait_for(self, what: str, done: Callable[[], bool], timeout: float = 300,
                 failing: str | None = None) -> None:
        """Until `done`; no run may fail but the one `failing` (a run id)."""
        deadline = time.monotonic() + timeout
        while not done():
            failed = [r for r in self.runs() if r["status"] == "FAILURE"
                      and r["runId"] != failing]
            assert not failed, f"{what}: runs failed {failed}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.runs()}"
            time.sleep(2)

    def materialised_partitions(self, key: str) -> set[str]:
        path = ", ".join(f'"{p}"' for p in key.split("/"))
        data = graphql(self.port, f"""{{ assetOrError(assetKey: {{path: [{path}]}}) {{
            ... on Asset {{ assetMaterializations(limit: 100) {{ partition runId }} }} }} }}""")
        return {m["partition"] for m in data["data"]["assetOrError"]["assetMaterializations"]}

    def drop(self, source: Path, folder: str, name: str | None = None) -> None:
        """Land a file as a provider would: written beside, then renamed into place."""
        drop(source, self.landing / folder / (name or source.name))


def drop(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def prior_workbook(generated: Path) -> Path:
    """The workbook `census run` loaded before the service started."""
    return good_workbooks(generated, "*2025*Q1.xlsx")[-1]


@pytest.fixture
def service(tmp_path: Path, generated: Path) -> Iterator[Service]:
    """`census ui` on a warehouse that `census run` filled with one province's workbook."""
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    env = env_for(tmp_path, CENSUS_SMTP_HOST="127.0.0.1", CENSUS_SMTP_PORT=str(smtp.port),
                  CENSUS_ALERT_RECIPIENTS="oncall@census.example", CENSUS_SMTP_ATTEMPTS="2",
                  CENSUS_SMTP_BACKOFF_SECONDS="0.5")
    landing = Path(env["CENSUS_LANDING_DIR"])
    for folder in ("licensing", "telemetry"):
        (landing / folder).mkdir(parents=True)
    drop(prior_workbook(generated), landing / "licensing" / prior_workbook(generated).name)
    run = subprocess.run([*CENSUS, "run"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    ui = subprocess.Popen([*CENSUS, "ui", "--port", str(port)],
                          env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                graphql(port, "{ version }")
                break
            except OSError:
                assert time.monotonic() < deadline and ui.poll() is None, "webserver not up"
                time.sleep(0.5)
        yield Service(port, landing, Path(env["CENSUS_WAREHOUSE"]), inbox, env, ui)
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGTERM)
            ui.wait(timeout=300)
        smtp.stop()
    wait_until_gone(Path(env["DAGSTER_HOME"]), timeout=30)


@pytest.mark.slow
def test_landing_files_drive_the_pipeline_end_to_end(service: Service, generated: Path) -> None:
    # The file `census run` loaded starts no run, however many times the sensor looks.
    started = time.time()
    service.wait_for("two sensor ticks", lambda: sum(
        tick["timestamp"] > started for tick in _ticks(service, "landing_arrivals")) >= 2)
    assert not [r for r in service.runs() if "dagster/sensor_name" in r["tags"]]

    # One province's first-quarter register and its March telemetry, with a second
    # province's workbook, landing together: one ingest run loads the three.
    candidates = [w for w in good_workbooks(generated, "*2025*Q1.xlsx")
                  if w != prior_workbook(generated)]
    first, export = next(
        (w, generated / "telemetry" / f"{w.name.rsplit('_', 1)[0]}_2025-03.csv")
        for w in candidates
        if (generated / "telemetry" / f"{w.name.rsplit('_', 1)[0]}_2025-03.csv").exists())
    other = next(w for w in candidates if w != first)
    files = {f"licensing/{first.name}", f"licensing/{other.name}", f"telemetry/{export.name}"}
    service.drop(first, "licensing")
    service.drop(other, "licensing")
    service.drop(export, "telemetry")

    def sensor_ingests() -> list[dict]:
        return [r for r in service.runs() if r["jobName"] == "ingest"
                and r["tags"].get("dagster/sensor_name") == "landing_arrivals"]

    service.wait_for("the sensor-started ingest run", lambda: any(
        r["status"] == "SUCCESS" for r in sensor_ingests()))
    [ingest] = sensor_ingests()
    assert ingest["tags"]["census/files"] == "3"
    with Warehouse(path=str(service.warehouse)).build_reader() as con:
        batch = {name for (name,) in con.execute(
            "SELECT file_name FROM audit.ingestion_log WHERE run_id = ? AND status = 'loaded'",
            [ingest["runId"]]).fetchall()}
    assert batch == files
    service.wait_for("the marts of March", lambda: all(
        service.materialised_partitions(key) == {"2025-03-01"}
        for key in ("marts/centre_monthly", "marts/region_monthly", "marts/surplus_compute")))

    def published() -> bool:
        try:
            con = duckdb.connect(str(service.warehouse), read_only=True)
        except duckdb.IOException:
            return False
        try:
            return con.execute("SELECT count(*) FROM marts.region_monthly WHERE month = "
                               "DATE '2025-03-01' AND region_code = 'CN'").fetchone()[0] == 1
        except duckdb.CatalogException:
            return False
        finally:
            con.close()

    service.wait_for("the publish after the marts", published)
    runs = service.runs()
    finished = sorted((r for r in runs if r["endTime"]), key=lambda r: r["startTime"])
    assert all(a["endTime"] <= b["startTime"] for a, b in itertools.pairwise(finished)), \
        "runs writing the warehouse overlapped"
    service_runs = [r for r in runs if PROCESS_TAG not in r["tags"]]  # not `census run`'s
    # The runs `census run` makes, in its order, each started by a sensor: the ingest by
    # the landing sensor, the rebuild of March and the publish by the planner's sensor.
    chain = [(r["jobName"], r["tags"].get("dagster/sensor_name"),
              r["tags"].get("dagster/asset_partition_range_start"),
              r["tags"].get("dagster/asset_partition_range_end"))
             for r in sorted(service_runs, key=lambda r: r["startTime"] or float("inf"))]
    assert chain == [("ingest", "landing_arrivals", None, None),
                     ("monthly", "chain_runs", "2025-03-01", "2025-03-01"),
                     ("publish", "chain_runs", None, None)]

    # The same bytes again, under another name: the warehouse has attempted them.
    dropped_at = time.time()
    service.drop(export, "telemetry", f"again_{export.name}")
    count = len(sensor_ingests())  # follow-up runs of the earlier ones may still come
    service.wait_for("a sensor tick that saw the copy", lambda: any(
        tick["timestamp"] > dropped_at + 6 for tick in _ticks(service, "landing_arrivals")))
    assert len(sensor_ingests()) == count

    with Warehouse(path=str(service.warehouse)).build_reader() as con:
        loaded = con.execute("SELECT file_name, count(*) FROM audit.ingestion_log WHERE "
                             "status = 'loaded' GROUP BY ALL").fetchall()
        duplicates = con.execute("SELECT count(*) FROM (SELECT centre_id, valid_from FROM "
                                 "core.centre_register GROUP BY ALL HAVING count(*) > 1)"
                                 ).fetchone()[0]
    assert sorted(name for name, n in loaded if n == 1) == sorted(
        {*files, f"licensing/{prior_workbook(generated).name}"})
    assert duplicates == 0

    # A run that fails: the export of a month without data.
    launched = graphql(service.port, """mutation { launchRun(executionParams: {
        selector: {repositoryName: "__repository__",
                   repositoryLocationName: "pipelines.definitions", jobName: "export"},
        executionMetadata: {tags: [{key: "dagster/partition", value: "2026-10-01"}]}}) {
        __typename ... on LaunchRunSuccess { run { runId } } } }""")
    run_id = launched["data"]["launchRun"]["run"]["runId"]

    def recorded() -> list[tuple]:
        with Warehouse(path=str(service.warehouse)).build_reader() as con:
            return con.execute("SELECT job_name, steps, reason, alerted FROM audit.run_failures "
                               "WHERE run_id = ?", [run_id]).fetchall()

    service.wait_for("the failure", lambda: bool(recorded()), failing=run_id)
    [(job, steps, reason, alerted)] = recorded()
    assert (job, steps, alerted) == ("export", "summary_export", "oncall@census.example")
    assert reason.startswith("no data for 2026-10: the marts hold 2025-03 to 2025-03")
    [alert] = service.inbox.messages()
    assert run_id[:8] in alert["Subject"] and reason in alert.get_content()

    # Someone runs census by hand while the sensor's run of a new file goes: it waits
    # for the warehouse and succeeds, no lock error reaches them, the file loads once.
    april = export.with_name(export.name.replace("2025-03", "2025-04"))
    service.drop(april, "telemetry")
    service.wait_for("the sensor's run of April", lambda: len(sensor_ingests()) > count,
                     failing=run_id)
    manual = subprocess.run([*CENSUS, "run"], env=service.env,
                            capture_output=True, text=True, timeout=300)
    assert manual.returncode == 0, manual.stderr
    assert "census run" in manual.stdout and "lock" not in manual.stderr.lower()
    service.wait_for("the last runs", lambda: not any(
        r["status"] in ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")
        for r in service.runs()), failing=run_id)
    with Warehouse(path=str(service.warehouse)).build_reader() as con:
        attempts = con.execute("SELECT status, count(*) FROM audit.ingestion_log "
                               "WHERE file_name = ? GROUP BY ALL",
                               [f"telemetry/{april.name}"]).fetchall()
    assert attempts == [("loaded", 1)]

    # The service stopped while a run is in progress: the run finishes, it is not failed;
    # then nothing of the service is left.
    before = {r["runId"] for r in sensor_ingests()}
    for month in ("2025-05", "2025-06"):  # one province's month loads too fast to stop in
        for source in sorted((generated / "telemetry").glob(f"*_{month}.csv")):
            service.drop(source, "telemetry")
    deadline = time.monotonic() + 120
    while not (running := [r for r in sensor_ingests()
                           if r["runId"] not in before and r["status"] == "STARTED"]):
        assert time.monotonic() < deadline, f"no run in progress: {service.runs()}"
        time.sleep(0.2)
    stopped_at = time.time()
    service.stop()
    wait_until_gone(Path(service.env["DAGSTER_HOME"]), timeout=30)
    with DagsterInstance.from_config(service.env["DAGSTER_HOME"]) as instance:
        record = instance.get_run_record_by_id(running[0]["runId"])
    assert record.dagster_run.status == DagsterRunStatus.SUCCESS
    assert record.end_time > stopped_at


def _ticks(service: Service, sensor: str) -> list[dict]:
    data = graphql(service.port, f"""{{ sensorOrError(sensorSelector: {{
        repositoryName: "{LOCATION['repositoryName']}",
        repositoryLocationName: "{LOCATION['repositoryLocationName']}",
        sensorName: "{sensor}"}}) {{ ... on Sensor {{ sensorState {{
        ticks(limit: 5) {{ timestamp status runIds }} }} }} }} }}""")
    return data["data"]["sensorOrError"]["sensorState"]["ticks"]


def test_dagster_validates_the_definitions() -> None:
    done = subprocess.run([str(Path(sys.executable).with_name("dagster")), "definitions",
                           "validate", "-m", "pipelines.definitions"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful" in done.stdout + done.stderr

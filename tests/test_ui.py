"""`census ui`: the real webserver and daemon on loopback serve the census definitions,
with every table's columns and the SQL models' column lineage, and stop on SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.test_cli import env_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_ui_serves_the_asset_graph_and_stops(tmp_path: Path) -> None:
    """Started in the background by a non-interactive shell (which ignores SIGINT for it),
    the way a script or a service manager starts it, it still stops on SIGTERM; its log
    holds no warning (the code location's name is the project's own)."""
    port = free_port()
    census = f"{sys.executable} -m pipelines.cli ui --port {port}"
    log = tmp_path / "ui.log"
    shell = subprocess.run(["bash", "-c", f"{census} >{log} 2>&1 & echo $!"],
                           env=env_for(tmp_path), capture_output=True, text=True,
                           start_new_session=True, timeout=30)
    ui = int(shell.stdout.strip())
    home = Path(env_for(tmp_path)["DAGSTER_HOME"])
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                assert time.monotonic() < deadline and service_processes(home), \
                    "webserver not up"
                time.sleep(0.5)
        nodes = graphql(port, "{ assetNodes { assetKey { path } groupName } }")
        keys = {"/".join(n["assetKey"]["path"]): n["groupName"]
                for n in nodes["data"]["assetNodes"]}
        assert keys["core/centre_register"] == "ingest"
        assert keys["published_warehouse"] == "warehouse"
        assert keys["summary_export"] == "exports"
        schemas, lineage = _columns(port)
        assert ("glut_score", "DOUBLE", "Mean of four parts clamped to [0, 1]; a null part "
                "counts as 0") in schemas["marts/region_monthly"]
        assert ("centre_id", "VARCHAR", "Centre ID: DC + 6-digit GB/T 2260 code + '-' + 4 "
                "digits") in schemas["core/centre_register"]
        assert all(description for table in schemas.values() for _, _, description in table)
        # An engineer traces glut_score back, hop by hop, to the telemetry's racks in use.
        assert ("marts/centre_monthly", "racks_in_use_avg") in \
            lineage[("marts/region_monthly", "glut_score")]
        assert ("core/telemetry_hourly", "racks_in_use") in _upstream(
            lineage, ("marts/region_monthly", "glut_score"))
    finally:
        os.kill(ui, signal.SIGTERM)  # the one process, as `kill PID` would
    wait_until_gone(home, timeout=30)  # `dg dev` stops its children in a few seconds
    warnings = [line for line in log.read_text().splitlines() if "WARNING" in line]
    assert warnings == [], warnings[:3]


COLUMNS = """{ assetNodes { assetKey { path } metadataEntries { label
    ... on TableSchemaMetadataEntry { schema { columns { name type description } } }
    ... on TableColumnLineageMetadataEntry { lineage {
        columnName columnDeps { assetKey { path } columnName } } } } } }"""

Column = tuple[str, str]  # (asset, column)


def _columns(port: int) -> tuple[dict[str, list[tuple[str, str, str]]],
                                 dict[Column, set[Column]]]:
    """Over GraphQL: each asset's column schema (name, type, description), and each
    column's upstream columns."""
    schemas: dict[str, list[tuple[str, str, str]]] = {}
    lineage: dict[Column, set[Column]] = {}
    for node in graphql(port, COLUMNS)["data"]["assetNodes"]:
        asset = "/".join(node["assetKey"]["path"])
        for entry in node["metadataEntries"]:
            if entry["label"] == "dagster/column_schema":
                schemas[asset] = [(c["name"], c["type"], c["description"])
                                  for c in entry["schema"]["columns"]]
            elif entry["label"] == "dagster/column_lineage":
                for column in entry["lineage"]:
                    lineage[(asset, column["columnName"])] = {
                        ("/".join(d["assetKey"]["path"]), d["columnName"])
                        for d in column["columnDeps"]}
    return schemas, lineage


def _upstream(lineage: dict[Column, set[Column]], column: Column) -> set[Column]:
    found: set[Column] = set()
    todo = [column]
    while todo:
        for dep in lineage.get(todo.pop(), set()) - found:
            found.add(dep)
            todo.append(dep)
    return found


def service_processes(home: Path) -> list[int]:
    """The live processes of the `census ui` whose DAGSTER_HOME is `home`, in whatever
    session or group (`dg dev` has a session of its own; zombies, exited but not yet
    reaped by an init that may not reap here, do not count)."""
    needle = f"DAGSTER_HOME={home}\0".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z" and needle in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue  # exited while we looked
    return found


def wait_until_gone(home: Path, timeout: float) -> None:
    """Fail if a process of the service is still alive after `timeout` (killed then)."""
    deadline = time.monotonic() + timeout
    while left := service_processes(home):
        if time.monotonic() > deadline:
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"processes of the UI outlived their stop: {left}")
        time.sleep(0.5)

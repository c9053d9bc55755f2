"""`census ui`: the real webserver and daemon on loopback serve the census definitions
and stop on SIGTERM."""

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
    the way a script or a service manager starts it, it still stops on SIGTERM."""
    port = free_port()
    census = f"{sys.executable} -m pipelines.cli ui --port {port}"
    shell = subprocess.run(["bash", "-c", f"{census} >/dev/null 2>&1 & echo $!"],
                           env=env_for(tmp_path), capture_output=True, text=True,
                           start_new_session=True, timeout=30)
    ui = int(shell.stdout.strip())
    group = os.getpgid(ui)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                assert time.monotonic() < deadline and group_alive(group), "webserver not up"
                time.sleep(0.5)
        nodes = graphql(port, "{ assetNodes { assetKey { path } groupName } }")
        keys = {"/".join(n["assetKey"]["path"]): n["groupName"]
                for n in nodes["data"]["assetNodes"]}
        assert keys["core/centre_register"] == "ingest"
        assert keys["published_warehouse"] == "warehouse"
        assert keys["summary_export"] == "exports"
    finally:
        os.kill(ui, signal.SIGTERM)  # the one process, as `kill PID` would
    deadline = time.monotonic() + 30  # dagster dev stops its children in a few seconds
    while group_alive(group):
        if time.monotonic() > deadline:
            os.killpg(group, signal.SIGKILL)
            raise AssertionError("a process of the UI outlived SIGTERM")
        time.sleep(0.5)


def group_alive(group: int) -> bool:
    """A process of the group still runs (zombies, exited but not yet reaped by an init
    that may not reap here, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            return True
    return False

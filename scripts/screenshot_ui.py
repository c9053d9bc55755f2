"""Open the census asset graph in headless Chromium and save a screenshot, so a person can
see that the Dagster UI renders the whole graph.

    .venv/bin/python scripts/screenshot_ui.py [--out ui.png] [--url http://127.0.0.1:3000]

Without --url it starts `census ui` on a free loopback port (with this shell's
configuration), takes the screenshot and stops it. Needs `chromium-headless-shell` or
`chromium` (Debian: `sudo apt-get install chromium-headless-shell`)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import websockets

SETTLE_SECONDS = 8  # the UI loads the graph and lays it out
DISMISS_DIALOG = """[...document.querySelectorAll('button')]
    .filter(b => b.textContent.trim() === 'Skip').forEach(b => b.click())"""
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("ui_asset_graph.png"))
    parser.add_argument("--url", help="a running census ui; default: start one")
    parser.add_argument("--page", help="UI route to capture", default=(
        "/assets/published_warehouse?view=lineage&lineageScope=upstream&lineageDepth=10"))
    args = parser.parse_args()
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        print(f"no headless Chromium found (tried {', '.join(BROWSERS)})", file=sys.stderr)
        return 1
    ui = None
    url = args.url
    if url is None:
        port = _free_port()
        ui = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ui", "--port", str(port)],
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/server_info")
        png = asyncio.run(_capture(browser, f"{url}{args.page}"))
        args.out.write_bytes(png)
        print(f"saved {args.out} ({len(png):,} bytes) of {url}{args.page}")
        return 0
    finally:
        if ui is not None:
            os.killpg(ui.pid, signal.SIGTERM)
            ui.wait(timeout=60)


async def _capture(browser: str, url: str) -> bytes:
    """Drive Chromium over the DevTools protocol: load the page, dismiss Dagster's
    first-visit dialog, let the graph lay out, capture the viewport."""
    port = _free_port()
    # Its own process group: Debian's chromium-headless-shell is a shell wrapper that does
    # not exec, so the browser is a child of the process started here, and stopping only
    # that process would leave the browser (and its renderers) running.
    chromium = subprocess.Popen(
        [browser, "--headless", "--no-sandbox", "--hide-scrollbars", "--window-size=1920,1200",
         f"--remote-debugging-port={port}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/json/version")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
            calls = iter(range(1, 1_000))

            async def call(method: str, **params: object) -> dict:
                ident = next(calls)
                await ws.send(json.dumps({"id": ident, "method": method, "params": params}))
                while True:
                    reply = json.loads(await ws.recv())
                    if reply.get("id") == ident:
                        return reply.get("result", {})

            await call("Page.enable")
            await call("Page.navigate", url=url)
            await asyncio.sleep(SETTLE_SECONDS)
            await call("Runtime.evaluate", expression=DISMISS_DIALOG)
            await asyncio.sleep(SETTLE_SECONDS)
            shot = await call("Page.captureScreenshot", format="png")
            return base64.b64decode(shot["data"])
    finally:
        _stop_group(chromium)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group, then SIGKILL to whatever of it outlived 10 s."""
    os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the UI did not answer at {url}") from None
            time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())

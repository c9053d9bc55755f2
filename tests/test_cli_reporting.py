"""Saying what happened (real processes): the generator's counts and the run's agree,
the run names the files it did not load and why, `--help` shows defaults, and long
steps show their progress on a terminal."""

import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

from tests.test_cli import CENSUS, env_for


def numbers(pattern: str, text: str) -> list[int]:
    found = re.search(pattern, text)
    assert found, (pattern, text)
    return [int(n) for n in found.groups()]


def test_the_run_accounts_for_every_generated_file_and_row(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    landing = tmp_path / "landing"
    made = subprocess.run([*CENSUS, "generate", "--centres", "20", "--months", "2",
                           "--out", str(landing)], capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    files, to_load, to_reject = numbers(
        r"licensing: (\d+) files .*: (\d+) register workbooks to load, (\d+) planted to reject",
        made.stdout)
    exports, rows, samples, bad_rows, twins = numbers(
        r"telemetry: (\d+) exports, (\d+) rows: (\d+) samples, (\d+) planted to reject, "
        r"(\d+) identical duplicate", made.stdout)
    shutil.rmtree(landing / "_truth")
    resent = sorted((landing / "licensing").glob("*.xlsx"))[-1]
    copy = landing / "licensing" / f"{resent.stem}_resent{resent.suffix}"
    shutil.copyfile(resent, copy)

    done = subprocess.run([*CENSUS, "run"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert numbers(r"licensing: files loaded (\d+) / skipped (\d+) / rejected (\d+)", out) == \
        [to_load, 1, to_reject]
    assert files == to_load + to_reject
    assert numbers(r"telemetry: files loaded (\d+) / skipped 0 / rejected 0; "
                   r"rows loaded (\d+) / rejected (\d+)", out) == \
        [exports, samples + twins, bad_rows]
    assert rows == samples + bad_rows + twins
    # path order: the copy's name sorts after the original's
    assert f"  skipped licensing/{copy.name}: same bytes as licensing/{resent.name}\n" in out
    assert "  rejected licensing/corrupt_upload_2025Q1.xlsx: not a readable" in out


def test_generate_help_shows_the_defaults() -> None:
    shown = subprocess.run([*CENSUS, "generate", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0
    for default in ("random seed (default: 20251)",
                    "number of centres, 10 or more (default: 300)", "months covered (default: 6)",
                    "(default: 2025-01)", "(default: OUT/_truth)"):
        assert default in " ".join(shown.stdout.split()), default


def on_a_terminal(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `command` with its stderr on a pseudo-terminal; the exit code and what the
    terminal received."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    received = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        received += chunk
    os.close(controller)
    return process.wait(timeout=600), received.decode("utf-8", "replace")


def test_long_steps_show_progress_on_a_terminal(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    status, shown = on_a_terminal(
        [*CENSUS, "generate", "--centres", "15", "--months", "2", "--out",
         str(tmp_path / "landing")], env)
    assert status == 0
    for step in ("generating: planning 15 centres over 2 months",
                 "generating: register workbook 1/", "with LibreOffice",
                 "generating: telemetry export 1/"):
        assert step in shown, step
    status, shown = on_a_terminal([*CENSUS, "run"], env)
    assert status == 0, shown
    for step in ("census run: ingesting the new files", "census run: rebuilding 2 months",
                 "census run: publishing the warehouse"):
        assert step in shown, step

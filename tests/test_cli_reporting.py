"""Saying what happened (real processes): the generator's counts and the run's agree,
the run names the files it did not load and why, `--help` shows defaults, and long
steps show their progress on a terminal."""

import os
import pty
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_cli import CENSUS, env_for


def numbers(pattern: str, text: str) -> list[int]:
    found = re.search(pattern, text)
    assert found, (pattern, text)
    return [int(n) for n in found.groups()]


@dataclass(frozen=True)
class Shown:
    """What a command printed: its standard output, and its stderr as a terminal got it."""

    out: str
    terminal: str


@dataclass(frozen=True)
class GeneratedThenRun:
    generated: Shown
    run: Shown
    resent: Path  # a register workbook landed a second time under another name
    copy: Path


@pytest.fixture(scope="module")
def generated_then_run(tmp_path_factory: pytest.TempPathFactory) -> GeneratedThenRun:
    """`census generate` of 20 centres over 2 months, a workbook landed twice, then `census
    run`, each with its stderr on a terminal (one run serves the summary's and the
    progress's tests)."""
    root = tmp_path_factory.mktemp("reporting")
    env, landing = env_for(root), root / "landing"
    generated = on_a_terminal([*CENSUS, "generate", "--centres", "20", "--months", "2",
                               "--out", str(landing)], env, root / "generate.out")
    shutil.rmtree(landing / "_truth")
    resent = sorted((landing / "licensing").glob("*.xlsx"))[-1]
    copy = landing / "licensing" / f"{resent.stem}_resent{resent.suffix}"
    shutil.copyfile(resent, copy)
    return GeneratedThenRun(generated, on_a_terminal([*CENSUS, "run"], env, root / "run.out"),
                            resent, copy)


def test_the_run_accounts_for_every_generated_file_and_row(
        generated_then_run: GeneratedThenRun) -> None:
    made, out = generated_then_run.generated.out, generated_then_run.run.out
    files, to_load, to_reject = numbers(
        r"licensing: (\d+) files .*: (\d+) register workbooks to load, (\d+) planted to reject",
        made)
    exports, rows, samples, bad_rows, twins = numbers(
        r"telemetry: (\d+) exports, (\d+) rows: (\d+) samples, (\d+) planted to reject, "
        r"(\d+) identical duplicate", made)
    assert numbers(r"licensing: files loaded (\d+) / skipped (\d+) / rejected (\d+)", out) == \
        [to_load, 1, to_reject]
    assert files == to_load + to_reject
    assert numbers(r"telemetry: files loaded (\d+) / skipped 0 / rejected 0; "
                   r"rows loaded (\d+) / rejected (\d+)", out) == \
        [exports, samples + twins, bad_rows]
    assert rows == samples + bad_rows + twins
    # path order: the copy's name sorts after the original's
    copy, resent = generated_then_run.copy, generated_then_run.resent
    assert f"  skipped licensing/{copy.name}: same bytes as licensing/{resent.name}\n" in out
    assert "  rejected licensing/corrupt_upload_2025Q1.xlsx: not a readable" in out


def test_generate_help_shows_the_defaults() -> None:
    shown = subprocess.run([*CENSUS, "generate", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0
    for default in ("random seed (default: 20251)",
                    "number of centres, 10 or more (default: 300)", "months covered (default: 6)",
                    "(default: 2025-01)", "(default: OUT/_truth)"):
        assert default in " ".join(shown.stdout.split()), default


def on_a_terminal(command: list[str], env: dict[str, str], out: Path) -> Shown:
    """Run `command` with its stderr on a pseudo-terminal and its standard output into
    the file `out`; it must succeed."""
    controller, terminal = pty.openpty()
    with out.open("w", encoding="utf-8") as stdout:
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=terminal)
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
    shown = received.decode("utf-8", "replace")
    assert process.wait(timeout=600) == 0, shown
    return Shown(out.read_text(encoding="utf-8"), shown)


def test_long_steps_show_progress_on_a_terminal(generated_then_run: GeneratedThenRun) -> None:
    for step in ("generating: planning 20 centres over 2 months",
                 "generating: register workbook 1/", "with LibreOffice",
                 "generating: telemetry export 1/"):
        assert step in generated_then_run.generated.terminal, step
    for step in ("census run: ingesting the new files", "census run: rebuilding 2 months",
                 "census run: publishing the warehouse"):
        assert step in generated_then_run.run.terminal, step

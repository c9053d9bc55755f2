"""Progress of long steps (generation, a run, the benchmark) for a person watching."""

import sys
from collections.abc import Callable

Report = Callable[[str], None]  # takes the current step, e.g. `progress`


def progress(text: str, done: bool = False) -> None:
    """One status line on a terminal, rewritten in place; finished phases only in logs."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{text}" + ("\n" if done else ""))
    elif done:
        sys.stderr.write(text + "\n")
    sys.stderr.flush()


def cleared() -> None:
    """Clear the status line on a terminal: what follows is the result."""
    progress("")


def quiet(text: str) -> None:
    """No progress: for code that runs without a person watching (tests, the UI)."""

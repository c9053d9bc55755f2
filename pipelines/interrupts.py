"""Ctrl-C for census alone. A terminal sends SIGINT to every process of the foreground
job, and Dagster's log-tailing helpers, Python programs too, would each die printing a
KeyboardInterrupt traceback. With SIGINT blocked before they start, they inherit the
block and ignore it (Dagster stops them itself); one thread of census waits for the
signal and hands it to the main thread, where Dagster stops the run. A process started
with SIGINT ignored (a script's background job, `census run &`) ignores it throughout, as
other programs do: it neither stops nor says at its end that it was interrupted."""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass


@dataclass
class Interruption:
    happened: bool = False


@contextmanager
def interrupts_for_census_only() -> Iterator[Interruption]:
    """Within the block, Ctrl-C interrupts the main thread as usual (KeyboardInterrupt,
    or Dagster's handler), but no child process sees it; `happened` says whether it
    came."""
    interruption = Interruption()
    done = threading.Event()
    # Still blocked and waited for: a Dagster run sets a handler of its own, which would
    # take the signal.
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN

    def wait_for_sigint() -> None:
        while signal.sigwait({signal.SIGINT}) == signal.SIGINT and not done.is_set():
            if ignored:
                continue
            interruption.happened = True
            _thread.interrupt_main(signal.SIGINT)

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    waiter = threading.Thread(target=wait_for_sigint, name="census-sigint", daemon=True)
    waiter.start()
    try:
        yield interruption
    finally:
        done.set()
        # Wakes the waiter, which ends; unless a Ctrl-C just did and it has ended already.
        with suppress(ProcessLookupError):
            signal.pthread_kill(waiter.ident or 0, signal.SIGINT)
        waiter.join()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)

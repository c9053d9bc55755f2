"""Which landed files a sensor tick hands to the ingest: the settled files the warehouse
has not attempted, all in one run.

The tick's cursor remembers each file as its stamp and SHA-256, so an unchanged file is
not hashed again, and the files hashed in a tick the warehouse was busy (a run was
writing it) wait for the next."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.ingest.files import file_stamp, sha256_of, stamped, unstamped

# A file younger than this may still be being copied in; it waits for the next tick.
SETTLE_SECONDS = 5.0


@dataclass
class Arrivals:
    known: dict[str, str] = field(default_factory=dict)  # file name → stamp:sha256
    waiting: list[str] = field(default_factory=list)  # hashed, not yet compared

    @classmethod
    def from_cursor(cls, cursor: str | None) -> Arrivals:
        state = json.loads(cursor or "{}")
        return cls(state.get("known", {}), state.get("waiting", []))

    def cursor(self) -> str:
        return json.dumps({"known": self.known, "waiting": self.waiting}, sort_keys=True)

    def settle(self, paths: list[tuple[Path, str]]) -> None:
        """Hash the files new or changed since the last tick and left alone for
        SETTLE_SECONDS; they join the files waiting for a decision."""
        now = time.time()
        for path, file_name in paths:
            stat = path.stat()
            stamp = file_stamp(stat)
            if unstamped(self.known.get(file_name, ""))[0] == stamp:
                continue
            if now - stat.st_mtime < SETTLE_SECONDS:
                continue
            self.known[file_name] = stamped(stamp, sha256_of(path))
            if file_name not in self.waiting:
                self.waiting.append(file_name)

    def take_new(self, attempted: set[str]) -> dict[str, str]:
        """The waiting files (name → SHA-256) whose bytes neither the warehouse has
        attempted nor an earlier tick handed on (a run that may still be queued), under
        any name; nothing waits any more."""
        old = attempted | {self.sha256(name) for name in self.known if name not in self.waiting}
        new = {name: self.sha256(name) for name in sorted(self.waiting)
               if self.sha256(name) not in old}
        self.waiting = []
        return new

    def sha256(self, file_name: str) -> str:
        return unstamped(self.known[file_name])[1]


def batch_key(files: dict[str, str]) -> str:
    """The run key of a batch: from the set of its files' SHA-256s, so the same bytes,
    however named or ordered, never start a second run."""
    return hashlib.sha256("\n".join(sorted(set(files.values()))).encode()).hexdigest()


def batch_tags(files: dict[str, str]) -> dict[str, str]:
    """How many files the run was started for (audit.ingestion_log names them, by run)."""
    return {"census/files": str(len(files))}

"""Exports opened ahead: while DuckDB loads one export, worker threads decompress, check
and transcode the next (`open_export`: Python, one core), so both cores work; with Spark
(CENSUS_ENGINE=spark), they open a batch of exports, which Spark reads and checks
together."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pipelines.ingest.files import LandingFile
from pipelines.ingest.limits import MAX_DECOMPRESSED_BYTES
from pipelines.ingest.telemetry_readers import Export, open_export

# A file system in RAM: a file written there costs a fifth of one written to a disk's
# page cache (a national month inflates to about 300 MB).
RAM_FOLDER = Path("/dev/shm")
# The copies of the export being loaded and of the next, each at its limit.
SCRATCH_ROOM = 2 * MAX_DECOMPRESSED_BYTES
# The landing bytes of the files another engine checks together (a national month's
# export is larger, and is checked alone).
BATCH_BYTES = 64 << 20


def scratch_folder(beside: Path, given: Path | None = None, ram: Path = RAM_FOLDER,
                   room: int = SCRATCH_ROOM) -> Path:
    """The scratch folder of the warehouse whose build copy is in `beside`: in the folder
    `given` (CENSUS_SCRATCH_DIR); else in `ram` where it has `room` free; else
    `beside/scratch`. Each warehouse has a folder of its own (named after `beside`),
    which its writer empties."""
    own = f"census-scratch-{hashlib.sha256(str(beside).encode()).hexdigest()[:16]}"
    if given is not None:
        return given / own
    if ram.is_dir() and os.access(ram, os.W_OK) and shutil.disk_usage(ram).free >= room:
        return ram / own
    return beside / "scratch"


@dataclass(frozen=True)
class Checked:
    """What another engine made of an export: the rows it read, why the export is
    rejected (None where it is not), and whether a centre-hour is sent twice among the
    samples nothing was found in (if not, its checked rows with nothing to report need
    not be read again: their hours are made)."""

    rows_read: int
    rejection: Exception | None = None
    sent_twice: bool = True


@dataclass(frozen=True)
class Opened:
    export: Export
    checked: Checked | None  # where another engine checked it


class ExportOpener:
    """`open_export` of each of `files`, in their order, each in a folder of its own in
    `scratch` until `release`; opening one starts opening the next. With a `check`
    (another engine's), files are opened and checked in batches, the next batch when a
    file of it is first asked for: the batch's files in order while their landing bytes
    stay within `batch_bytes` (one at least), so that the engine's fixed cost of a check is
    paid once for many small files, and a large file is checked alone. Its user holds the
    warehouse's writer lock: whatever `scratch` holds then, a run cut short left, and it
    is removed, as `scratch` itself is at the end."""

    def __init__(self, files: list[LandingFile], scratch: Path,
                 check: Callable[[list[tuple[Export, LandingFile]]], dict[Path, Checked]]
                 | None = None, batch_bytes: int = BATCH_BYTES) -> None:
        shutil.rmtree(scratch, ignore_errors=True)
        self._files = files
        self._position = {file.path: n for n, file in enumerate(files)}
        self._scratch = scratch
        self._check = check
        self._batch_bytes = batch_bytes
        self._pool = ThreadPoolExecutor(max_workers=2 if check else 1,
                                        thread_name_prefix="open-export")
        self._opened: dict[Path, tuple[Future[Export], Path]] = {}
        self._checked: dict[Path, Checked] = {}

    def open(self, file: LandingFile) -> Opened:
        """The export, as `open_export` reads it (its errors raised here), and what
        `check` made of it."""
        index = self._position[file.path]
        if self._check is None:
            for following in self._files[index:index + 2]:
                if following.path not in self._opened:
                    self._start(following)
            return Opened(self._opened[file.path][0].result(), None)
        if file.path not in self._opened:
            self._check_batch(index)
        return Opened(self._opened[file.path][0].result(), self._checked[file.path])

    def release(self, file: LandingFile) -> None:
        """The file's decompressed or transcoded copy is no longer read: removed (nothing
        to remove where its opening never started)."""
        _, folder = self._opened.pop(file.path, (None, None))
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _check_batch(self, index: int) -> None:
        """The batch of files from the `index`th opened, and those opened checked."""
        batch, size = [], 0
        for file in self._files[index:]:
            size += _landing_bytes(file)
            if batch and size > self._batch_bytes:
                break
            batch.append(file)
            self._start(file)
        opened = []
        for file in batch:
            future = self._opened[file.path][0]
            if future.exception() is None:  # else raised when the file is asked for
                opened.append((future.result(), file))
        assert self._check is not None
        self._checked |= self._check(opened)

    def _start(self, file: LandingFile) -> None:
        self._scratch.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=self._scratch))
        self._opened[file.path] = (self._pool.submit(open_export, file.path, folder), folder)

    def __enter__(self) -> ExportOpener:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._opened.clear()
        # The warehouse's own folder, which no other writer uses: none is left in RAM.
        shutil.rmtree(self._scratch, ignore_errors=True)


def _landing_bytes(file: LandingFile) -> int:
    """The file's size; 0 where it is gone (its opening fails, and is reported, when the
    file is asked for, not when another file's batch is made)."""
    try:
        return file.path.stat().st_size
    except OSError:
        return 0

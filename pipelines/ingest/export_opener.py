"""Exports opened one file ahead: while DuckDB loads one export, a worker thread
decompresses, checks and transcodes the next (`open_export`: Python, one core), so both
cores work."""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from types import TracebackType

from pipelines.ingest.files import LandingFile
from pipelines.ingest.telemetry_readers import Export, open_export


class ExportOpener:
    """`open_export` of each of `files`, in their order, each in a scratch folder of its
    own until `release`; opening one starts opening the next."""

    def __init__(self, files: list[LandingFile], scratch: Path) -> None:
        self._following = {a.path: b for a, b in pairwise(files)}
        self._scratch = scratch
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="open-export")
        self._opened: dict[Path, tuple[Future[Export], Path]] = {}

    def open(self, file: LandingFile) -> Export:
        """The export, as `open_export` reads it (its errors raised here)."""
        if file.path not in self._opened:
            self._start(file)
        following = self._following.get(file.path)
        if following is not None and following.path not in self._opened:
            self._start(following)
        return self._opened[file.path][0].result()

    def release(self, file: LandingFile) -> None:
        """The file's decompressed or transcoded copy is no longer read: removed (nothing
        to remove where its opening never started)."""
        _, folder = self._opened.pop(file.path, (None, None))
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _start(self, file: LandingFile) -> None:
        self._scratch.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=self._scratch))
        self._opened[file.path] = (self._pool.submit(open_export, file.path, folder), folder)

    def __enter__(self) -> ExportOpener:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for _, folder in self._opened.values():
            shutil.rmtree(folder, ignore_errors=True)
        self._opened.clear()

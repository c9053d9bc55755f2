"""The published warehouse file: a byte-for-byte copy of the build copy, put in place with
one rename, so an analyst's open connection keeps the file it opened.

A full copy costs the whole file, and the file grows with the history. The file
published before the current one is kept (a second name beside the build copy, the
spare); once no connection holds it, it differs from the build copy only in the blocks
the runs since wrote, and only those are written into it. DuckDB holds a shared lock on a
file while a connection reads it, so a spare some analyst still reads is refused the
exclusive lock and left alone: the copy is then made whole."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from pathlib import Path

_CHUNK = 1 << 20  # compared a megabyte at a time (four of DuckDB's blocks)


def publish_file(build: Path, published: Path, spare: Path) -> bool:
    """Replace `published` with a copy of `build` in one rename; the file it replaces
    becomes the next `spare` (the first publish copies one). Returns whether the spare
    was brought up to date (False: a whole copy was written)."""
    published.parent.mkdir(parents=True, exist_ok=True)
    first = not published.exists()
    # Never the published file itself (were the names ever linked to one file).
    synced = (spare.exists() and (first or not spare.samefile(published))
              and _synced(build, spare))
    kept = spare.with_name(f"{spare.name}.next")
    kept.unlink(missing_ok=True)
    if not first:
        with contextlib.suppress(OSError):  # no hard links here: the next copy is whole
            os.link(published, kept)  # the file being replaced, under the name it keeps
    if synced:
        os.replace(spare, published)
        _fsync_folder(published.parent)
    else:
        atomic_copy(build, published)
    if first:
        atomic_copy(build, kept)
    if kept.exists():
        os.replace(kept, spare)
        _fsync_folder(spare.parent)
    return synced


def atomic_copy(source: Path, target: Path) -> None:
    """`target` a copy of `source`, on disk before it has the name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # One name: the caller holds the writer lock, and a copy cut short by a crash is
    # overwritten by the next rather than left behind.
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, partial)
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    _fsync_folder(target.parent)


def _synced(build: Path, spare: Path) -> bool:
    """`spare` made equal to `build`, writing only the chunks that differ; False, with
    nothing written, where a connection holds it."""
    if _open_here(spare):
        return False
    with open(spare, "r+b") as target:
        try:
            fcntl.lockf(target, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        offset = 0
        with open(build, "rb") as source:
            while block := source.read(_CHUNK):
                if target.read(len(block)) != block:
                    target.seek(offset)
                    target.write(block)
                offset += len(block)
        target.truncate(offset)
        target.flush()
        os.fsync(target.fileno())
    return True


def _open_here(path: Path) -> bool:
    """Whether this process has the file open: a lock does not exclude the process that
    holds it, so a connection of this process's own is sought among its open files."""
    descriptors = Path("/proc/self/fd")
    if not descriptors.is_dir():  # not Linux: it cannot be told, so the copy is whole
        return True
    held = path.stat()
    for descriptor in descriptors.iterdir():
        try:
            opened = descriptor.stat()
        except OSError:  # closed since it was listed
            continue
        if (opened.st_dev, opened.st_ino) == (held.st_dev, held.st_ino):
            return True
    return False


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)

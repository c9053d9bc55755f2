"""Writing a folder all at once: its content goes into a hidden sibling that becomes
the folder in one rename, so a landing sensor or a run never sees half of it, and a
generation that fails leaves nothing behind."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FolderNotEmpty(Exception):
    """The target already holds files: writing over them would mix two generations."""


def holds_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


@contextmanager
def written_at_once(target: Path) -> Iterator[Path]:
    """A folder to write `target`'s content into; renamed to `target` when the block
    ends without an error, removed when it fails. `target` must hold no files (empty
    subfolders, as a landing folder has before anything arrives, are replaced)."""
    if holds_files(target):
        raise FolderNotEmpty(f"{target} is not empty: write into a new or empty folder")
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)  # left by a generation that was killed
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(target, ignore_errors=True)  # no files: nobody loses or sees anything
    os.replace(staging, target)

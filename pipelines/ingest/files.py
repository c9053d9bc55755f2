"""Landing files: discovery in sorted path order, SHA-256 identity, and whether a file
was already attempted."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = {
    "licensing": (".xlsx", ".xls", ".ods"),
    "telemetry": (".csv", ".csv.gz", ".parquet", ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"),
}


@dataclass(frozen=True)
class LandingFile:
    path: Path
    file_name: str  # path under the landing folder, with forward slashes
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


STAMP_SETTLED_SECONDS = 2.0


def file_stamp(stat: os.stat_result) -> str:
    """What changes whenever a file's bytes may have: its size, modification and change
    times and inode (the kernel sets the change time on every write, and no tool can set
    it back)."""
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def stamped(stamp: str, sha256: str) -> str:
    """How a file's SHA-256 is remembered: with the stamp it was taken at."""
    return f"{stamp}:{sha256}"


def unstamped(remembered: str) -> tuple[str, str]:
    """(stamp, SHA-256) of a remembered file; empty where nothing is remembered."""
    stamp, _, sha256 = remembered.rpartition(":")
    return stamp, sha256


def discover(root: Path, kind: str, hashed: Path | None = None) -> list[LandingFile]:
    """Every file under `root/kind/`, in lexicographic order of its path under the
    landing folder (contract §1.2). Hidden files and editor lock files are ignored; a
    file of another format is kept, so that it is rejected visibly. `hashed`: a JSON
    file remembering each file's SHA-256 by its stamp, so that the files of earlier
    months, still in the folder, are not read again on every run."""
    known = _remembered(hashed)
    files, seen = [], {}
    for path, name in list_files(root, (kind,)):
        stat = path.stat()
        stamp = file_stamp(stat)
        stamp_known, sha = unstamped(known.get(name, ""))
        if stamp_known != stamp:
            sha = sha256_of(path)
        files.append(LandingFile(path, name, sha))
        # A file changed moments ago may change again within the same clock tick, under
        # the same stamp: it is hashed again next time.
        if time.time() - stat.st_ctime > STAMP_SETTLED_SECONDS:
            seen[name] = stamped(stamp, sha)
    if hashed:
        others = {name: value for name, value in known.items()
                  if not name.startswith(f"{kind}/")}
        partial = hashed.with_name(f".{hashed.name}.partial")
        partial.write_text(json.dumps({**others, **seen}, sort_keys=True))
        os.replace(partial, hashed)
    return files


def _remembered(hashed: Path | None) -> dict[str, str]:
    """The memory of `discover`; none where it is missing or unreadable (a crash may
    leave it so): every file is then hashed."""
    try:
        known = json.loads(hashed.read_text()) if hashed else {}
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def list_files(root: Path, kinds: tuple[str, ...] = tuple(SUFFIXES)) -> list[tuple[Path, str]]:
    """(path, path under the landing folder) of every file in the kinds' folders, sorted by
    the latter; hidden files and editor lock files left out."""
    found = []
    for kind in kinds:
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            name = path.name.lower()
            if path.is_file() and not name.startswith((".", "~$")):
                found.append((path, path.relative_to(root).as_posix()))
    return sorted(found, key=lambda f: f[1])


def stray_files(root: Path) -> list[str]:
    """The files under the landing folder that census does not read, by their path under
    it: outside `licensing/` and `telemetry/` (a file at the top, a folder misspelt or
    otherwise named). Hidden files and folders, those starting with `_` (the generator's
    `_truth/`) and editor lock files are left out, as in the two folders."""
    private = (".", "_", "~$")
    # The two folders by identity, not name: on a file system that ignores case,
    # `Telemetry/` is read as `telemetry/`.
    read = {_identity(root / kind) for kind in SUFFIXES if (root / kind).is_dir()}
    found = []
    for folder, folders, names in os.walk(root):
        below = Path(folder).relative_to(root)
        folders[:] = sorted(name for name in folders if not name.startswith(private)
                            and _identity(Path(folder, name)) not in read)
        found += [(below / name).as_posix() for name in names
                  if not name.startswith(private)]
    return sorted(found)


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


# The files a summary or a log line names, the first of a list; the log has them all.
NAMED_FILES = 10


def strays_named(strays: list[str]) -> str:
    """What a person reads of the `strays` (`stray_files`): the first NAMED_FILES."""
    more = f" … and {len(strays) - NAMED_FILES} more" if len(strays) > NAMED_FILES else ""
    return (f"not read, outside licensing/ and telemetry/: "
            f"{', '.join(strays[:NAMED_FILES])}{more}")


UNSUPPORTED = {
    "licensing": "not a register workbook: expected .xlsx, .xls or .ods",
    "telemetry": "not a telemetry export: expected .csv, .csv.gz, .parquet, .jsonl or "
                 ".ndjson (optionally .gz)",
}


MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlsb")


def is_supported(file: LandingFile, kind: str) -> bool:
    return file.file_name.lower().endswith(SUFFIXES[kind])


def unsupported_reason(file: LandingFile, kind: str) -> str:
    if kind == "licensing" and file.file_name.lower().endswith(MACRO_SUFFIXES):
        return ("a macro-enabled workbook is not accepted (contract: .xlsx, .xls or .ods): "
                "ask the province to save it as .xlsx")
    return UNSUPPORTED[kind]

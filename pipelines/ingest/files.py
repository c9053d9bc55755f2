"""Landing files: discovery in sorted path order, SHA-256 identity, and whether a file
was already attempted."""

from __future__ import annotations

import hashlib
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


def discover(root: Path, kind: str) -> list[LandingFile]:
    """Every file under `root/kind/`, in lexicographic order of its path under the
    landing folder (contract §1.2). Hidden files and editor lock files are ignored; a
    file of another format is kept, so that it is rejected visibly."""
    return [LandingFile(path, name, sha256_of(path)) for path, name in list_files(root, (kind,))]


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

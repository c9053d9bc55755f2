"""The README's Layout block and the tree agree: every module under pipelines/ and
schemas/ is named there, in its folder, and every path it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "schemas")
# Descriptions start in this column; a line indented as deep continues the entry above.
_DESCRIPTION_COLUMN = 22
_NAME = re.compile(r"[\w.]+(?:/[\w.]+)*(?:/|\.py)")


def layout_block() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1]
    return section.split("```\n", 2)[1].splitlines()


def named_paths(lines: list[str]) -> set[Path]:
    """Every path the block names: its entries (files and folders, nested by indentation)
    and, in a folder's description, the .py files of that folder (text in parentheses is
    said about a file, not a file of the folder)."""
    named: set[Path] = set()
    folders: list[tuple[int, Path]] = []  # (indent, path) of the open folders
    described: dict[Path, str] = {}  # a folder entry's description, continuations joined
    entry: Path | None = None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if indent >= _DESCRIPTION_COLUMN:
            if entry is not None:
                described[entry] += " " + line.strip()
            continue
        parts = re.split(r"  +", line.strip())
        # Names up to the first that is not one, or up to a folder: what follows a folder
        # is its description, which may start with a file of it.
        names: list[str] = []
        for part in parts:
            if not _NAME.fullmatch(part) or (names and names[-1].endswith("/")):
                break
            names.append(part)
        assert names, line
        text = " ".join(parts[len(names):])
        while folders and folders[-1][0] >= indent:
            folders.pop()
        parent = folders[-1][1] if folders else Path()
        entry = None
        for name in names:
            path = parent / name.rstrip("/")
            named.add(path)
            if name.endswith("/"):
                folders.append((indent, path))
                entry = path
                described[path] = text
    for folder, text in described.items():
        outside = re.sub(r"\([^)]*\)", "", text)
        named.update(folder / name for name in re.findall(r"\b[\w]+\.py\b", outside))
    return named


def test_every_module_is_in_the_layout() -> None:
    named = named_paths(layout_block())
    modules = {path.relative_to(ROOT) for package in PACKAGES
               for path in (ROOT / package).rglob("*.py")
               if path.name != "__init__.py" and "__pycache__" not in path.parts}
    assert sorted(modules - named) == []


def test_every_path_in_the_layout_exists() -> None:
    assert sorted(p for p in named_paths(layout_block()) if not (ROOT / p).exists()) == []


def test_a_folder_description_names_its_files_not_those_in_parentheses() -> None:
    lines = ["pipelines/            the code",
             "  defs/               resources.py (beside definitions.py) · partitions.py",
             "                      · owners.py",
             "    ingest/           jobs.py",
             "  cli.py  runs.py     the command"]
    assert named_paths(lines) == {Path(p) for p in (
        "pipelines", "pipelines/defs", "pipelines/defs/resources.py",
        "pipelines/defs/partitions.py", "pipelines/defs/owners.py", "pipelines/defs/ingest",
        "pipelines/defs/ingest/jobs.py", "pipelines/cli.py", "pipelines/runs.py")}

"""A clone of the project explains itself: no code, test or document points outside
the repository or at the tracker that filed its work."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"\.\./shared|\bDESIGN\.md\b|\b[Ii]ssues? #?\d+\b")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    suffixes = {".py", ".md", ".sql", ".toml", ".cfg", ".txt", ".yaml", ".yml", ""}
    return [ROOT / name for name in names if Path(name).suffix in suffixes]


def test_no_reference_outside_the_repository() -> None:
    files = tracked_text_files()
    assert any(path.name == "README.md" for path in files)
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        if path.is_file() and path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == []


def test_the_contract_and_reference_data_are_in_the_repository() -> None:
    contract = (ROOT / "docs" / "contract.md").read_text()
    assert "## 3. Indicators" in contract
    for name in ("provinces.csv", "hubs.csv", "clusters.csv"):
        assert (ROOT / "data" / "reference" / name).stat().st_size > 0

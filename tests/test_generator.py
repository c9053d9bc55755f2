"""The generator: deterministic from its seed, sound on calendar edges, at every size,
written all at once."""

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from pipelines.generate import generate, quarter_ends
from pipelines.generate.centres import add_years
from pipelines.generate.staging import written_at_once
from tests.test_cli import CENSUS


def digests(folder: Path) -> dict[str, object]:
    """Every file's bytes, but a workbook's cell values: spreadsheet writers stamp the
    time into the file."""
    found: dict[str, object] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if path.suffix in (".xlsx", ".xls", ".ods") and "corrupt" not in path.name:
            book = CalamineWorkbook.from_path(str(path))
            found[name] = [book.get_sheet_by_name(s).to_python() for s in book.sheet_names]
        else:
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def test_the_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate(seed=3, centres=10, months=2, start="2025-05", out=tmp_path / name)
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert len(first) > 20
    assert first == second
    generate(seed=4, centres=10, months=2, start="2025-05", out=tmp_path / "c")
    assert digests(tmp_path / "c") != first


def test_leap_days_and_quarters() -> None:
    assert add_years(dt.date(2024, 2, 29), 5) == dt.date(2029, 2, 28)
    assert add_years(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)
    assert quarter_ends("2025-05", 2) == [dt.date(2025, 3, 31), dt.date(2025, 6, 30)]
    assert quarter_ends("2024-11", 3) == [dt.date(2024, 9, 30), dt.date(2024, 12, 31),
                                          dt.date(2025, 3, 31)]


@pytest.mark.slow
def test_thirteen_months_generate_at_once_and_never_over_other_files(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    (out / "licensing").mkdir(parents=True)  # an empty landing folder is written into
    command = [*CENSUS, "generate", "--centres", "10",
               "--months", "13", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    files = pl.read_csv(out / "_truth" / "register_files.csv")
    assert files["reason"].null_count() == files.height - 2  # the two planted rejections
    # Register versions at every quarter's end the thirteen months reach.
    versions = pl.read_csv(out / "_truth" / "register_versions.csv", infer_schema=False)
    assert sorted(set(versions["valid_from"])) == [
        "2024-12-31", "2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31", "2026-03-31"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["landing"]  # no partial folder left
    before = digests(out)
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 2
    assert again.stderr == f"census generate: {out} is not empty: write into a new or " \
                           "empty folder\n"
    assert digests(out) == before


def test_a_failed_generation_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "landing"
    with pytest.raises(RuntimeError), written_at_once(target) as staged:
        (staged / "licensing").mkdir()
        (staged / "licensing" / "half_written.xlsx").write_bytes(b"PK")
        raise RuntimeError("LibreOffice died")
    assert list(tmp_path.iterdir()) == []

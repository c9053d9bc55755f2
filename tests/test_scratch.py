"""Where an export is decompressed while it is read: in RAM where there is room for two
exports at their limit, else beside the build copy; one folder per warehouse, emptied by
its writer of what a run cut short left, and of each copy once the export is loaded; and
the batches in which another engine checks the exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.defs.resources import Warehouse
from pipelines.ingest.export_opener import Checked, ExportOpener, scratch_folder
from pipelines.ingest.files import LandingFile, sha256_of
from pipelines.ingest.telemetry_load import ingest_telemetry
from pipelines.ingest.telemetry_readers import Export, ExportUnreadable
from tests.test_telemetry_typed import _warehouse
from tests.test_telemetry_whole import CLEAN, _write


def test_ram_is_taken_where_it_has_room_else_the_build_folder(tmp_path: Path) -> None:
    ram, build = tmp_path / "ram", tmp_path / "warehouse" / ".build"
    ram.mkdir()
    chosen = scratch_folder(build, ram=ram, room=0)
    assert chosen.parent == ram
    assert scratch_folder(tmp_path / "other" / ".build", ram=ram, room=0) != chosen
    assert scratch_folder(build, ram=ram, room=1 << 62) == build / "scratch"
    assert scratch_folder(build, ram=tmp_path / "no such folder", room=0) == build / "scratch"


def test_the_setting_holds_a_folder_of_each_warehouse(tmp_path: Path) -> None:
    given = tmp_path / "s"
    one = Warehouse(path=str(tmp_path / "one.duckdb"), scratch=str(given)).scratch_path
    other = Warehouse(path=str(tmp_path / "b" / "other.duckdb"), scratch=str(given)).scratch_path
    assert one.parent == other.parent == given and one != other
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    assert warehouse.scratch_path == scratch_folder(warehouse.build_path.parent)


def test_a_run_leaves_no_copy_and_removes_what_an_earlier_one_left(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    left = scratch / "tmp_cut_short"
    left.mkdir(parents=True)
    (left / "site.csv").write_text("a copy a killed run left\n", encoding="utf-8")
    export = _write(tmp_path / "site.csv.gz", CLEAN)
    con = _warehouse(tmp_path / "w.duckdb")
    report = ingest_telemetry(con, [LandingFile(export, "telemetry/site.csv.gz",
                                                sha256_of(export))], "run", scratch)
    assert report.outcomes[0].status == "loaded"
    assert con.execute("SELECT count(*) FROM core.telemetry_hourly").fetchone()[0] > 0
    assert not scratch.exists()  # nor the folder itself, which may be in RAM


def test_another_engine_checks_the_files_in_batches_of_their_landing_bytes(
        tmp_path: Path) -> None:
    """With another engine's check, the files are opened and checked in batches, in their
    order, while their landing bytes stay within the batch's (a larger file alone); a
    file that cannot be opened, or is gone, is left out of its batch, and its error is
    raised when it is asked for."""
    files = []
    for name, rows in (("a.csv", 2), ("b.csv", 2), ("c.csv", 8), ("d.csv", 2)):
        path = _write(tmp_path / name, CLEAN[:rows])
        files.append(LandingFile(path, f"telemetry/{name}", sha256_of(path)))
    broken = tmp_path / "e.csv.gz"
    broken.write_bytes(b"not gzip")
    files.append(LandingFile(broken, "telemetry/e.csv.gz", sha256_of(broken)))
    # A file gone since the landing folder was listed.
    files.append(LandingFile(tmp_path / "f.csv", "telemetry/f.csv", "0" * 64))
    batches: list[list[str]] = []

    def check(opened: list[tuple[Export, LandingFile]]) -> dict[Path, Checked]:
        batches.append([file.file_name for _, file in opened])
        return {file.path: Checked(rows_read=len(batches)) for _, file in opened}

    size = files[0].path.stat().st_size
    with ExportOpener(files, tmp_path / "scratch", check,
                      batch_bytes=2 * size + 10) as opener:
        for file in files[:4]:
            assert opener.open(file).checked == Checked(rows_read=len(batches))
            opener.release(file)
        with pytest.raises(ExportUnreadable):
            opener.open(files[4])
        with pytest.raises(FileNotFoundError):
            opener.open(files[5])
    assert batches == [["telemetry/a.csv", "telemetry/b.csv"], ["telemetry/c.csv"],
                       ["telemetry/d.csv"]]

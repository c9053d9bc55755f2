"""Where an export is decompressed while it is read: in RAM where there is room for two
exports at their limit, else beside the build copy; one folder per warehouse, emptied by
its writer of what a run cut short left, and of each copy once the export is loaded."""

from __future__ import annotations

from pathlib import Path

from pipelines.defs.resources import Warehouse
from pipelines.ingest.export_opener import scratch_folder
from pipelines.ingest.files import LandingFile, sha256_of
from pipelines.ingest.telemetry_load import ingest_telemetry
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

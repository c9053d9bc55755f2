"""Publishing writes a byte-for-byte copy of the build copy under the published name
(contract §2.1). From the second publish on, the file published before is brought up to
date block by block instead of copied whole, unless a connection still reads it: then
the copy is whole and the file that connection reads is left as it was. Real DuckDB
files and a real reader process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.resources import Warehouse
from pipelines.warehouse.published_file import publish_file

READER = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM t").fetchone()[0], flush=True)
sys.stdin.readline()  # held open until told
print(con.execute("SELECT count(*) FROM t").fetchone()[0], flush=True)
"""


def grow(build: Path, rows: int) -> None:
    """A run's writes: rows appended, then checkpointed as a run leaves the build copy."""
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE TABLE IF NOT EXISTS t (n BIGINT, s VARCHAR)")
        con.execute("INSERT INTO t SELECT i, 'row ' || i FROM range(?) r(i)", [rows])
        con.execute("CHECKPOINT")


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The build copy, the published file and the spare, as the warehouse names them."""
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    warehouse.build_path.parent.mkdir()
    return warehouse.build_path, warehouse.published_path, warehouse.spare_path


def rows(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM t").fetchone()[0]


def test_each_publish_is_the_build_copy_and_the_replaced_file_is_reused(
        paths: tuple[Path, Path, Path], tmp_path: Path) -> None:
    build, published, spare = paths
    synced, inodes = [], []
    for step in range(4):
        grow(build, 300_000)
        synced.append(publish_file(build, published, spare))
        assert published.read_bytes() == build.read_bytes()
        assert spare.exists() and not spare.samefile(published)
        inodes.append(published.stat().st_ino)
        assert rows(published) == 300_000 * (step + 1)
    # The first publish copies (twice: the file and its spare); later ones write into
    # the file published two publishes ago.
    assert synced == [False, True, True, True]
    assert inodes[2] == inodes[0] and inodes[3] == inodes[1] != inodes[0]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "w.duckdb", "w.duckdb", "w.spare.duckdb"]


def test_a_file_a_reader_holds_is_not_written_into(tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "census.duckdb"))
    warehouse.build_path.parent.mkdir()

    def publish() -> int:
        grow(warehouse.build_path, 1_000)
        warehouse.publish()
        assert warehouse.published_path.read_bytes() == warehouse.build_path.read_bytes()
        return warehouse.published_path.stat().st_ino

    held = publish()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse.published_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "1000"
        second = publish()  # the spare written into; the held file is the spare now
        assert warehouse.spare_path.stat().st_ino == held
        third = publish()  # the held spare refused: a whole copy, a new file
        assert third not in (held, second)
        assert warehouse.spare_path.stat().st_ino == second
        out, _ = reader.communicate("\n", timeout=60)
    finally:
        reader.kill()
    assert out.split() == ["1000"]  # what it reads after the publishes: unchanged
    assert rows(warehouse.published_path) == 3_000
    assert publish() == second  # an unheld spare is written into again
    assert rows(warehouse.published_path) == 4_000


def test_a_connection_of_this_process_is_seen_too(paths: tuple[Path, Path, Path]) -> None:
    build, published, spare = paths
    grow(build, 1_000)
    publish_file(*paths)
    with duckdb.connect(str(spare), read_only=True) as con:
        grow(build, 1_000)
        assert publish_file(build, published, spare) is False
        assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 1_000
    assert rows(published) == 2_000


def test_the_published_file_is_never_written_in_place(
        paths: tuple[Path, Path, Path]) -> None:
    build, published, spare = paths
    grow(build, 1_000)
    publish_file(*paths)
    spare.unlink()
    os.link(published, spare)  # both names on one file, as no publish leaves them
    before = published.read_bytes()
    grow(build, 1_000)
    assert publish_file(build, published, spare) is False
    assert spare.read_bytes() == before  # the file analysts had: as it was
    assert published.read_bytes() == build.read_bytes()

"""Files are identified by SHA-256: a second run loads nothing, and the same bytes
under another name are skipped_duplicate (contract §1)."""

import json
import os
import time
from pathlib import Path

from pipelines.ingest.files import discover, sha256_of, stamped, unstamped
from tests.conftest import Census, copy_into, good_workbooks, quarter_pair


def first_workbooks(generated: Path, count: int) -> list[Path]:
    return good_workbooks(generated)[:count]


def snapshot(census: Census) -> tuple:
    return (census.query("SELECT * FROM core.centre_register ORDER BY ALL").rows(),
            census.query("SELECT * FROM audit.quarantine ORDER BY ALL").rows(),
            census.query("SELECT count(*) FROM audit.ingestion_log").item())


def test_second_run_loads_nothing(census: Census, generated: Path) -> None:
    for source in first_workbooks(generated, 3):
        copy_into(source, census)
    assert census.run().success
    before = snapshot(census)
    assert before[2] == 3
    assert census.run().success
    assert snapshot(census) == before


def test_renamed_copy_is_skipped_duplicate(census: Census, generated: Path) -> None:
    source = first_workbooks(generated, 1)[0]
    copy_into(source, census)
    assert census.run().success
    register = census.query("SELECT * FROM core.centre_register ORDER BY ALL").rows()
    copy_into(source, census, name=f"resent {source.stem} (1){source.suffix}")
    assert census.run().success
    log = census.query("SELECT file_name, status, message FROM audit.ingestion_log "
                       "ORDER BY started_at").rows(named=True)
    assert [r["status"] for r in log] == ["loaded", "skipped_duplicate"]
    assert log[1]["message"] == f"same bytes as licensing/{source.name}"
    assert census.query("SELECT * FROM core.centre_register ORDER BY ALL").rows() == register


def test_a_later_submission_versions_the_register(census: Census, generated: Path) -> None:
    q1, q2 = quarter_pair(generated)
    copy_into(q2, census)
    assert census.run().success
    copy_into(q1, census)  # an older vintage arriving late still takes its place
    assert census.run().success
    versions = census.query("""
        SELECT centre_id, valid_from, valid_to, is_current FROM core.centre_register
        WHERE centre_id IN (SELECT centre_id FROM core.centre_register
                            GROUP BY centre_id HAVING count(*) = 2)
        ORDER BY centre_id, valid_from""").rows()
    assert versions
    for first, second in zip(versions[::2], versions[1::2], strict=True):
        assert first[2] == second[1] and not first[3] and second[3] and second[2] is None


def test_an_unchanged_file_is_not_hashed_again_and_a_changed_one_is(tmp_path: Path) -> None:
    export = tmp_path / "landing" / "telemetry" / "hebei_2025-01.csv"
    export.parent.mkdir(parents=True)
    export.write_text("centre_id,ts\nDC1,2025-01-01T00:00:00\n")
    hashed = tmp_path / "landing_sha256.json"
    os.utime(export, (1, 1))  # changed "long ago" as far as the memory is concerned
    time.sleep(2.1)  # a file changed within the last moments is not remembered
    [first] = discover(tmp_path / "landing", "telemetry", hashed)
    assert first.sha256 == sha256_of(export)
    # What the memory says of a file whose stamp is unchanged is taken without reading it.
    memory = json.loads(hashed.read_text())
    stamp, _ = unstamped(memory["telemetry/hebei_2025-01.csv"])
    hashed.write_text(json.dumps({"telemetry/hebei_2025-01.csv": stamped(stamp, "remembered")}))
    assert discover(tmp_path / "landing", "telemetry", hashed)[0].sha256 == "remembered"
    # New bytes of the same size, with the modification time set back: hashed again.
    export.write_text("centre_id,ts\nDC2,2025-01-01T00:00:00\n")
    os.utime(export, (1, 1))
    [again] = discover(tmp_path / "landing", "telemetry", hashed)
    assert again.sha256 == sha256_of(export) != first.sha256
    # A memory a crash left unreadable is ignored, not an error: the files are hashed.
    hashed.write_text('{"telemetry/hebei_2025-01.csv": "')
    assert discover(tmp_path / "landing", "telemetry", hashed)[0].sha256 == again.sha256

"""Files that cannot be read are rejected whole with a reason a person can act on;
the good files beside them still load (contract §1, §2.1)."""

import io
from pathlib import Path

import openpyxl
from msoffcrypto.format.ooxml import OOXMLFile

from tests.conftest import Census, copy_into, good_workbooks


def workbook_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_unreadable_files_are_rejected_and_good_files_load(census: Census,
                                                           generated: Path) -> None:
    good = good_workbooks(generated, "*.xlsx")[0]
    copy_into(good, census)
    folder = census.landing / "licensing"
    (folder / "empty_2025Q1.xlsx").write_bytes(b"")
    (folder / "garbage_2025Q1.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (folder / "notes_only_2025Q1.xlsx").write_bytes(workbook_bytes([["请见附件"], ["谢谢"]]))
    (folder / "register_2025Q1.csv").write_text("centre_id,centre_name\nDC110100-0001,x\n")
    with open(folder / "protected_2025Q1.xlsx", "wb") as protected:
        OOXMLFile(io.BytesIO(workbook_bytes([["数据中心编号"]]))).encrypt("secret", protected)
    assert census.run().success
    log = {r["file_name"].removeprefix("licensing/"): r for r in census.query(
        "SELECT * FROM audit.ingestion_log").rows(named=True)}
    expected = {
        "empty_2025Q1.xlsx": "the file is empty",
        "garbage_2025Q1.xlsx": "not a readable xlsx workbook",
        "notes_only_2025Q1.xlsx": "no sheet has a register header",
        "register_2025Q1.csv": "not a register workbook",
        "protected_2025Q1.xlsx": "password-protected",
    }
    for name, reason in expected.items():
        assert log[name]["status"] == "rejected", name
        assert reason in log[name]["message"], (name, log[name]["message"])
    assert log[good.name]["status"] == "loaded" and log[good.name]["rows_loaded"] > 0
    register = census.query("SELECT DISTINCT source_file FROM core.centre_register")
    assert register["source_file"].to_list() == [f"licensing/{good.name}"]

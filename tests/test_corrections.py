"""Corrections (contract §1.1): across workbooks, a later-loaded row for a centre and
as-of replaces the earlier one, which stays traceable; only the months whose register
state the change reaches are rebuilt."""

from pathlib import Path

import openpyxl

from pipelines.ingest.register import ALIASES
from pipelines.ingest.workbook import read_tables
from tests.conftest import Census, copy_into

PROVINCE = "guangdong"  # xlsx workbooks without an as_of column, and its own telemetry


def corrected_copy(source: Path, target: Path, more_racks: int) -> tuple[str, int]:
    """`source` with the design racks of its first centre raised by `more_racks`, as a
    province corrects one cell; returns that centre and its new design racks."""
    table = read_tables(source, ALIASES)[0]
    label = table.columns["design_racks"].label
    row = table.frame.row(0, named=True)
    book = openpyxl.load_workbook(source)
    sheet = book[table.sheet]
    column = next(c.column for c in sheet[table.header_row] if str(c.value).strip() == label)
    racks = int(str(row["design_racks"]).replace(",", "")) + more_racks
    sheet.cell(row=row["source_row"], column=column, value=racks)
    book.save(target)
    return row["centre_id"], racks


def test_a_corrected_workbook_replaces_its_rows_and_rebuilds_only_later_months(
        census: Census, generated: Path, tmp_path: Path) -> None:
    for source in sorted((generated / "licensing").glob(f"{PROVINCE}_*.xlsx")):
        copy_into(source, census)
    for source in sorted((generated / "telemetry").glob(f"{PROVINCE}_*")):
        copy_into(source, census, folder="telemetry")
    assert "months rebuilt: 2025-01, 2025-02, 2025-03, 2025-04, 2025-05, 2025-06" in \
        census.run().summary

    original = f"licensing/{PROVINCE}_2025-Q2.xlsx"
    corrected = f"licensing/{PROVINCE}_2025-Q2_corrected.xlsx"
    centre, racks = corrected_copy(generated / original, census.landing / corrected, 400)
    summary = census.run().summary
    assert summary.endswith("months rebuilt: 2025-06")  # as of 2025-06-30: not January–May

    current = census.query("SELECT design_racks, source_file FROM core.centre_register "
                           "WHERE centre_id = ? AND valid_from = '2025-06-30'", [centre])
    assert current.rows() == [(racks, corrected)]
    replaced = census.query("SELECT source_file, source_sheet, source_row, replaced_by "
                            "FROM core.register_rows WHERE replaced_by IS NOT NULL")
    stood = census.query("SELECT count(*) FROM core.register_rows WHERE source_file = ?",
                         [original]).item()
    assert replaced.height == stood > 0
    assert set(replaced["source_file"]) == {original}
    assert set(replaced["replaced_by"]) == {corrected}
    assert census.query("SELECT count(*) FROM audit.quarantine "
                        "WHERE rule = 'conflicting_duplicate'").item() == 0
    log = census.query("SELECT status, message FROM audit.ingestion_log WHERE file_name = ?",
                       [corrected]).row(0)
    assert log == ("loaded", f"corrects rows of earlier workbooks: {stood} of {original}")
    assert f"\n  corrected: {corrected} replaces {stood} rows of {original}\n" in summary
    state = census.query("SELECT month, design_racks FROM staging.centre_state "
                         "WHERE centre_id = ? AND month >= '2025-05-01' ORDER BY month", [centre])
    assert state["design_racks"].to_list()[-1] == racks != state["design_racks"][0]

    # A later quarter's workbook reaches no month the telemetry covers: nothing rebuilt.
    corrected_copy(generated / original, census.landing / f"licensing/{PROVINCE}_2025-Q3.xlsx",
                   900)
    assert "months rebuilt" not in census.run().summary

"""The same workbook as xlsx, xls and ods (the latter two written by LibreOffice) gives
the same register."""

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.generate.workbooks import convert_with_libreoffice
from tests.conftest import Census, copy_into, good_workbooks


def test_xlsx_xls_and_ods_give_the_same_register(generated: Path, tmp_path: Path) -> None:
    sources = good_workbooks(generated, "*.xlsx")[:6]
    registers = {}
    for fmt in ("xlsx", "xls", "ods"):
        census = Census(tmp_path / fmt / "landing", tmp_path / fmt / "census.duckdb")
        (census.landing / "licensing").mkdir(parents=True)
        if fmt == "xlsx":
            for source in sources:
                copy_into(source, census)
        else:
            convert_with_libreoffice(sources, fmt, census.landing / "licensing")
        assert census.run().success
        registers[fmt] = (
            census.query("SELECT * EXCLUDE (source_file) FROM core.centre_register "
                         "ORDER BY centre_id, valid_from"),
            census.query("SELECT * EXCLUDE (file_name, sha256, message) FROM audit.quarantine "
                         "ORDER BY sheet, source_row, column_name"),
        )
    register, findings = registers["xlsx"]
    assert register.height > 10
    for fmt in ("xls", "ods"):
        assert_frame_equal(registers[fmt][0], register)
        assert_frame_equal(registers[fmt][1], findings)
    assert set(register["source_sheet"]) - {"数据中心名录", "Register", "在用", "其他",
                                           "Operating", "Other"} == set()
    assert pl.Series(register["design_it_kw"]).min() > 0

"""Reading workbooks: sheets, title rows, header aliases, footers, merged cells, row
numbers as the spreadsheet program shows them. Workbooks written by openpyxl and
LibreOffice."""

import datetime as dt
import os
import shutil
from pathlib import Path

import openpyxl
import pandera.polars as pa
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.generate.workbooks import convert_with_libreoffice
from pipelines.ingest import register
from pipelines.ingest.register import (
    ALIASES,
    FileRejected,
    RegisterSubmission,
    read_register_file,
    read_register_files,
)
from pipelines.ingest.workbook import is_footer, read_tables
from pipelines.reference import Reference
from pipelines.settings import setting

HEADER = ["数据中心编号", "数据中心名称", "运营主体", "省份", "设计机架数", "设计IT负载（MW）",
          "设计PUE", "发证日期", "有效期至", "状态"]


def centre(n: int, province: str = "四川省") -> list:
    return [f"DC510100-{n:04d}", f"成都{n}号", "中国电信", province, 1000, 3.5, 1.3,
            dt.date(2020, 1, 5), "2030/1/4", "运营中"]


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference.load(setting("CENSUS_REFERENCE_DIR"))


def write(path: Path, build) -> Path:
    workbook = openpyxl.Workbook()
    build(workbook)
    workbook.save(path)
    return path


def messy(workbook: openpyxl.Workbook) -> None:
    notes = workbook.active
    notes.title = "填报说明"
    notes.append(["每个数据中心填写一行"])
    sheet = workbook.create_sheet("登记表")
    sheet["B3"] = "四川省数据中心许可登记表"  # rows 1-2 empty, title in row 3
    sheet.merge_cells("B3:F3")
    sheet.append([])
    sheet.append(HEADER)  # row 5
    sheet.append(centre(1))  # row 6
    sheet.append(centre(2))  # row 7
    sheet.merge_cells("D6:D7")  # the province written once for both
    sheet.append([])  # an empty row inside the data
    sheet.append(centre(3, "Sichuan"))  # row 9
    sheet.append(["合计", None, None, None, 3000])
    sheet.append(["注：机架按标准机架折算"])
    sheet.append([None, "Total of the sheet"])  # first non-empty cell decides


def test_header_title_rows_footers_and_row_numbers(tmp_path: Path, reference: Reference) -> None:
    path = write(tmp_path / "sichuan_2025Q2.xlsx", messy)
    tables = read_tables(path, ALIASES)
    assert [t.sheet for t in tables] == ["登记表"]  # the instructions sheet has no header
    assert tables[0].header_row == 5
    assert tables[0].frame["source_row"].to_list() == [6, 7, 9]
    submission = read_register_file(path, "licensing/sichuan_2025Q2.xlsx", reference)
    register = submission.accepted
    assert register["centre_id"].to_list() == ["DC510100-0001", "DC510100-0002", "DC510100-0003"]
    assert register["province_code"].to_list() == ["51", "51", "51"]  # merged cell filled
    assert register["design_it_kw"].to_list() == [3500.0] * 3  # MW in the header
    assert register["as_of"].to_list() == [dt.date(2025, 6, 30)] * 3
    assert submission.issues.height == 0


def test_merged_cells_in_ods_written_by_libreoffice(tmp_path: Path, reference: Reference) -> None:
    source = write(tmp_path / "sichuan_2025Q2.xlsx", messy)
    convert_with_libreoffice([source], "ods", tmp_path / "ods")
    converted = tmp_path / "ods" / "sichuan_2025Q2.ods"
    submission = read_register_file(converted, "licensing/sichuan_2025Q2.ods", reference)
    assert submission.accepted["province_code"].to_list() == ["51", "51", "51"]
    assert submission.accepted["source_row"].to_list() == [6, 7, 9]


def test_libreoffice_failing_once_is_started_again(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A first start that fails (seen once on a fresh install) costs a second start, not
    the demo; one that keeps failing says what LibreOffice printed."""
    real = shutil.which("soffice")
    assert real is not None
    flaky = tmp_path / "bin" / "soffice"
    flaky.parent.mkdir()
    # Fails while its marker is missing, leaving the marker: the first start only.
    flaky.write_text(f"#!/bin/sh\nif [ ! -e {tmp_path}/started ]; then touch {tmp_path}/started; "
                     f"echo 'first start failed' >&2; exit 81; fi\nexec {real} \"$@\"\n")
    flaky.chmod(0o755)
    monkeypatch.setenv("PATH", f"{flaky.parent}:{os.environ['PATH']}")
    source = write(tmp_path / "sichuan_2025Q2.xlsx", messy)
    convert_with_libreoffice([source], "ods", tmp_path / "ods")
    assert (tmp_path / "ods" / "sichuan_2025Q2.ods").exists()

    flaky.write_text("#!/bin/sh\necho 'cannot start' >&2; exit 81\n")
    with pytest.raises(RuntimeError, match=r"\.xls \(exit 81\): cannot start"):
        convert_with_libreoffice([source], "xls", tmp_path / "xls")


@pytest.mark.parametrize("cells, footer", [
    (["合计", None, 3], True), ([None, "总计：12"], True), (["Total", 5], True),
    (["TOTAL racks"], True), (["注：说明"], True), (["Note: x"], True), (["说明"], True),
    (["DC510100-0001", "合计"], False), ([None, None], False),
])
def test_footer_rows(cells: list, footer: bool) -> None:
    assert is_footer([None if c is None else str(c) for c in cells]) is footer


def test_english_headers_in_any_case(tmp_path: Path, reference: Reference) -> None:
    def english(workbook: openpyxl.Workbook) -> None:
        sheet = workbook.active
        sheet.append(["Data Centre ID ", "CENTRE NAME", "operator", "Province", "Design Racks",
                      "Design IT Load (kW)", "design pue", "Issue Date", "Expiry Date",
                      "Status"])
        sheet.append(["DC110100-0001", "Beijing 1", "GDS", "Beijing", "1,200", "3000",
                      "1.4", "2021.3.4", "20310303", "Operating"])
    path = write(tmp_path / "beijing_202503.xlsx", english)
    submission = read_register_file(path, "licensing/beijing_202503.xlsx", reference)
    row = submission.accepted.row(0, named=True)
    assert (row["design_racks"], row["design_it_kw"], row["status"]) == (1200, 3000.0, "operating")
    assert row["licence_issued"] == dt.date(2021, 3, 4)
    assert row["as_of"] == dt.date(2025, 3, 31)


def test_no_header_rejects_the_file(tmp_path: Path, reference: Reference) -> None:
    path = write(tmp_path / "notes_2025Q1.xlsx", lambda wb: wb.active.append(["only notes"]))
    with pytest.raises(FileRejected, match="no sheet has a register header"):
        read_register_file(path, "licensing/notes_2025Q1.xlsx", reference)


def test_header_below_twenty_title_rows_is_not_found(tmp_path: Path,
                                                     reference: Reference) -> None:
    def deep(workbook: openpyxl.Workbook) -> None:
        for n in range(21):
            workbook.active.append([f"title {n}"])
        workbook.active.append(HEADER)
    with pytest.raises(FileRejected):
        read_register_file(write(tmp_path / "deep_2025Q1.xlsx", deep), "x", reference)


def test_as_of_column_gives_the_vintage(tmp_path: Path, reference: Reference) -> None:
    def dated(workbook: openpyxl.Workbook) -> None:
        workbook.active.append([*HEADER, "报送日期"])
        workbook.active.append([*centre(1), "2025年9月30日"])
    path = write(tmp_path / "sichuan_register.xlsx", dated)
    submission = read_register_file(path, "licensing/sichuan_register.xlsx", reference)
    assert submission.accepted["as_of"].to_list() == [dt.date(2025, 9, 30)]


@pytest.mark.parametrize("batch_rows", [register.BATCH_ROWS, 1])
def test_workbooks_read_together_are_each_judged_alone(
        tmp_path: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch,
        batch_rows: int) -> None:
    """Read together (pandera checks their rows in batches, here all at once or one
    workbook at a time), each workbook gets the submission it gets read alone, in order,
    its findings named by its own file, and a rejected one stops none of the others."""
    monkeypatch.setattr(register, "BATCH_ROWS", batch_rows)
    def implausible(workbook: openpyxl.Workbook) -> None:
        workbook.active.append(HEADER)
        workbook.active.append(centre(1))
        workbook.active.append([*centre(2)[:6], 0.8, *centre(2)[7:]])  # a PUE below 1.0
        workbook.active.append([*centre(3)[:6], 3.5, *centre(3)[7:]])  # a PUE above 3.0
    files = [(write(tmp_path / "sichuan_2025Q2.xlsx", messy), "licensing/sichuan_2025Q2.xlsx"),
             (write(tmp_path / "notes_2025Q1.xlsx", lambda wb: wb.active.append(["notes"])),
              "licensing/notes_2025Q1.xlsx"),
             (write(tmp_path / "sichuan_2025Q3.xlsx", implausible),
              "licensing/sichuan_2025Q3.xlsx")]
    together = list(read_register_files(files, reference))
    assert isinstance(together[1], FileRejected)
    for (path, name), submission in zip(files[::2], together[::2], strict=True):
        assert isinstance(submission, RegisterSubmission)
        alone = read_register_file(path, name, reference)
        assert_frame_equal(submission.accepted, alone.accepted)
        assert_frame_equal(submission.issues, alone.issues)
        assert (submission.rows_read, submission.rows_rejected, submission.rows_warned,
                submission.notes) == (alone.rows_read, alone.rows_rejected,
                                      alone.rows_warned, alone.notes)
    findings = together[2].issues.select("source_row", "column_name", "rule", "severity")
    assert findings.rows() == [(3, "design_pue", "out_of_range", "error"),
                               (4, "design_pue", "implausible", "warning")]
    assert together[2].issues["message"].str.starts_with(
        "licensing/sichuan_2025Q3.xlsx, sheet 'Sheet', row ").all()
    assert (together[2].rows_read, together[2].rows_rejected, together[2].rows_warned) == (3, 1, 1)


def test_a_rule_that_cannot_be_evaluated_rejects_its_workbook_alone(
        tmp_path: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row rule pandera cannot evaluate on a workbook's rows (here a check that raises
    on one centre) would let them pass unchecked: that workbook is rejected, saying so,
    and the workbooks read with it keep their findings."""
    def breaks_on_centre_2(data: pa.PolarsData) -> pl.LazyFrame:
        if "DC510100-0002" in data.lazyframe.collect()["centre_id"].to_list():
            raise ValueError("the check broke")
        return data.lazyframe.select(pl.col(data.key).is_null() | pl.col(data.key).is_not_null())
    monkeypatch.setattr(register, "REGISTER_ROW_RULES", pa.DataFrameSchema({
        "centre_id": pa.Column(str, nullable=True,
                               checks=pa.Check(breaks_on_centre_2, name="inconsistent"))}))
    def one_centre(n: int):
        def build(workbook: openpyxl.Workbook) -> None:
            workbook.active.append(HEADER)
            workbook.active.append(centre(n))
        return build
    files = [(write(tmp_path / f"sichuan_2025Q{n}.xlsx", one_centre(n)),
              f"licensing/sichuan_2025Q{n}.xlsx") for n in (1, 2, 3)]
    first, second, third = read_register_files(files, reference)
    assert isinstance(second, register.RuleNotEvaluated)
    assert str(second) == ("census could not check its rows: inconsistent on centre_id: "
                           'ValueError("the check broke")')
    for submission in (first, third):
        assert isinstance(submission, RegisterSubmission)
        assert (submission.rows_read, submission.accepted.height, submission.issues.height
                ) == (1, 1, 0)

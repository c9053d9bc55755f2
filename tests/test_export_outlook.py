"""The ministry workbook's Outlook and Licences sheets (contract §2.2, §3): read back by
calamine, they show the marts' rows of the month."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import pytest

from pipelines.runs import run_export
from tests.conftest import Census
from tests.test_export import sheet_rows

MONTH = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def warehouse(loaded: Census, tmp_path_factory: pytest.TempPathFactory) -> Census:
    """A copy of the loaded warehouse: exports record deliveries in it."""
    copy = tmp_path_factory.mktemp("outlook_warehouse") / "census.duckdb"
    shutil.copyfile(loaded.warehouse, copy)
    return Census(loaded.landing, copy)


@pytest.fixture(scope="module")
def workbook(warehouse: Census, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outlook_exports")
    outcome = run_export(MONTH, warehouse=warehouse.warehouse, exports=root)
    assert outcome.success, outcome.failure
    return root / "2025-06" / "census_summary_2025-06.xlsx"


def _same(shown: object, stored: object) -> bool:
    if isinstance(stored, float):
        return isinstance(shown, float) and math.isclose(shown, stored, rel_tol=0, abs_tol=0)
    return shown == stored


def test_outlook_sheet_shows_the_provinces_and_hubs_of_the_month(workbook: Path,
                                                                 warehouse: Census) -> None:
    expected = warehouse.query(
        "SELECT level, region_code, rack_utilisation, threshold, months_to_threshold, "
        "clears_by, months_to_absorb_pipeline FROM marts.glut_outlook "
        "WHERE month = ? AND level IN ('hub', 'province')", [MONTH])
    rows = sheet_rows(workbook, "Outlook")
    shown = {(r[0], r[1]): (r[4], r[5], r[7], r[8], r[10]) for r in rows}
    assert len(rows) == expected.height == len(shown) > 0
    for level, code, *figures in expected.iter_rows():
        assert all(_same(a, b) for a, b in zip(shown[(level, code)], figures, strict=True)), \
            (level, code, shown[(level, code)], figures)


def test_licences_sheet_lists_the_findings_of_the_month(workbook: Path,
                                                        warehouse: Census) -> None:
    expected = warehouse.query(
        "SELECT finding, centre_id, status, licence_expires, hours_reported "
        "FROM marts.licence_findings WHERE month = ?", [MONTH])
    rows = sheet_rows(workbook, "Licences")
    assert sorted((r[0], r[1], r[8], r[10], r[11]) for r in rows) == sorted(
        expected.iter_rows())
    assert {r[0] for r in rows} >= {"expired_licence", "no_licence"}

"""The glut outlook, compute matching and licence findings marts against an independent
computation from the generator's truth (contract §3), and their checks against broken
copies of them."""

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests import independent, independent_outlook
from tests.conftest import Census
from tests.corrupted import violations_before_and_after


def test_glut_outlook_equals_the_independent_computation(loaded: Census,
                                                         generated: Path) -> None:
    expected = independent_outlook.glut_outlook(generated)
    got = loaded.query("SELECT * FROM marts.glut_outlook ORDER BY month, level, region_code")
    regions = loaded.query("SELECT count(*) AS n FROM marts.region_monthly")["n"].item()
    assert got.height == expected.height == regions
    at_threshold = got.filter(pl.col("rack_utilisation") >= pl.col("threshold"))
    glutted = got.filter(pl.col("rack_utilisation") < pl.col("threshold"))
    assert at_threshold.height and (at_threshold["months_to_threshold"] == 0).all()
    assert (at_threshold["clears_by"] == at_threshold["month"]).all()
    # six months: no growth over twelve, so no glutted region has an answer
    assert glutted.height and glutted["months_to_threshold"].is_null().all()
    assert_frame_equal(got, expected.select(got.columns), rel_tol=1e-9, abs_tol=1e-12,
                       check_dtypes=False)


def test_compute_matching_equals_the_independent_computation(loaded: Census,
                                                             generated: Path) -> None:
    expected = independent_outlook.compute_matching(generated)
    got = loaded.query("SELECT * FROM marts.compute_matching "
                       "ORDER BY month, east_hub, supplier_hub NULLS LAST")
    # The cases the data must hold: eastern excess served from the west within 20 ms,
    # excess left unmet, and surplus standing beyond 20 ms of a demander.
    west = {"NMG", "GZ", "GS", "NX"}
    assert got.filter(pl.col("supplier_hub").is_in(west)).height > 0
    assert got.filter(pl.col("supplier_hub").is_null()).height > 0
    assert (got["rtt_ms"].drop_nulls() <= 20).all()
    surplus = independent.surplus_compute(generated)
    out_of_reach = surplus.filter(pl.col("sellable_pflops") > 0).join(
        got.select("month", "east_hub").unique(), on="month").filter(
        ~pl.col("reachable_east_hubs").list.contains(pl.col("east_hub")))
    assert out_of_reach.height > 0
    assert_frame_equal(got, expected.select(got.columns), rel_tol=1e-9, abs_tol=1e-9,
                       check_dtypes=False)


def test_licence_findings_equal_the_independent_computation(loaded: Census,
                                                            generated: Path) -> None:
    expected = independent_outlook.licence_findings(generated)
    got = loaded.query("SELECT * FROM marts.licence_findings ORDER BY month, centre_id, finding")
    assert set(got["finding"]) == {"expired_licence", "no_licence",
                                   "reporting_while_not_operating"}
    still_reporting = got.filter(finding="reporting_while_not_operating")
    assert "suspended" in set(still_reporting["status"])
    assert (still_reporting["hours_reported"] >= 24).all()
    assert_frame_equal(got, expected.select(got.columns), check_dtypes=False)


@pytest.mark.parametrize("table, check_name, corruption", [
    ("marts.glut_outlook", "keys_unique",
     "INSERT INTO marts.glut_outlook SELECT * FROM marts.glut_outlook WHERE level = 'national'"),
    ("marts.glut_outlook", "months_to_threshold_within_0_240",
     "UPDATE marts.glut_outlook SET months_to_threshold = -1 WHERE level = 'hub'"),
    ("marts.glut_outlook", "months_to_absorb_pipeline_within_0_240",
     "UPDATE marts.glut_outlook SET months_to_absorb_pipeline = 241 WHERE level = 'hub'"),
    ("marts.compute_matching", "keys_unique",
     "INSERT INTO marts.compute_matching SELECT * FROM marts.compute_matching "
     "WHERE supplier_hub IS NULL"),
    ("marts.compute_matching", "allocations_within_supply",
     "UPDATE marts.compute_matching SET pflops = pflops + 1000, "
     "east_excess_pflops = east_excess_pflops + 1000 WHERE supplier_hub IS NOT NULL"),
    ("marts.compute_matching", "allocations_within_excess",
     "UPDATE marts.compute_matching SET east_excess_pflops = east_excess_pflops / 2"),
    ("marts.licence_findings", "keys_unique",
     "INSERT INTO marts.licence_findings SELECT * FROM marts.licence_findings "
     "WHERE finding = 'no_licence'"),
    ("marts.licence_findings", "centres_in_register",
     "UPDATE marts.licence_findings SET centre_id = 'DC110100-9999' "
     "WHERE finding = 'expired_licence'"),
])
def test_outlook_checks_catch_broken_marts(loaded: Census, tmp_path: Path, table: str,
                                           check_name: str, corruption: str) -> None:
    before, after = violations_before_and_after(loaded.warehouse, tmp_path, table,
                                                check_name, corruption)
    assert before == 0
    assert after > 0

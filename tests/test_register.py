"""The licensing register from generated workbooks to the warehouse, against the
generator's ground truth (contract §1.1, §2.1)."""

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.defs.ingest.register import REGISTER_KEY
from pipelines.defs.ingest.telemetry import HOURLY_KEY
from tests.conftest import Census, truth, typed_like


def test_register_equals_the_ground_truth(loaded: Census, generated: Path) -> None:
    got = loaded.query("SELECT * FROM core.centre_register ORDER BY centre_id, valid_from")
    expected = typed_like(truth(generated, "register_versions"), got.schema)
    expected = expected.sort("centre_id", "valid_from")
    assert got.height > 100
    assert_frame_equal(got, expected, rel_tol=1e-9, abs_tol=0)


def test_every_planted_fault_and_nothing_else_is_quarantined(loaded: Census,
                                                             generated: Path) -> None:
    columns = ["file_name", "sheet", "source_row", "centre_id", "column_name", "rule", "severity"]
    got = loaded.query(f"SELECT {', '.join(columns)} FROM audit.quarantine "
                       "WHERE starts_with(file_name, 'licensing/')").sort(columns)
    expected = truth(generated, "register_faults").cast({"source_row": pl.Int64}).sort(columns)
    rules = set(expected["rule"])
    assert {"missing", "unparseable", "out_of_range", "inconsistent", "unknown_code",
            "conflicting_duplicate", "check_digit", "implausible"} <= rules
    assert_frame_equal(got, expected.select(columns))


def test_quarantine_messages_name_file_sheet_row_and_column(loaded: Census) -> None:
    found = loaded.query("SELECT * FROM audit.quarantine "
                         "WHERE starts_with(file_name, 'licensing/')")
    for row in found.iter_rows(named=True):
        message = row["message"]
        assert row["file_name"] in message and f"row {row['source_row']}" in message
        assert row["sheet"] in message and row["rule"] in message
        assert row["resolved_at"] is None


def test_rejected_files_have_their_reason(loaded: Census, generated: Path) -> None:
    log = loaded.query("SELECT file_name, status, message FROM audit.ingestion_log "
                       "WHERE kind = 'licensing'")
    expected = truth(generated, "register_files")
    joined = expected.join(log, on="file_name", how="left", suffix="_got")
    assert joined["status_got"].to_list() == joined["status"].to_list()
    for row in joined.filter(status="rejected").iter_rows(named=True):
        assert row["reason"] in row["message"]


def test_ingestion_log_counts_agree_with_register_and_quarantine(loaded: Census) -> None:
    log = loaded.query("SELECT * FROM audit.ingestion_log "
                       "WHERE status = 'loaded' AND kind = 'licensing'")
    assert (log["rows_read"] == log["rows_loaded"] + log["rows_rejected"]).all()
    register_rows = loaded.query("SELECT count(*) AS n FROM core.register_rows")["n"][0]
    assert log["rows_loaded"].sum() == register_rows  # conflicting duplicates are rejected
    rejected_rows = loaded.query(
        "SELECT count(DISTINCT (file_name, sheet, source_row)) AS n FROM audit.quarantine "
        "WHERE severity = 'error' AND starts_with(file_name, 'licensing/')")["n"][0]
    assert log["rows_rejected"].sum() == rejected_rows


def test_no_footer_or_notes_row_becomes_a_centre(loaded: Census) -> None:
    names = loaded.query("SELECT centre_id, centre_name FROM core.register_rows")
    assert names["centre_id"].str.contains(r"^DC\d{6}-\d{4}$").all()
    assert not names["centre_name"].str.contains("^(合计|总计|Total|注|Note|说明)").any()


def test_register_asset_checks_report_rejections_by_rule(loaded: Census,
                                                         generated: Path) -> None:
    result = loaded.ingest()  # nothing new: the checks read the audit tables back
    # ...and neither ingest asset records an empty materialisation over its last real load.
    assert not {e.asset_key for e in result.get_asset_materialization_events()} & {
        REGISTER_KEY, HOURLY_KEY}
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()
              if e.asset_key == REGISTER_KEY}
    faults = truth(generated, "register_faults")
    errors = faults.filter(severity="error")
    rejected = checks["no_rejected_rows"]
    assert not rejected.passed
    assert rejected.metadata["findings"].value == errors.height
    for rule, n in errors.group_by("rule").len().iter_rows():
        assert rejected.metadata[f"rule/{rule}"].value == n
    assert not checks["no_warnings"].passed
    assert checks["no_warnings"].metadata["findings"].value == faults.height - errors.height
    assert checks["no_rejected_files"].metadata["files_rejected"].value == 2


def test_dimensions_are_loaded_with_comments(loaded: Census) -> None:
    provinces = loaded.query("SELECT * FROM core.dim_province")
    assert provinces.height == 31
    assert provinces.filter(province_code="51")["hub_code"].to_list() == ["CY"]
    undocumented = loaded.query("""
        SELECT table_name, column_name FROM duckdb_columns()
        WHERE schema_name IN ('core', 'audit') AND (comment IS NULL OR comment = '')""")
    assert undocumented.height == 0

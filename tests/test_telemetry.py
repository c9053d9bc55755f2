"""Telemetry from generated exports to core.telemetry_hourly, against the generator's
truth (contract §1.2, §2.1): every format, encoding, cadence and timestamp form."""

from pathlib import Path

import polars as pl
import pytest
from dagster import AssetKey, DagsterInstance
from polars.testing import assert_frame_equal

from pipelines.definitions import build_definitions
from pipelines.defs.resources import Warehouse
from tests.conftest import Census, copy_into, late_centre, truth

MEASURES = ["racks_in_use", "it_load_kw", "facility_load_kw", "cpu_util_pct", "gpu_util_pct",
            "compute_capacity_pflops", "compute_used_pflops"]


def hourly(census: Census, where: str = "TRUE") -> pl.DataFrame:
    return census.query(f"SELECT * FROM core.telemetry_hourly WHERE {where} "
                        "ORDER BY centre_id, hour_start").with_columns(
        pl.col("hour_start").dt.convert_time_zone("UTC"))


def test_generated_exports_cover_every_format_encoding_and_form(loaded: Census) -> None:
    log = loaded.query("SELECT file_name, message FROM audit.ingestion_log "
                       "WHERE kind = 'telemetry'")
    names = log["file_name"].to_list()
    for suffix in (".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz", ".ndjson"):
        assert any(n.endswith(suffix) for n in names), suffix
    read_as = " ".join(log["message"])
    for form in ("utf-8,", "utf-8 with BOM", "gb18030", "separator ','", "separator ';'",
                 "separator '\\t'"):
        assert form in read_as, form


def test_hourly_equals_the_ground_truth(loaded: Census, generated: Path) -> None:
    expected = pl.read_parquet(generated / "_truth" / "telemetry_hourly.parquet")
    got = hourly(loaded)
    assert got.height == expected.height > 10_000
    assert_frame_equal(got.select(expected.columns),
                       expected.sort("centre_id", "hour_start"), rel_tol=1e-9, abs_tol=0,
                       check_dtypes=False)


def test_every_planted_fault_and_nothing_else_is_quarantined(loaded: Census,
                                                             generated: Path) -> None:
    columns = ["file_name", "source_row", "centre_id", "column_name", "rule"]
    got = loaded.query(f"SELECT {', '.join(columns)} FROM audit.quarantine "
                       "WHERE starts_with(file_name, 'telemetry/')").sort(columns)
    expected = truth(generated, "telemetry_faults").cast({"source_row": pl.Int64}).sort(columns)
    assert {"missing", "unparseable", "out_of_range", "inconsistent", "unknown_centre",
            "conflicting_duplicate"} <= set(expected["rule"])
    assert_frame_equal(got, expected)
    lines = loaded.query("SELECT file_name, source_row, message FROM audit.quarantine "
                         "WHERE starts_with(file_name, 'telemetry/')")
    for file_name, row, message in lines.iter_rows():
        assert message.startswith(f"{file_name}, ") and f" {row}, column '" in message


def test_restatement_replaces_exactly_the_overlapping_hours(loaded: Census,
                                                            generated: Path) -> None:
    files = truth(generated, "telemetry_files").cast({"restated": pl.Int64})
    restating = files.filter(pl.col("restated") > 0)
    assert restating["file_name"].to_list() == [
        f for f in files["file_name"] if f.endswith(("_restated.csv", "_restated.parquet",
                                                     "_restated.jsonl", "_restated.csv.gz",
                                                     "_restated.jsonl.gz", "_restated.ndjson"))]
    for file_name, restated in restating.select("file_name", "restated").iter_rows():
        log = loaded.query("SELECT message FROM audit.ingestion_log WHERE file_name = ?",
                           [file_name]).item()
        assert f"restated {restated} centre-hours" in log
        loads = loaded.query("SELECT sum(replaced) FROM audit.telemetry_loads "
                             "WHERE file_name = ?", [file_name]).item()
        assert loads == restated
        hours = loaded.query("SELECT count(*) FROM core.telemetry_hourly WHERE source_file = ?",
                             [file_name]).item()
        assert hours == restated  # every hour it carries was restated, and is its own now


def test_month_boundaries_are_china_time(loaded: Census, generated: Path) -> None:
    expected = pl.read_parquet(generated / "_truth" / "telemetry_hourly.parquet").group_by(
        "centre_id",
        month=pl.col("hour_start").dt.convert_time_zone("Asia/Shanghai").dt.truncate("1mo")
        .dt.date()).agg(hours_reported=pl.len()).sort("month", "centre_id")
    got = loaded.query("SELECT centre_id, month, hours_reported FROM core.telemetry_coverage "
                       "ORDER BY month, centre_id")
    assert_frame_equal(got.select(expected.columns), expected, check_dtypes=False)
    july = loaded.query("""SELECT count(*) FROM core.telemetry_hourly
                           WHERE hour_start = TIMESTAMPTZ '2025-06-30 17:00:00+00'""").item()
    assert july == 0  # 01:00 on 1 July in China: outside the generated months


def test_coverage_partitions_report_their_month(loaded: Census) -> None:
    coverage = loaded.query("SELECT month, count(*) AS centres, avg(coverage) AS mean "
                            "FROM core.telemetry_coverage GROUP BY month ORDER BY month")
    assert [m.isoformat() for m in coverage["month"]] == [
        f"2025-0{m}-01" for m in range(1, 7)]
    assert (coverage["mean"] > 0.5).all() and (coverage["mean"] <= 1).all()
    low = loaded.query("SELECT count(*) FROM core.telemetry_coverage WHERE coverage < 0.5")
    assert low.item() > 0  # the generator's outages leave some centres under half


@pytest.mark.slow
def test_unknown_centre_loads_once_registered(census: Census, generated: Path) -> None:
    centre, expected = late_centre(generated)
    versions = truth(generated, "register_versions")
    # The exports of the centre's province (named <province>_<month>), every month's.
    workbook = versions.filter(centre_id=centre)["source_file"][0]
    province = Path(workbook).stem.rsplit("_", 1)[0]
    for export in sorted((generated / "telemetry").glob(f"{province}_*")):
        copy_into(export, census, folder="telemetry")
    early = sorted({generated / f for f in versions.filter(
        pl.col("valid_from") < "2025-06-30")["source_file"]})
    for workbook in early:
        copy_into(workbook, census)
    census.run()
    waiting = census.query("SELECT * FROM audit.quarantine WHERE rule = 'unknown_centre' "
                           "AND centre_id = ?", [centre])
    assert waiting.height > 0 and waiting["resolved_at"].is_null().all()
    assert hourly(census, f"centre_id = '{centre}'").height == 0
    pending = census.query("SELECT count(*) FROM core.telemetry_pending WHERE centre_id = ?",
                           [centre]).item()
    assert pending == waiting.height
    for workbook in (generated / "licensing").iterdir():
        if workbook not in early:
            copy_into(workbook, census)
    outcome = census.run()
    resolved = census.query("SELECT * FROM audit.quarantine WHERE rule = 'unknown_centre' "
                            "AND centre_id = ?", [centre])
    assert resolved.height == waiting.height  # marked resolved, not duplicated
    assert resolved["resolved_at"].is_not_null().all()
    got = hourly(census, f"centre_id = '{centre}'")
    assert_frame_equal(got.select(expected.columns), expected.sort("hour_start"),
                       rel_tol=1e-9, abs_tol=0, check_dtypes=False)
    assert "months rebuilt" in outcome.summary
    assert census.query("SELECT count(*) FROM core.telemetry_pending WHERE centre_id = ?",
                        [centre]).item() == 0


def test_the_same_export_twice_or_renamed_loads_once(census: Census, generated: Path) -> None:
    for workbook in (generated / "licensing").iterdir():
        copy_into(workbook, census)
    export = sorted((generated / "telemetry").glob("*.parquet"))[0]
    copy_into(export, census, folder="telemetry")
    census.run()
    before = hourly(census)
    copy_into(export, census, folder="telemetry", name=f"copy of {export.name}")
    census.run()
    census.run()
    log = census.query("SELECT status FROM audit.ingestion_log WHERE kind = 'telemetry' "
                       "ORDER BY started_at")["status"].to_list()
    assert log == ["loaded", "skipped_duplicate"]
    assert_frame_equal(hourly(census), before)


def test_a_month_partition_reports_its_figures(census: Census, generated: Path) -> None:
    for workbook in (generated / "licensing").iterdir():
        copy_into(workbook, census)
    for export in (generated / "telemetry").glob("*_2025-03.*"):
        copy_into(export, census, folder="telemetry")
    census.run()
    job = build_definitions(census.landing, census.warehouse).resolve_job_def("monthly")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, partition_key="2025-03-01")
    [event] = [e for e in result.get_asset_materialization_events()
               if e.asset_key == AssetKey(["core", "telemetry_coverage"])]
    assert event.partition == "2025-03-01"
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    build = Census(census.landing, Warehouse(path=str(census.warehouse)).build_path)
    rows, under_half = build.query("SELECT count(*), count(*) FILTER (coverage < 0.5) "
                                   "FROM core.telemetry_coverage").row(0)
    assert (metadata["dagster/row_count"], metadata["months"]) == (rows, "2025-03")
    rejected = build.query("""SELECT count(*) FROM audit.quarantine
        WHERE starts_with(file_name, 'telemetry/') AND resolved_at IS NULL
          AND date_trunc('month', observed_at AT TIME ZONE 'Asia/Shanghai') = '2025-03-01'""")
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()
              if c.asset_key == AssetKey(["core", "telemetry_coverage"])}
    assert checks["no_rejected_samples"].metadata["violations"].value == rejected.item() > 0
    assert not checks["no_rejected_samples"].passed
    assert checks["centres_reporting"].metadata["violations"].value == under_half

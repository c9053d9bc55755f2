"""Unit tier: one asset materialised alone on a tiny hand-made warehouse, for one month
partition, in seconds rather than through a generated census."""

from __future__ import annotations

from pathlib import Path

from dagster import AssetCheckSeverity, DagsterInstance, materialize

from pipelines.defs.models.sql_assets import model_asset
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.resources import Warehouse

# China's March 2025 starts at 16:00 UTC on 28 February and has 744 hours.
MARCH_HOURS = 744


def hours(con, centre: str, first_utc: str, count: int) -> None:
    con.execute("""
        INSERT INTO core.telemetry_hourly (centre_id, hour_start, racks_in_use, samples,
                                           source_file)
        SELECT ?, CAST(? AS TIMESTAMPTZ) + INTERVAL (h) HOUR, 10, 4, 'telemetry/t.csv'
        FROM range(?) AS t(h)""", [centre, first_utc, count])


def test_coverage_of_one_month_counts_its_china_hours_only(tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    with warehouse.writer() as con:
        # centre A: the last February hour (China time), then 400 March hours
        hours(con, "DC110000-0001", "2025-02-28 15:00:00+00", 401)
        hours(con, "DC110000-0002", "2025-03-10 00:00:00+00", 10)  # under half
        # a sample rejected in March (China time), and one in February
        con.execute("""
            INSERT INTO audit.quarantine (file_name, centre_id, rule, severity, observed_at)
            VALUES ('telemetry/t.csv', 'DC110000-0001', 'out_of_range', 'error',
                    '2025-02-28 16:00:00+00'),
                   ('telemetry/t.csv', 'DC110000-0001', 'out_of_range', 'error',
                    '2025-02-28 15:59:59+00')""")
    [coverage] = [m for m in sql_models() if m.table == "core.telemetry_coverage"]

    result = materialize([model_asset(coverage)], partition_key="2025-03-01",
                         resources={"warehouse": warehouse},
                         instance=DagsterInstance.ephemeral())

    with warehouse.build_reader() as con:
        rows = con.execute("SELECT month, centre_id, hours_in_month, hours_reported, "
                           "samples FROM core.telemetry_coverage ORDER BY centre_id").fetchall()
        builds = con.execute("SELECT model, month FROM audit.model_builds").fetchall()
    assert [(str(m), c, n, r, s) for m, c, n, r, s in rows] == [
        ("2025-03-01", "DC110000-0001", MARCH_HOURS, 400, 1600),
        ("2025-03-01", "DC110000-0002", MARCH_HOURS, 10, 40)]
    assert [(model, str(month)) for model, month in builds] == [
        ("core.telemetry_coverage", "2025-03-01")]
    (materialised,) = result.asset_materializations_for_node("core__telemetry_coverage")
    assert materialised.metadata["dagster/row_count"].value == 2
    checks = {c.check_name: (c.passed, c.severity, c.metadata["violations"].value)
              for c in result.get_asset_check_evaluations()}
    assert checks == {  # B's 10 hours are under half; one sample rejected in March
        "keys_unique": (True, AssetCheckSeverity.ERROR, 0),
        "coverage_within_0_1": (True, AssetCheckSeverity.ERROR, 0),
        "centres_reporting": (False, AssetCheckSeverity.WARN, 1),
        "no_rejected_samples": (False, AssetCheckSeverity.WARN, 1)}

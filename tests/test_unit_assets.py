"""Unit tier: one asset materialised alone on a tiny hand-made warehouse, for one month
partition, in seconds rather than through a generated census."""

from __future__ import annotations

from pathlib import Path

from dagster import (
    AssetCheckSeverity,
    AssetSelection,
    DagsterInstance,
    Definitions,
    define_asset_job,
    materialize,
)

from pipelines.defs.models.sql_assets import MONTHLY_STEP, models_asset
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.resources import Engine, Warehouse
from pipelines.failures import innermost_message

# China's March 2025 starts at 16:00 UTC on 28 February and has 744 hours.
MARCH_HOURS = 744


def embedded(warehouse: Warehouse) -> dict[str, object]:
    """The resources of the models step on the embedded engine."""
    lake = str(Path(warehouse.path).with_name("lake"))  # not opened by DuckDB's engine
    return {"warehouse": warehouse,
            "engine": Engine(name="duckdb", spark_master="local[2]", lake_dir=lake)}


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

    result = materialize([models_asset([coverage])], partition_key="2025-03-01",
                         resources=embedded(warehouse),
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
    (materialised,) = result.asset_materializations_for_node(MONTHLY_STEP)
    assert materialised.metadata["dagster/row_count"].value == 2
    checks = {c.check_name: (c.passed, c.severity, c.metadata["violations"].value)
              for c in result.get_asset_check_evaluations()}
    assert checks == {  # B's 10 hours are under half; one sample rejected in March
        "keys_unique": (True, AssetCheckSeverity.ERROR, 0),
        "coverage_within_0_1": (True, AssetCheckSeverity.ERROR, 0),
        "centres_reporting": (False, AssetCheckSeverity.WARN, 1),
        "no_rejected_samples": (False, AssetCheckSeverity.WARN, 1)}

    # The checks alone (the UI's "Execute checks"): evaluated on the rows there, the
    # model not built again.
    # (A run of checks alone has no partition: every month held is checked.)
    checks_only = define_asset_job(
        "checks_only", selection=AssetSelection.checks_for_assets(coverage.key))
    again = Definitions(assets=[models_asset([coverage])], jobs=[checks_only],
                        resources=embedded(warehouse)).resolve_job_def(
        "checks_only").execute_in_process(instance=DagsterInstance.ephemeral())
    assert not again.get_asset_materialization_events()
    assert {c.check_name: (c.passed, c.severity, c.metadata["violations"].value)
            for c in again.get_asset_check_evaluations()} == checks
    with warehouse.build_reader() as con:
        assert con.execute("SELECT count(*) FROM audit.model_builds").fetchone()[0] == 1


def _model_file(folder: Path, name: str, select: str) -> None:
    schema, table = name.split(".")
    (folder / schema).mkdir(parents=True, exist_ok=True)
    (folder / schema / f"{table}.sql").write_text(
        f"/*\ndescription: {name}\ngrain: [month]\ncolumns:\n  month: First day of the month\n"
        f"  n: A number\n*/\n{select}\n", encoding="utf-8")


def test_a_model_failing_leaves_the_others_built_and_names_itself(tmp_path: Path) -> None:
    # One step builds the run's models: a failing one stops only the models it feeds.
    models = tmp_path / "models"
    month = "SELECT CAST($month AS DATE) AS month"
    _model_file(models, "staging.broken", f"{month}, CAST('many' AS INTEGER) AS n")
    _model_file(models, "marts.fed_by_broken",
                "SELECT month, n FROM staging.broken WHERE month = CAST($month AS DATE)")
    _model_file(models, "marts.sound", f"{month}, 1 AS n")
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))

    result = materialize([models_asset(sql_models(models))], partition_key="2025-03-01",
                         resources=embedded(warehouse),
                         instance=DagsterInstance.ephemeral(), raise_on_error=False)

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    reason = innermost_message(failure.step_failure_data.error)  # as the run records it
    assert reason.startswith("staging.broken: Conversion Error")
    assert reason.endswith("; marts.fed_by_broken: not built, staging.broken failed")
    assert [".".join(e.asset_key.path) for e in result.get_asset_materialization_events()] \
        == ["marts.sound"]
    with warehouse.build_reader() as con:
        assert con.execute("SELECT model FROM audit.model_builds").fetchall() == [
            ("marts.sound",)]
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name IN "
                           "('broken', 'fed_by_broken')").fetchone()[0] == 0

"""The SQL models: the asset graph read from the SQL, and the marts against an
independent computation from the generator's truth (contract §3)."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from dagster import DagsterInstance
from polars.testing import assert_frame_equal

from pipelines.definitions import build_definitions
from pipelines.defs.models.sql_files import sql_models
from pipelines.generate import generate
from pipelines.settings import setting
from pipelines.sql_graph import ModelError
from tests import independent, independent_outlook
from tests.conftest import Census, copy_into, truth
from tests.corrupted import violations_before_and_after


def test_centre_monthly_equals_the_independent_computation(loaded: Census,
                                                           generated: Path) -> None:
    expected = independent.centre_monthly(generated)
    got = loaded.query("SELECT * FROM marts.centre_monthly ORDER BY month, centre_id")
    assert got.height == expected.height > 100
    assert_frame_equal(got, expected.select(got.columns), rel_tol=1e-9, abs_tol=0,
                       check_dtypes=False)


def test_every_mart_column_is_documented(loaded: Census) -> None:
    undocumented = loaded.query("""
        SELECT table_name, column_name FROM duckdb_columns()
        WHERE schema_name IN ('staging', 'marts') AND (comment IS NULL OR comment = '')""")
    assert undocumented.height == 0
    tables = loaded.query("SELECT table_name, comment FROM duckdb_tables() "
                          "WHERE schema_name = 'marts'")
    assert tables.filter(table_name="centre_monthly")["comment"].item().startswith("One row")


def test_model_checks_pass_on_generated_data(loaded: Census) -> None:
    job = build_definitions(loaded.landing, loaded.warehouse).resolve_job_def("monthly")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, partition_key="2025-05-01")
    models = sql_models()
    checks = {(".".join(c.asset_key.path), c.check_name): c.passed
              for c in result.get_asset_check_evaluations()
              if c.asset_key.path[0] in ("staging", "marts")}
    assert checks == {(m.table, t.name): True for m in models for t in m.tests
                      if m.key.path[0] in ("staging", "marts")}
    assert len(checks) == 20


@pytest.mark.parametrize("check_name, corruption", [
    ("keys_unique", "INSERT INTO marts.region_monthly SELECT * FROM marts.region_monthly "
                    "WHERE level = 'national'"),
    ("rack_utilisation_within_0_1.1", "UPDATE marts.region_monthly SET rack_utilisation = 1.5 "
                                      "WHERE level = 'hub'"),
    ("every_level", "DELETE FROM marts.region_monthly WHERE level = 'hub'"),
    ("provinces_add_up_to_national", "UPDATE marts.region_monthly SET design_racks = "
                                     "design_racks + 1 WHERE level = 'national'"),
    ("glut_signals_consistent", "UPDATE marts.region_monthly SET glut_flag = NOT glut_flag "
                                "WHERE level = 'national'"),
])
def test_mart_checks_catch_broken_marts(loaded: Census, tmp_path: Path, check_name: str,
                                        corruption: str) -> None:
    before, after = violations_before_and_after(loaded.warehouse, tmp_path,
                                                "marts.region_monthly", check_name, corruption)
    assert before == 0
    assert after > 0


def test_month_boundaries_are_china_time(census: Census, generated: Path) -> None:
    """An hour at 2025-06-30T17:00Z is 01:00 on 1 July in China: it counts in July."""
    for workbook in (generated / "licensing").iterdir():
        copy_into(workbook, census)
    centre = census_centre(generated)
    rows = [f"{centre},2025-06-30T15:00:00Z,10,100,130,50",  # 23:00 on 30 June in China
            f"{centre},2025-06-30T17:00:00Z,12,100,130,50"]
    export = census.landing / "telemetry" / "edge_2025-06.csv"
    export.parent.mkdir(parents=True)
    export.write_text("centre_id,ts,racks_in_use,it_load_kw,facility_load_kw,cpu_util_pct\n"
                      + "\n".join(rows) + "\n")
    census.run()
    got = census.query("SELECT month, hours_reported, racks_in_use_avg FROM marts.centre_monthly "
                       "WHERE centre_id = ? ORDER BY month", [centre]).rows()
    assert [(m.isoformat(), h, r) for m, h, r in got] == [("2025-06-01", 1, 10.0),
                                                          ("2025-07-01", 1, 12.0)]


def census_centre(generated: Path) -> str:
    """A centre operating, with no commissioning date in the future, through July 2025."""
    register = independent.truth_register(generated)
    current = register.filter(is_current=True, status="operating")
    return sorted(current["centre_id"])[0]


def _header(yaml: str) -> str:
    return f"/*\n{yaml}\n*/\n"


@pytest.mark.parametrize("name, sql, complaint", [
    ("broken", "SELEC centre_id FRM core.centre_register", "not valid SQL"),
    ("broken", "SELECT * FROM core.no_such_table", "references table core.no_such_table"),
    ("broken", "SELECT * FROM centre_register", "references table centre_register"),
    # the file name becomes the table name in DDL, the header the COMMENT ON text
    ("x; DROP TABLE core.centre_register; --", "SELECT 1 AS x",
     "must be lower-case SQL identifiers"),
    ("broken", _header("description: A table $$; DROP TABLE core.centre_register; --\n"
                       "grain: [x]\ncolumns: {x: y}") + "SELECT 1 AS x",
     "'$$' in the header"),
    ("broken", "-- A table\n-- x: y\nSELECT 1 AS x", "starts with its header"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y}\nowner: me")
     + "SELECT 1 AS x", "the header: unknown key owner"),
    ("broken", _header("description: A table\ncolumns: {x: y}") + "SELECT 1 AS x",
     "missing grain"),
    ("broken", _header("description: A table\ngrain: [x, y]\ncolumns: {x: y}")
     + "SELECT 1 AS x", "grain: y is not a column the SELECT returns"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y}")
     + "SELECT 1 AS x, 2 AS z", "document z under columns"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y, z: w}")
     + "SELECT 1 AS x", "columns documents z, which the SELECT does not return"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y}")
     + "SELECT *, 1 AS x FROM core.dim_hub", "name every column"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y}\ntests:\n"
                       "  - within: {column: z, min: 0, max: 1}") + "SELECT 1 AS x",
     "within: z is not a column the SELECT returns"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y}\ntests:\n"
                       "  - within: {column: x, min: 0, max: 1, high: 2}") + "SELECT 1 AS x",
     "within: unknown key high"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y}\ntests:\n"
                       "  - within: {column: x, min: 0, max: 1}\n    severity: warn")
     + "SELECT 1 AS x", "missing description, name, violations"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y}\ntests:\n"
                       "  - within: {column: x, min: 0, max: 1, severity: fatal}")
     + "SELECT 1 AS x", "test x_within_0_1: severity 'fatal' is not one of error, warn"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y}\ntests:\n"
                       "  - relationships: {column: x, to: core.nowhere}") + "SELECT 1 AS x",
     "to core.nowhere, which no asset produces"),
    ("broken", _header("description: A table\ngrain: [x]\ncolumns: {x: y}\ntests:\n"
                       "  - name: small\n    description: x is small\n"
                       "    violations: SELECT count(*) FROM this WHERE z > 1") + "SELECT 1 AS x",
     "test small: Binder Error"),
])
def test_a_broken_model_fails_the_definitions_naming_its_file(tmp_path: Path, name: str,
                                                              sql: str, complaint: str) -> None:
    models = tmp_path / "models"
    for path in setting("CENSUS_MODELS_DIR").glob("*/*.sql"):
        (models / path.parent.name).mkdir(parents=True, exist_ok=True)
        (models / path.parent.name / path.name).write_text(path.read_text())
    broken = models / "marts" / f"{name}.sql"
    broken.write_text(sql)
    with pytest.raises(ModelError) as caught:
        build_definitions(tmp_path, tmp_path / "w.duckdb", models=models)
    assert str(broken) in str(caught.value) and complaint in str(caught.value)


def test_region_monthly_equals_the_independent_computation(loaded: Census,
                                                           generated: Path) -> None:
    expected = independent.region_monthly(generated)
    got = loaded.query("SELECT * FROM marts.region_monthly ORDER BY month, level, region_code")
    assert got.height == expected.height
    assert set(got["level"]) == {"national", "nbs_region", "hub", "province"}
    assert_frame_equal(got, expected.select(got.columns), rel_tol=1e-9, abs_tol=1e-12,
                       check_dtypes=False)


def test_surplus_compute_equals_the_independent_computation(loaded: Census,
                                                            generated: Path) -> None:
    expected = independent.surplus_compute(generated)
    got = loaded.query("SELECT * FROM marts.surplus_compute ORDER BY month, hub_code")
    assert got["centres_with_compute"].sum() > 0
    assert_frame_equal(got, expected.select(got.columns), rel_tol=1e-9, abs_tol=1e-12,
                       check_dtypes=False)
    for hub, side, reachable in got.select("hub_code", "side", "reachable_east_hubs").rows():
        assert reachable == sorted(reachable)
        assert side != "east" or hub in reachable  # an eastern hub always reaches itself


def test_planned_glut_is_flagged_and_tight_regions_are_not(loaded: Census,
                                                           generated: Path) -> None:
    plan = truth(generated, "glut_plan")
    regions = loaded.query("SELECT * FROM marts.region_monthly WHERE centres_reporting > 0")
    checked = {"glut": 0, "tight": 0}
    for level, code, planned, signals in plan.iter_rows():
        rows = regions.filter(level=level, region_code=code)
        for row in rows.iter_rows(named=True):
            if planned == "glut":
                assert row["glut_flag"], (level, code, row["month"], row["glut_signals"])
                assert set(signals.split(";")) <= set(row["glut_signals"])
            else:
                assert not row["glut_flag"], (level, code, row["month"], row["glut_signals"])
                assert "low_utilisation" not in row["glut_signals"]
            checked[planned] += 1
    assert checked["glut"] >= 6 and checked["tight"] >= 6


@pytest.fixture(scope="module")
def year_on_year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Census]:
    """Fourteen months, so that two months have a month twelve earlier."""
    landing = tmp_path_factory.mktemp("year_on_year") / "landing"
    generate(seed=5, centres=10, months=14, start="2024-05", out=landing)
    census = Census(landing, landing.parent / "census.duckdb")
    census.run()
    return landing, census


@pytest.mark.slow
def test_twelve_month_growth_equals_the_independent_computation(
        year_on_year: tuple[Path, Census]) -> None:
    generated, census = year_on_year
    expected = independent.region_monthly(generated)
    got = census.query("SELECT * FROM marts.region_monthly ORDER BY month, level, region_code")
    grown = got.filter(pl.col("racks_growth_12m").is_not_null())
    assert set(grown["month"]) == {dt.date(2025, 5, 1), dt.date(2025, 6, 1)}
    assert grown.filter(level="national").height == 2
    assert_frame_equal(got, expected.select(got.columns), rel_tol=1e-9, abs_tol=1e-12,
                       check_dtypes=False)


@pytest.mark.slow
def test_glut_outlook_with_a_year_of_growth_equals_the_independent_computation(
        year_on_year: tuple[Path, Census]) -> None:
    generated, census = year_on_year
    expected = independent_outlook.glut_outlook(generated)
    got = census.query("SELECT * FROM marts.glut_outlook ORDER BY month, level, region_code")
    assert got.filter(pl.col("months_to_threshold") > 0).height > 0  # a glut clearing
    assert_frame_equal(got, expected.select(got.columns), rel_tol=1e-9, abs_tol=1e-12,
                       check_dtypes=False)


def test_the_ui_shows_the_columns_the_warehouse_holds(loaded: Census) -> None:
    """Every table asset's column schema is the published table's names, types and
    comments; every column of a SQL model's lineage exists in the asset it names."""
    graph = build_definitions(loaded.landing, loaded.warehouse).resolve_asset_graph()
    held = loaded.query("SELECT schema_name || '/' || table_name AS asset, column_name, "
                        "data_type, comment FROM duckdb_columns() WHERE NOT internal "
                        "ORDER BY schema_name, table_name, column_index")
    schemas = {key.to_user_string(): graph.get(key).metadata["dagster/column_schema"]
               for key in graph.get_all_asset_keys()
               if "dagster/column_schema" in graph.get(key).metadata}
    assert set(schemas) >= {"core/centre_register", "core/telemetry_hourly",
                            "staging/centre_state", "marts/region_monthly"}
    for asset, schema in schemas.items():
        expected = held.filter(asset=asset).select("column_name", "data_type", "comment").rows()
        assert [(c.name, c.type, c.description) for c in schema.columns] == expected, asset
    traced = 0
    for key in graph.get_all_asset_keys():
        lineage = graph.get(key).metadata.get("dagster/column_lineage")
        for column, deps in (lineage.deps_by_column.items() if lineage else []):
            assert column in {c.name for c in schemas[key.to_user_string()].columns}
            for dep in deps:
                assert dep.column_name in {
                    c.name for c in schemas[dep.asset_key.to_user_string()].columns}, dep
                traced += 1
    assert traced > 100

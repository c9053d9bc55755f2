"""The Spark engine's lake beside the warehouse (real Spark, local mode, in this process):
a month built on Spark over months the embedded engine built, and a model without months
built whole."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from pipelines.definitions import build_definitions
from pipelines.defs.models.sql_assets import models_asset
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.resources import Engine, Warehouse
from pipelines.warehouse.integrity import SPARK_TOLERANCE
from tests.compare import differences
from tests.conftest import Census


@pytest.mark.slow
def test_one_month_on_spark_over_months_duckdb_built(two_months: Census, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Switching engines: Spark rebuilds the last month of a warehouse the embedded engine
    built, into an empty lake. The months it reads besides (the month before) are the
    warehouse's, copied in; the month comes out the same."""
    published = tmp_path / "census.duckdb"
    shutil.copyfile(two_months.warehouse, published)
    monkeypatch.setenv("CENSUS_ENGINE", "spark")
    monkeypatch.setenv("CENSUS_LAKE_DIR", str(tmp_path / "lake"))
    job = build_definitions(two_months.landing, published).resolve_job_def("monthly")
    with DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance, partition_key="2025-02-01").success
    build = Warehouse(path=str(published)).build_path
    assert differences(build, two_months.warehouse, SPARK_TOLERANCE) == []
    con = duckdb.connect(str(build), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT engine, month FROM audit.model_builds "
                           "WHERE run_id NOT IN (SELECT run_id FROM audit.model_builds "
                           "WHERE engine = 'duckdb')").fetchall() == [("spark",
                                                                       dt.date(2025, 2, 1))]
    finally:
        con.close()


def test_an_unpartitioned_model_is_built_whole_by_spark(tmp_path: Path) -> None:
    """A model without `$month` is one folder in the lake, replaced whole by each build,
    read by the warehouse whole; a monthly model reading the ingestion's tables beside."""
    models = tmp_path / "models"
    for name, grain, select in (
            ("staging.provinces", "[month]", "SELECT CAST($month AS DATE) AS month, "
             "count(*) AS n FROM core.dim_province"),
            ("marts.province_total", "[n]", "SELECT CAST(sum(n) AS BIGINT) + 1 AS n "
             "FROM staging.provinces")):
        schema, table = name.split(".")
        (models / schema).mkdir(parents=True, exist_ok=True)
        columns = "  month: First day of the month\n" if "month" in grain else ""
        (models / schema / f"{table}.sql").write_text(
            f"/*\ndescription: {name}\ngrain: {grain}\ncolumns:\n{columns}  n: A number\n*/\n"
            f"{select}\n", encoding="utf-8")
    monthly, whole = sorted(sql_models(models), key=lambda m: not m.monthly)
    resources = {"warehouse": Warehouse(path=str(tmp_path / "w.duckdb")),
                 "engine": Engine(name="spark", spark_master="local[2]",
                                  lake_dir=str(tmp_path / "lake"))}
    lake = tmp_path / "lake"
    with DagsterInstance.ephemeral() as instance:
        assert materialize([models_asset([monthly])], partition_key="2025-03-01",
                           resources=resources, instance=instance).success
        assert (lake / "staging" / "provinces" / "month=2025-03-01" / "_SUCCESS").exists()
        for _ in range(2):  # built twice: replaced, not added to
            assert materialize([models_asset([whole])], resources=resources,
                               instance=instance).success
    assert (lake / "marts" / "province_total" / "_SUCCESS").exists()
    # What it read, copied in from the warehouse at the start of its step.
    assert (lake / "staging" / "provinces" / "month=2025-03-01" / "data_0.parquet").exists()
    with resources["warehouse"].build_reader() as con:
        assert con.execute("SELECT n FROM marts.province_total").fetchall() == [(1,)]
        assert con.execute("SELECT * FROM staging.provinces").fetchall() == [
            (dt.date(2025, 3, 1), 0)]

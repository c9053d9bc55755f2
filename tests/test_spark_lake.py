"""The Spark engine's lake beside the warehouse (real Spark, local mode, in this process):
a model's month built on Spark over what the embedded engine built, and a model without
months built whole."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from pipelines.defs.models.sql_assets import models_asset
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.resources import Engine, Warehouse
from pipelines.warehouse.integrity import SPARK_TOLERANCE
from tests.compare import differences
from tests.conftest import Census


@pytest.mark.slow
def test_a_model_on_spark_over_what_duckdb_built(two_months: Census, tmp_path: Path) -> None:
    """Switching engines: Spark rebuilds one model's last month in a warehouse the
    embedded engine built, into an empty lake. What it reads (the ingestion's tables, the
    models before it, their other months) is the warehouse's, copied in; the month comes
    out the same."""
    published = tmp_path / "census.duckdb"
    shutil.copyfile(two_months.warehouse, published)
    resources = {"warehouse": Warehouse(path=str(published)),
                 "engine": Engine(name="spark", spark_master="local[2]",
                                  lake_dir=str(tmp_path / "lake"))}
    (region_monthly,) = (m for m in sql_models() if m.table == "marts.region_monthly")
    with DagsterInstance.ephemeral() as instance:
        assert materialize([models_asset([region_monthly])], partition_key="2025-02-01",
                           resources=resources, instance=instance).success
    build = resources["warehouse"].build_path
    assert differences(build, two_months.warehouse, SPARK_TOLERANCE) == []
    con = duckdb.connect(str(build), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT model, engine, month FROM audit.model_builds "
                           "WHERE engine = 'spark'").fetchall() == [
            ("marts.region_monthly", "spark", dt.date(2025, 2, 1))]
    finally:
        con.close()
    assert (tmp_path / "lake" / "marts" / "region_monthly" / "month=2025-02-01" /
            "_SUCCESS").exists()


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

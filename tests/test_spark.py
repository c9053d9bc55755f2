"""The Spark engine (CENSUS_ENGINE=spark, local mode): `census run` on the generated
inputs builds the SQL models with Spark in the lake, and the warehouse it publishes
equals the embedded engine's, table by table."""

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from pipelines.definitions import build_definitions
from pipelines.defs.models.sql_assets import models_asset
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.resources import Engine, Warehouse
from pipelines.warehouse.integrity import SPARK_TOLERANCE
from tests.compare import differences, problems
from tests.conftest import Census

CENSUS = [sys.executable, "-m", "pipelines.cli"]


@pytest.fixture(scope="module")
def on_spark(loaded: Census, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`census run` with Spark on the inputs `loaded` was built from; its folder."""
    root = tmp_path_factory.mktemp("spark")
    env = {**os.environ, "CENSUS_ENGINE": "spark", "CENSUS_SPARK_MASTER": "local[2]",
           "CENSUS_LANDING_DIR": str(loaded.landing),
           "CENSUS_WAREHOUSE": str(root / "census.duckdb"),
           "CENSUS_LAKE_DIR": str(root / "lake"), "CENSUS_EXPORT_DIR": str(root / "exports"),
           "DAGSTER_HOME": str(root / "dagster_home")}
    done = subprocess.run([*CENSUS, "run"], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@pytest.mark.slow
def test_every_table_equals_the_embedded_engines(on_spark: Path, loaded: Census) -> None:
    """Same rows in every table (ids and run times aside), doubles within 1e-9, the
    quarantine included; and `census check` finds the Spark-built warehouse sound."""
    assert differences(on_spark / "census.duckdb", loaded.warehouse, SPARK_TOLERANCE) == []
    assert problems(on_spark / "census.duckdb") == []


@pytest.mark.slow
def test_spark_built_the_models_in_the_lake(on_spark: Path) -> None:
    """Each model was written by Spark (its `_SUCCESS` marker, a monthly model's in each
    month's partition), and the warehouse records that Spark built it."""
    lake = on_spark / "lake"
    con = duckdb.connect(str(on_spark / "census.duckdb"), read_only=True)
    try:
        engines = dict(con.execute("SELECT model, string_agg(DISTINCT engine, ',') "
                                   "FROM audit.model_builds GROUP BY model").fetchall())
        months = [str(m) for (m,) in con.execute(
            "SELECT DISTINCT month FROM marts.region_monthly ORDER BY 1").fetchall()]
    finally:
        con.close()
    for model in sql_models():
        folder = lake.joinpath(*model.key.path)
        if not model.monthly:
            assert (folder / "_SUCCESS").exists(), model.table
            continue
        assert engines[model.table] == "spark"
        committed = sorted(p.name for p in folder.glob("month=*") if (p / "_SUCCESS").exists())
        assert committed == [f"month={m}" for m in months], model.table
    # The ingestion's tables the models read, copied into the lake for Spark.
    assert (lake / "core" / "telemetry_hourly" / "data.parquet").exists()


@pytest.mark.slow
def test_one_month_on_spark_over_months_duckdb_built(loaded: Census, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Switching engines: Spark rebuilds the last month of a warehouse the embedded engine
    built, into an empty lake. The months it reads besides (a year-on-year growth, the
    months before) are the warehouse's, copied in; the month comes out the same."""
    published = tmp_path / "census.duckdb"
    shutil.copyfile(loaded.warehouse, published)
    monkeypatch.setenv("CENSUS_ENGINE", "spark")
    monkeypatch.setenv("CENSUS_LAKE_DIR", str(tmp_path / "lake"))
    job = build_definitions(loaded.landing, published).resolve_job_def("monthly")
    with DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance, partition_key="2025-06-01").success
    build = Warehouse(path=str(published)).build_path
    assert differences(build, loaded.warehouse, SPARK_TOLERANCE) == []
    con = duckdb.connect(str(build), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT engine, month FROM audit.model_builds "
                           "WHERE run_id NOT IN (SELECT run_id FROM audit.model_builds "
                           "WHERE engine = 'duckdb')").fetchall() == [("spark",
                                                                       dt.date(2025, 6, 1))]
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

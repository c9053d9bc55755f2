"""The Spark engine (CENSUS_ENGINE=spark, local mode): `census run` on the generated
inputs reads and checks the telemetry exports and builds the SQL models with Spark in the
lake, and the warehouse it publishes equals the embedded engine's, table by table."""

import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.models.sql_files import sql_models
from pipelines.warehouse.integrity import SPARK_TOLERANCE
from tests.compare import differences, problems, written_by_spark
from tests.conftest import Census
from tests.test_cli import CENSUS


@pytest.fixture(scope="module")
def on_spark(two_months: Census, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`census run` with Spark on the inputs `two_months` was loaded from; its folder."""
    root = tmp_path_factory.mktemp("spark")
    env = {**os.environ, "CENSUS_ENGINE": "spark", "CENSUS_SPARK_MASTER": "local[2]",
           "CENSUS_LANDING_DIR": str(two_months.landing),
           "CENSUS_WAREHOUSE": str(root / "census.duckdb"),
           "CENSUS_LAKE_DIR": str(root / "lake"), "CENSUS_EXPORT_DIR": str(root / "exports"),
           "DAGSTER_HOME": str(root / "dagster_home")}
    done = subprocess.run([*CENSUS, "run"], env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    (root / "stderr.txt").write_text(done.stderr, encoding="utf-8")
    return root


@pytest.mark.slow
def test_every_table_equals_the_embedded_engines(on_spark: Path, two_months: Census) -> None:
    """Same rows in every table (ids and run times aside), doubles within 1e-9: the
    ingestion log, the quarantine (file, row, column, value, rule, message), the hours
    with their restatements, pending samples, the models; and `census check` finds the
    Spark-built warehouse sound."""
    assert differences(on_spark / "census.duckdb", two_months.warehouse,
                       SPARK_TOLERANCE) == []
    assert problems(on_spark / "census.duckdb") == []


@pytest.mark.slow
def test_spark_checked_the_exports_and_built_the_models_in_the_lake(on_spark: Path) -> None:
    """Each export the run read was checked by Spark (its samples and findings in the
    lake, and its hours, by file, each Parquet file signed by Spark's writer with its
    version); the hours were merged by Spark month by month; each model was written by
    Spark (a monthly model's marker in each month's partition), and the warehouse records
    that Spark built it."""
    lake = on_spark / "lake"
    con = duckdb.connect(str(on_spark / "census.duckdb"), read_only=True)
    try:
        read = {sha for (sha,) in con.execute(
            "SELECT sha256 FROM audit.ingestion_log WHERE kind = 'telemetry' "
            "AND status = 'loaded'").fetchall()}
        engines = dict(con.execute("SELECT model, string_agg(DISTINCT engine, ',') "
                                   "FROM audit.model_builds GROUP BY model").fetchall())
        months = [str(m) for (m,) in con.execute(
            "SELECT DISTINCT month FROM marts.region_monthly ORDER BY 1").fetchall()]
    finally:
        con.close()
    assert len(read) > 15
    folders = {f"sha256={sha}" for sha in read}
    for written in ("telemetry_checked", "telemetry_hours"):
        assert {p.name for p in (lake / "ingest" / written).glob("sha256=*")} == folders
        assert written_by_spark(list((lake / "ingest" / written).glob("*/*.parquet")))
    # Every export's rows are in files of their own folder.
    assert {p.parent.name for p in (lake / "ingest" / "telemetry_checked").glob(
        "*/*.parquet")} == folders
    for model in sql_models():
        folder = lake.joinpath(*model.key.path)
        if not model.monthly:
            assert (folder / "_SUCCESS").exists(), model.table
            continue
        assert engines[model.table] == "spark"
        committed = sorted(p.name for p in folder.glob("month=*") if (p / "_SUCCESS").exists())
        assert committed == [f"month={m}" for m in months], model.table
    # The hours the models read, merged by Spark into the lake month by month.
    hourly = sorted(p.parent.name for p in (lake / "core" / "telemetry_hourly").glob(
        "month=*/_SUCCESS"))
    assert hourly == [f"month={m}" for m in months]


@pytest.mark.slow
def test_a_sound_run_on_spark_logs_no_error(on_spark: Path) -> None:
    """A run that succeeds shows the data engineer no error of Spark's, nor a Java stack
    trace: the rules' stage, too big for one compiled Java method, is planned without
    whole-stage code rather than compiled, failed and logged first."""
    stderr = (on_spark / "stderr.txt").read_text(encoding="utf-8")
    assert " ERROR " not in stderr and "\tat org." not in stderr, stderr[:2000]

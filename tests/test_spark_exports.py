"""Exports as Spark reads them (real Spark, local mode, in this process): a file is read
as itself whatever its name, a typed number is quoted as DuckDB writes it, and a failure
of Spark's own does not reject the file."""

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from pipelines.defs.resources import Warehouse
from pipelines.ingest.telemetry_readers import ExportUnreadable, open_export
from pipelines.spark import SparkError
from pipelines.spark.lake import Lake
from pipelines.spark.session import spark_session
from pipelines.spark.telemetry import (
    check_hours,
    check_in_spark,
    nanos_as_times,
    nanosecond_columns,
    read_export,
)
from schemas.telemetry import MEASURES
from schemas.telemetry_lake import TELEMETRY_HOURS, spark_struct

HEADER = "centre_id,ts,racks_in_use,it_load_kw,facility_load_kw\n"


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    session = spark_session("local[1]", tmp_path_factory.mktemp("lake"))
    yield session
    session.stop()


def _export(folder: Path, name: str, rows: int) -> Path:
    path = folder / name
    path.write_text(HEADER + "".join(f"GZ-{n:03},2025-01-01T0{n}:00:00Z,1,2,3\n"
                                     for n in range(rows)), encoding="utf-8")
    return path


def test_a_name_hadoop_would_read_as_a_pattern_is_read_as_itself(
        spark: SparkSession, tmp_path: Path) -> None:
    """`site[1].csv` is that file, not `site1.csv` (Hadoop's glob), nor a scheme."""
    landing = tmp_path / "landing"
    landing.mkdir()
    _export(landing, "site1.csv", 5)
    for name, rows in (("site[1].csv", 2), ("a:b{c,d}*.csv", 3)):
        scratch = tmp_path / f"scratch{rows}"
        scratch.mkdir()
        export = open_export(_export(landing, name, rows), scratch)
        assert read_export(spark, export).count() == rows + 1  # its header, a record


def test_nanosecond_times_are_read_as_duckdb_reads_them(spark: SparkSession,
                                                        tmp_path: Path) -> None:
    """pandas writes times in nanoseconds, which Spark refuses to read as times: they are
    read as numbers and made times of whole microseconds (toward zero), as DuckDB keeps
    them; an instant where the file says UTC, else a naive time (China time)."""
    path = tmp_path / "site.parquet"
    nanos = [1_741_230_000_123_456_789, 1_741_233_600_000_000_000]
    pq.write_table(pa.table({"centre_id": ["DC1", "DC2"],
                             "ts": pa.array(nanos, pa.timestamp("ns", tz="UTC")),
                             "local": pa.array(nanos, pa.timestamp("ns"))}), path)
    (tmp_path / "scratch").mkdir()
    export = open_export(path, tmp_path / "scratch")
    nanos = nanosecond_columns(pq.ParquetFile(path).schema)
    assert nanos == {"c2": "TIMESTAMP WITH TIME ZONE", "c3": "TIMESTAMP"}
    cells = nanos_as_times(read_export(spark, export).toDF("c1", "c2", "c3"), nanos)
    times = cells.selectExpr("unix_micros(c2)", "unix_micros(c3)").collect()
    assert [tuple(row) for row in times] == duckdb.sql(
        "SELECT epoch_us(ts), epoch_us(CAST(local AS TIMESTAMP)) FROM read_parquet($path)",
        params={"path": str(path)}).fetchall() == [
        (1_741_230_000_123_456, 1_741_230_000_123_456),
        (1_741_233_600_000_000, 1_741_233_600_000_000)]


def test_a_line_that_is_not_json_rejects_the_export(spark: SparkSession,
                                                    tmp_path: Path) -> None:
    """Past the lines whose keys are read first: the file is unreadable, as DuckDB's
    reader finds it, not a row of NULLs."""
    good = '{"centre_id": "GZ-001", "ts": "2025-01-01T00:00:00Z"}\n'
    (tmp_path / "site.jsonl").write_text(good * 1200 + '{"centre_id": \n', encoding="utf-8")
    (tmp_path / "scratch").mkdir()
    export = open_export(tmp_path / "site.jsonl", tmp_path / "scratch")
    checked = check_in_spark(spark, export, "telemetry/site.jsonl", tmp_path / "checked",
                             tmp_path / "hours")
    assert isinstance(checked.rejection, ExportUnreadable)
    assert str(checked.rejection).startswith("not readable as json lines (")
    assert "FAILED_READ_FILE" in str(checked.rejection)



def test_a_json_line_null_is_a_row_of_nulls_as_duckdb_reads_it(spark: SparkSession,
                                                                tmp_path: Path) -> None:
    """Spark reads the export's copy, in which the line is `{}`: the same rows as DuckDB
    reads from the file, where Spark would have refused the file."""
    good = '{"centre_id": "GZ-001", "ts": "2025-01-01T00:00:00Z"}\n'
    (tmp_path / "site.jsonl").write_text(good + " null\n" + good, encoding="utf-8")
    (tmp_path / "scratch").mkdir()
    export = open_export(tmp_path / "site.jsonl", tmp_path / "scratch")
    rows = [tuple(row) for row in read_export(spark, export).collect()]
    assert rows == duckdb.sql("SELECT * FROM read_json($path, format = 'newline_delimited', "
                              "columns = {centre_id: 'VARCHAR', ts: 'VARCHAR'})",
                              params={"path": str(tmp_path / "site.jsonl")}).fetchall()
    assert rows == [("GZ-001", "2025-01-01T00:00:00Z"), (None, None),
                    ("GZ-001", "2025-01-01T00:00:00Z")]

def test_a_typed_number_in_a_finding_is_quoted_as_duckdb_writes_it(
        spark: SparkSession, tmp_path: Path) -> None:
    """A Parquet DOUBLE is quoted as DuckDB writes it (`-12345678.0`, `-1.5e-07`), not as
    Java does (`-1.2345678E7`, `-1.5E-7`): the same finding whichever engine checked it."""
    with Warehouse(path=str(tmp_path / "census.duckdb")).writer() as con:
        Lake(tmp_path / "lake", spark).copy_in(con, ["core.centre_register"])
    path = tmp_path / "site.parquet"
    loads = [-12345678.0, -1.5e-7, 2.0]
    pq.write_table(pa.table({
        "centre_id": ["DC440100-0001"] * 3,
        "ts": [f"2025-01-01T0{n}:00:00Z" for n in range(3)],
        "racks_in_use": [1.0] * 3, "it_load_kw": loads, "facility_load_kw": [-1.0] * 3,
        "cpu_util_pct": [1.0] * 3}), path)
    (tmp_path / "scratch").mkdir()
    export = open_export(path, tmp_path / "scratch")
    checked = check_in_spark(spark, export, "telemetry/site.parquet", tmp_path / "checked",
                             tmp_path / "hours")
    assert checked.rejection is None
    quoted = {(row.column_name, row.value) for row in spark.read.parquet(
        str(tmp_path / "checked")).selectExpr("inline(findings)").collect()}
    assert {value for column, value in quoted if column == "it_load_kw"} == {
        "-12345678.0", "-1.5e-07"}
    assert ("facility_load_kw", "-1.0") in quoted


def test_hours_unlike_their_schema_fail_the_step(spark: SparkSession, tmp_path: Path) -> None:
    """The hours Spark wrote are checked against their pandera schema before they are
    read: a key without its centre, an hour of no sample, or a column of another type is
    census's fault (SparkError), each failing column named. An export's hours are checked
    for their columns' types; a month the models read, whole."""
    hour = dt.datetime(2025, 1, 1)
    # The schema's columns, each of which may hold NULLs (as Parquet files' columns do).
    columns = ", ".join(f"{f.name} {f.dataType.simpleString()}"
                        for f in spark_struct(TELEMETRY_HOURS))
    good = spark.createDataFrame([("GZ-001", hour, *[1.0] * len(MEASURES), 1)], columns)
    check_hours(good, "telemetry/good.csv", TELEMETRY_HOURS)
    missing = spark.createDataFrame([(None, hour, *[1.0] * len(MEASURES), 0)], columns)
    check_hours(missing, "telemetry/bad.csv")  # its types are right
    with pytest.raises(SparkError, match=re.escape("hours of month 1 do not match")) as failed:
        check_hours(missing, "month 1", TELEMETRY_HOURS)
    assert "centre_id: non-nullable column 'centre_id' contains null" in str(failed.value)
    assert "failed validation greater_than_or_equal_to(1)" in str(failed.value)
    retyped = spark.createDataFrame([("GZ-001", hour, *[1.0] * len(MEASURES), 1)],
                                    columns.replace("samples bigint", "samples int"))
    with pytest.raises(SparkError, match="expected column 'samples' to have type LongType"):
        check_hours(retyped, "telemetry/bad.csv")
    with pytest.raises(SparkError, match="column 'extra' not in DataFrameSchema"):
        check_hours(good.withColumn("extra", good.samples), "telemetry/bad.csv")


def test_a_failure_of_spark_is_not_the_files(spark: SparkSession, tmp_path: Path) -> None:
    """Spark gone mid-run: the error fails the step (SparkError) rather than rejecting a
    good export for good, so the next run reads it again."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    export = open_export(_export(tmp_path, "site.csv", 2), scratch)
    spark.stop()
    with pytest.raises(SparkError, match=re.escape("Spark failed on telemetry/site.csv")):
        check_in_spark(spark, export, "telemetry/site.csv", tmp_path / "checked",
                       tmp_path / "hours")


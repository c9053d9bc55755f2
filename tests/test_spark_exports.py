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
from pipelines.ingest.export_opener import Checked
from pipelines.ingest.files import LandingFile, sha256_of
from pipelines.ingest.telemetry import ExportRejected
from pipelines.ingest.telemetry_readers import Export, ExportUnreadable, open_export
from pipelines.spark import SparkError
from pipelines.spark.lake import Lake
from pipelines.spark.session import spark_session
from pipelines.spark.telemetry import (
    ToCheck,
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


def _checked(spark: SparkSession, export: Export, file_name: str, folder: Path) -> Checked:
    """What `check_in_spark` makes of the export alone, its rows written in `folder`."""
    key = "0" * 64
    return check_in_spark(spark, [ToCheck(export, file_name, key)], folder / "checked",
                          folder / "hours")[key]


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
    checked = _checked(spark, export, "telemetry/site.jsonl", tmp_path)
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
    checked = _checked(spark, export, "telemetry/site.parquet", tmp_path)
    assert checked.rejection is None
    quoted = {(row.column_name, row.value) for row in spark.read.parquet(
        str(tmp_path / "checked")).selectExpr("inline(findings)").collect()}
    assert {value for column, value in quoted if column == "it_load_kw"} == {
        "-12345678.0", "-1.5e-07"}
    assert ("facility_load_kw", "-1.0") in quoted


def _register(spark: SparkSession, folder: Path, centres: tuple[str, ...] = ()) -> None:
    """A register of `centres` (ten racks each) in Spark's catalog, as the rules read it."""
    with Warehouse(path=str(folder / "census.duckdb")).writer() as con:
        for centre in centres:
            con.execute("INSERT INTO core.centre_register (centre_id, design_racks, "
                        "valid_from, is_current) VALUES (?, 10, DATE '2024-12-31', TRUE)",
                        [centre])
        Lake(folder / "lake", spark).copy_in(con, ["core.centre_register"])


def _three_layouts(folder: Path) -> list[Path]:
    """Exports of three layouts, each with something to find: commas and English names;
    semicolons, decimal commas, Chinese names and megawatts; Parquet's typed numbers."""
    folder.mkdir()
    (folder / "a.csv").write_text(
        f"{HEADER.rstrip()},cpu_util_pct\n"
        "DC1,2025-01-01T00:00:00Z,3,10,12,50\n"
        "DC1,2025-01-01T01:00:00Z,3,abc,12,50\n"
        "DC1,2025-01-01T01:30:00Z,3,10,12,150\n", encoding="utf-8")
    (folder / "b.csv").write_text(
        "数据中心编号;时间;在用机架数;IT负载(MW);总负载(MW);cpu_util_ratio\n"
        "DC2;2025-01-01T00:00:00Z;3;1,5;2,0;0,5\n"
        "DC2;2025-01-01T01:00:00Z;3;2,0;1,0;0,5\n"
        "DC2;2025-01-01T02:00:00Z;x;1,5;2,0;0,5\n", encoding="utf-8")
    pq.write_table(pa.table({
        "centre_id": ["DC3", "DC3"], "ts": ["2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z"],
        "racks_in_use": [1.0, 1.0], "it_load_kw": [2.0, -2.0],
        "facility_load_kw": [3.0, 3.0], "cpu_util_pct": [10.0, 10.0]}), folder / "c.parquet")
    return [folder / "a.csv", folder / "b.csv", folder / "c.parquet"]


def _to_check(path: Path, scratch: Path, key: str) -> ToCheck:
    """The landing file at `path` opened (its copies in a folder of `scratch`), to be
    checked under `key`."""
    (scratch / path.name).mkdir(parents=True)
    return ToCheck(open_export(path, scratch / path.name), f"telemetry/{path.name}", key)


def _lake_rows(spark: SparkSession, folder: Path) -> list[tuple]:
    return sorted(tuple(row) for row in spark.read.parquet(str(folder)).collect())


def test_exports_checked_together_are_checked_as_each_alone(spark: SparkSession,
                                                            tmp_path: Path) -> None:
    """Several exports in one plan: each row is read with its own file's decimal mark and
    unit factors, and its findings name its own file, row word and column: the rows and
    hours are those of each export checked alone."""
    _register(spark, tmp_path, ("DC1", "DC2", "DC3"))
    paths = _three_layouts(tmp_path / "landing")

    def check(name: str, paths: list[Path]) -> dict[str, Checked]:
        items = [_to_check(path, tmp_path / name / "scratch", path.name[0] * 64)
                 for path in paths]
        return check_in_spark(spark, items, tmp_path / name / "checked",
                              tmp_path / name / "hours")

    together = check("together", paths)
    alone: dict[str, Checked] = {}
    for path in paths:
        alone |= check(f"alone_{path.name}", [path])
    assert together == alone
    assert all(checked.rejection is None for checked in together.values())
    for what in ("checked", "hours"):
        assert _lake_rows(spark, tmp_path / "together" / what) == sorted(
            row for path in paths
            for row in _lake_rows(spark, tmp_path / f"alone_{path.name}" / what)), what
    findings = {(row.value, row.message) for row in spark.read.parquet(
        str(tmp_path / "together" / "checked")).selectExpr("inline(findings)").collect()}
    assert findings >= {
        ("abc", "telemetry/a.csv, line 3, column 'it_load_kw': not a number of an "
                "accepted form (unparseable)"),
        ("1,0", "telemetry/b.csv, line 3, column '总负载(MW)': facility load is below the "
                "IT load (inconsistent)"),
        ("-2.0", "telemetry/c.parquet, record 2, column 'it_load_kw': IT load must be 0 or "
                 "more (out_of_range)")}
    loads = {row.it_load_kw for row in spark.read.parquet(
        str(tmp_path / "together" / "checked")).where("centre_id = 'DC2'").collect()}
    assert loads == {1500.0, 2000.0}


def test_an_export_spark_cannot_read_rejects_only_itself(spark: SparkSession,
                                                         tmp_path: Path) -> None:
    """Checked with others, an export that is not what it says is rejected as it is
    alone, and the others are checked: a JSON line that is not JSON (found as its rows
    are counted) and a Parquet file whose data is damaged past its footer (found only as
    the exports' rows are checked together, when each is then checked alone)."""
    _register(spark, tmp_path)
    good = '{"centre_id": "GZ-001", "ts": "2025-01-01T00:00:00Z"}\n'
    (tmp_path / "site.jsonl").write_text(good * 1200 + '{"centre_id": \n', encoding="utf-8")
    rows = 2000
    pq.write_table(pa.table({"centre_id": [f"DC{n}" for n in range(rows)],
                             "ts": ["2025-01-01T00:00:00Z"] * rows,
                             **{m: [float(n) for n in range(rows)] for m in (
                                 "racks_in_use", "it_load_kw", "facility_load_kw",
                                 "cpu_util_pct")}}), tmp_path / "site.parquet")
    damaged = bytearray((tmp_path / "site.parquet").read_bytes())
    damaged[len(damaged) // 3:len(damaged) // 3 + 200] = b"\xff" * 200
    (tmp_path / "site.parquet").write_bytes(bytes(damaged))
    (tmp_path / "site.csv").write_text(
        f"{HEADER.rstrip()},cpu_util_pct\n"
        "DC1,2025-01-01T00:00:00Z,3,10,12,50\nDC1,2025-01-01T01:00:00Z,3,10,12,50\n",
        encoding="utf-8")
    items = [_to_check(path, tmp_path / "scratch", path.suffix[1] * 64) for path in (
        tmp_path / "site.jsonl", tmp_path / "site.parquet", tmp_path / "site.csv")]
    checked = check_in_spark(spark, items, tmp_path / "checked", tmp_path / "hours")
    assert isinstance(checked["j" * 64].rejection, ExportUnreadable)
    assert isinstance(checked["p" * 64].rejection, ExportUnreadable)
    assert str(checked["p" * 64].rejection).startswith("not readable as parquet (")
    assert checked["c" * 64] == Checked(2, sent_twice=False)
    assert len(_lake_rows(spark, tmp_path / "checked")) == 2
    assert not [row for f in tmp_path.glob("hours/*/*.parquet")  # DC1 is not registered
                for row in pq.read_table(f).to_pylist()]


def test_a_batch_of_rejected_exports_leaves_the_lake_as_it_was(spark: SparkSession,
                                                               tmp_path: Path) -> None:
    """Exports rejected whole (here, no column for the CPU utilisation) are reported, and
    no folder of theirs, nor of their batch, is left in the lake."""
    _register(spark, tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    path = _export(tmp_path, "site.csv", 2)
    file = LandingFile(path, "telemetry/site.csv", sha256_of(path))
    lake = Lake(tmp_path / "lake", spark)
    checked = lake.check_telemetry([(open_export(path, scratch), file)])
    assert isinstance(checked[path].rejection, ExportRejected)
    ingest = tmp_path / "lake" / "ingest"
    assert {p.relative_to(ingest) for p in ingest.rglob("*")} <= {
        Path("telemetry_checked"), Path("telemetry_hours")}  # their folders, empty


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
        _checked(spark, export, "telemetry/site.csv", tmp_path)


"""Each form the Spark dialect rewrites (pipelines/spark/dialect.py), run on DuckDB and on a
real Spark session: the same value, where sqlglot's own output would differ or fail."""

import datetime as dt
from collections.abc import Iterator

import duckdb
import pytest
from pyspark.sql import SparkSession

from pipelines.spark.dialect import to_spark
from pipelines.spark.session import spark_session
from pipelines.warehouse.migrations import create_china_time_macros


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    session = spark_session("local[1]", tmp_path_factory.mktemp("lake"))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    create_china_time_macros(connection, temporary=True)
    yield connection
    connection.close()


def _plain(value: object) -> object:
    """An instant as naive UTC (DuckDB gives it a zone, Spark none, in a UTC session)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


@pytest.mark.parametrize("sql, expected", [
    # a decimal quotient is a double, not six places
    ("SELECT CAST(1 AS DECIMAL(38, 12)) / 3 AS x", 1 / 3),
    ("SELECT sum(CAST(x AS DECIMAL(38, 12))) / count(x) AS x "
     "FROM (VALUES (1.0), (2.0), (2.0)) AS t(x)", 5 / 3),
    # quantile_cont interpolates between the nearest values
    ("SELECT quantile_cont(CAST(x AS DOUBLE), 0.95) AS x "
     "FROM (VALUES (1.0), (2.0), (10.0)) AS t(x)", 9.2),
    # list_sum: NULL for an empty list
    ("SELECT list_sum(CAST([] AS DOUBLE[])) AS x", None),
    ("SELECT list_sum([1.5, 2.5]) AS x", 4.0),
    # an interval of months keeps the month's last day
    ("SELECT CAST(DATE '2025-01-31' + to_months(1) AS DATE) AS x", dt.date(2025, 2, 28)),
    # the China-time macros, written out
    ("SELECT china_month_start('2025-03-01') AS x", dt.datetime(2025, 2, 28, 16)),
    ("SELECT china_month_end('2025-03-01') AS x", dt.datetime(2025, 3, 31, 16)),
    ("SELECT china_month(TIMESTAMPTZ '2025-02-28 16:30:00+00') AS x", dt.date(2025, 3, 1)),
    ("SELECT china_time(TIMESTAMPTZ '2025-02-28 15:30:00+00') AS x",
     dt.datetime(2025, 2, 28, 23, 30)),
    # the array's length, not a string's
    ("SELECT array_length(['a', 'b']) AS x", 2),
])
def test_spark_gives_duckdbs_value(sql: str, expected: object, spark: SparkSession,
                                   con: duckdb.DuckDBPyConnection) -> None:
    (from_duckdb,) = con.execute(sql).fetchone()
    (from_spark,) = spark.sql(to_spark(sql)).collect()[0]
    assert _plain(from_duckdb) == pytest.approx(expected, rel=1e-12) if isinstance(
        expected, float) else _plain(from_duckdb) == expected
    assert _plain(from_spark) == pytest.approx(expected, rel=1e-12) if isinstance(
        expected, float) else _plain(from_spark) == expected


def test_a_model_parameter_is_bound_as_a_literal() -> None:
    assert to_spark("SELECT CAST($month AS DATE) AS month", {"month": "2025-03-01"}) == (
        "SELECT CAST('2025-03-01' AS DATE) AS month")


def test_a_form_inside_another_is_rewritten_too() -> None:
    """A rewritten node's arguments are rewritten as well (sqlglot does not revisit them)."""
    spark_sql = to_spark("SELECT quantile_cont(a / (b / c), 0.5) AS x FROM t")
    assert spark_sql == ("SELECT PERCENTILE(CAST(a AS DOUBLE) / CAST((CAST(b AS DOUBLE) / "
                         "CAST(c AS DOUBLE)) AS DOUBLE), 0.5) AS x FROM t")

"""Each form the Spark dialect rewrites (pipelines/spark/dialect.py), run on DuckDB and on a
real Spark session: the same value, where sqlglot's own output would differ or fail; the
macros of the models and of the telemetry transforms written out."""

import datetime as dt
from collections.abc import Iterator

import duckdb
import pytest
from pyspark.sql import SparkSession

from pipelines.ingest.ingest_sql import create_forms
from pipelines.spark.dialect import to_spark
from pipelines.spark.session import spark_session
from pipelines.warehouse.macros import EXACT_SUM, create_macros


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    session = spark_session("local[1]", tmp_path_factory.mktemp("lake"))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    create_forms(connection)  # the telemetry forms, and the China-time macros they call
    create_macros(connection, (EXACT_SUM,), temporary=True)
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
    # the exact sum: the same in any order of addition; NULL for no values; of a CASE
    ("SELECT exact_sum(x) AS x FROM (VALUES (0.1), (0.2), (0.3)) AS t(x)", 0.6),
    ("SELECT exact_sum(CAST(x AS DOUBLE)) / count(x) AS x "
     "FROM (VALUES (1.0), (2.0), (2.0)) AS t(x)", 5 / 3),
    ("SELECT exact_sum(CASE WHEN x > 1 THEN x END) AS x FROM (VALUES (0.5), (1.5)) AS t(x)",
     1.5),
    ("SELECT exact_sum(CAST(x AS DOUBLE)) AS x FROM (VALUES (1.0)) AS t(x) WHERE x > 1", None),
    # quantile_cont interpolates between the nearest values
    ("SELECT quantile_cont(CAST(x AS DOUBLE), 0.95) AS x "
     "FROM (VALUES (1.0), (2.0), (10.0)) AS t(x)", 9.2),
    # list_sum: NULL for an empty list
    ("SELECT list_sum(CAST([] AS DOUBLE[])) AS x", None),
    ("SELECT list_sum([1.5, 2.5]) AS x", 4.0),
    # list_avg: NULLs left out, NULL for none; the sorted values of a group averaged
    ("SELECT list_avg([1.0, NULL, 2.0]) AS x", 1.5),
    ("SELECT list_avg(CAST([NULL] AS DOUBLE[])) AS x", None),
    ("SELECT list_avg(list_sort(list(x))) AS x FROM (VALUES (0.3), (0.1), (0.2)) AS t(x)",
     (0.1 + 0.2 + 0.3) / 3),
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
    # the forms of the telemetry transforms: a whole-text match, not a search
    ("SELECT regexp_full_match('2025-01-01x', '[0-9]{4}-[0-9]{2}-[0-9]{2}') AS x", False),
    ("SELECT regexp_full_match(chr(10) || '12', '[0-9]+') AS x", False),
    ("SELECT '2025-01-01T00:00:00Z' GLOB '[0-9][0-9][0-9][0-9]-*Z' AS x", True),
    ("SELECT '2025.01' GLOB '[0-9][0-9][0-9][0-9]-*' AS x", False),
    ("SELECT strlen('中') AS x", 3),  # bytes
    # microseconds since the epoch, as the on-the-hour test takes them
    ("SELECT epoch_us(TIMESTAMP '1970-01-01 01:00:00.000001') AS x", 3_600_000_001),
    ("SELECT isfinite(CAST('-inf' AS DOUBLE)) AS x", False),
    ("SELECT isfinite(CAST('nan' AS DOUBLE)) AS x", False),
    ("SELECT isfinite(1.5) AS x", True),
    ("SELECT contains('A' || chr(65533), chr(65533)) AS x", True),
    ("SELECT [1, 2, 3][-1] AS x", 3),
    ("SELECT [1, 2, 3][1] AS x", 1),
    ("SELECT CAST([] AS INTEGER[])[-1] AS x", None),
    ("SELECT [x * 10 FOR x IN [1, 2, 3] IF x > 1] AS x", [20, 30]),
    ("SELECT list(v ORDER BY k) AS x FROM (VALUES (2, 'b'), (1, 'a'), (3, 'c')) AS t(k, v)",
     ["a", "b", "c"]),
    ("SELECT format('{}, line {}: {} (100 %)', 'f.csv', 7, 'bad') AS x",
     "f.csv, line 7: bad (100 %)"),
    ("SELECT strftime(TIMESTAMP '2025-01-02 03:04:05.5', '%Y-%m-%dT%H:%M:%S.%f') AS x",
     "2025-01-02T03:04:05.500000"),
    ("SELECT timezone('UTC', make_timestamp(1735689600000000)) AS x", dt.datetime(2025, 1, 1)),
    ("SELECT telemetry_ts('2025-01-01 08:00') AS x", dt.datetime(2025, 1, 1)),
    ("SELECT telemetry_ts('2025-01-01T09:00:00+0100') AS x", dt.datetime(2025, 1, 1, 8)),
    ("SELECT telemetry_ts('1735689600000') AS x", dt.datetime(2025, 1, 1)),
    # 24:00 is the next day's 00:00; an offset to the minute; no offset past ±18:00
    ("SELECT telemetry_ts('2024-12-31T24:00:00Z') AS x", dt.datetime(2025, 1, 1)),
    ("SELECT telemetry_ts('2024-12-31T24:00+08:00') AS x", dt.datetime(2024, 12, 31, 16)),
    ("SELECT telemetry_ts('2024-12-31 24:00:00.000') AS x", dt.datetime(2024, 12, 31, 16)),
    ("SELECT telemetry_ts('2024-12-31T24:00:01Z') AS x", None),
    ("SELECT telemetry_ts('2025-01-01T08:00+0800') AS x", dt.datetime(2025, 1, 1)),
    ("SELECT telemetry_ts('2025-01-01 08:00+08') AS x", dt.datetime(2025, 1, 1)),
    ("SELECT telemetry_ts('2025-01-01 08:00:00.5+08') AS x",
     dt.datetime(2025, 1, 1, 0, 0, 0, 500000)),
    ("SELECT telemetry_ts('2025-01-01T18:00:00+18:00') AS x", dt.datetime(2025, 1, 1)),
    ("SELECT telemetry_ts('2025-01-01T19:00:00+19:00') AS x", None),
    ("SELECT telemetry_ts('2025-01-01T08:00:00+07:60') AS x", None),
    ("SELECT telemetry_number('1.234,5', FALSE) AS x", 1.2345),
    ("SELECT telemetry_number('1.234,5', TRUE) AS x", None),
    ("SELECT telemetry_number('1,234.5', FALSE) AS x", 1234.5),
    ("SELECT telemetry_number('12,5', TRUE) AS x", 12.5),
    ("SELECT telemetry_number('1_000', FALSE) AS x", None),
    ("SELECT telemetry_trim(chr(12288) || ' GZ-001' || chr(160)) AS x", "GZ-001"),
    # a number's text as DuckDB's cast reads it, not Java's
    ("SELECT try_cast(' 1.5E+3 ' AS DOUBLE) AS x", 1500.0),
    ("SELECT try_cast('.5' AS DOUBLE) AS x", 0.5),
    ("SELECT try_cast('-Infinity' AS DOUBLE) AS x", float("-inf")),
    ("SELECT try_cast('1d' AS DOUBLE) AS x", None),
    ("SELECT try_cast('2.5f' AS DOUBLE) AS x", None),
    ("SELECT try_cast('0x1p3' AS DOUBLE) AS x", None),
    ("SELECT telemetry_number('12d', FALSE) AS x", None),
    # a typed number's text (more in test_a_typed_numbers_text_is_duckdbs)
    ("SELECT telemetry_number_text(CAST(10000000.0 AS FLOAT)) AS x", "10000000.0"),
    # SQL text as written: a literal (a landing file's name) is not a template
    ("SELECT '${spark.app.name} ${env:HOME}' AS x", "${spark.app.name} ${env:HOME}"),
])
def test_spark_gives_duckdbs_value(sql: str, expected: object, spark: SparkSession,
                                   con: duckdb.DuckDBPyConnection) -> None:
    (from_duckdb,) = con.execute(sql).fetchone()
    (from_spark,) = spark.sql(to_spark(sql)).collect()[0]
    assert _plain(from_duckdb) == pytest.approx(expected, rel=1e-12) if isinstance(
        expected, float) else _plain(from_duckdb) == expected
    assert _plain(from_spark) == pytest.approx(expected, rel=1e-12) if isinstance(
        expected, float) else _plain(from_spark) == expected


def test_a_typed_numbers_text_is_duckdbs(spark: SparkSession,
                                        con: duckdb.DuckDBPyConnection) -> None:
    """A DOUBLE's text as DuckDB writes it (Python's repr) on both engines, not as Java
    writes it: plain from 0.0001 to below 10^16, else with an exponent."""
    texts = ("1e7", "-12345678.0", "123456789.123", "1e15", "1e16", "-1.5e16",
             "1.2345678901234568e17", "1e300", "0.0001", "0.00015", "-1.5e-7", "1e-5",
             "0.001", "100000.0", "2.5", "-0.0", "0.1", "NaN", "-Infinity")
    sql = ("SELECT telemetry_number_text(CAST(v AS DOUBLE)) AS x FROM (VALUES "
           + ", ".join(f"({n}, '{text}')" for n, text in enumerate(texts))
           + ") AS t(n, v) ORDER BY n")
    expected = [repr(float(text)) for text in texts]
    assert [x for (x,) in con.execute(sql).fetchall()] == expected
    assert [row.x for row in spark.sql(to_spark(sql)).collect()] == expected


def test_a_model_parameter_is_bound_as_a_literal() -> None:
    assert to_spark("SELECT CAST($month AS DATE) AS month", {"month": "2025-03-01"}) == (
        "SELECT CAST('2025-03-01' AS DATE) AS month")


def test_each_call_binds_its_own_parameters() -> None:
    """The SQL is transpiled once and shared: one call's values never reach another's
    (the months of one model, the file names of one layout's exports)."""
    sql = "SELECT CAST($month AS DATE) AS month, $file AS file, $required AS required"
    first = {"month": "2025-03-01", "file": "a.csv", "required": ["ts"]}
    second = {"month": "2025-04-01", "file": "b'.csv", "required": ["ts", "centre_id"]}
    assert to_spark(sql, first) == ("SELECT CAST('2025-03-01' AS DATE) AS month, "
                                    "'a.csv' AS file, ARRAY('ts') AS required")
    assert to_spark(sql, second) == ("SELECT CAST('2025-04-01' AS DATE) AS month, "
                                     "'b\\'.csv' AS file, ARRAY('ts', 'centre_id') AS required")
    assert to_spark(sql, first) == to_spark(sql, dict(first))


def test_a_form_inside_another_is_rewritten_too() -> None:
    """A rewritten node's arguments are rewritten as well (sqlglot does not revisit them)."""
    spark_sql = to_spark("SELECT quantile_cont(a / (b / c), 0.5) AS x FROM t")
    assert spark_sql == ("SELECT PERCENTILE(CAST(a AS DOUBLE) / CAST((CAST(b AS DOUBLE) / "
                         "CAST(c AS DOUBLE)) AS DOUBLE), 0.5) AS x FROM t")

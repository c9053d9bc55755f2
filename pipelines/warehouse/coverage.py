"""Telemetry coverage per month (China time) and centre."""

import duckdb

COVERAGE_TABLE = "core.telemetry_coverage"

# Parameter $month: the month's first day (a partition key).
MONTH_COVERAGE = """
    SELECT CAST($month AS DATE) AS month, centre_id,
           24 * day(last_day(CAST($month AS DATE))) AS hours_in_month,
           count(*) AS hours_reported,
           count(*) / (24 * day(last_day(CAST($month AS DATE)))) AS coverage,
           sum(samples) AS samples
    FROM core.telemetry_hourly
    WHERE hour_start >= china_month_start($month)
      AND hour_start < china_month_end($month)
    GROUP BY centre_id
"""


def rebuild_coverage(con: duckdb.DuckDBPyConnection, month: str, run_id: str) -> None:
    """Replace one month's coverage, recording the build in audit.model_builds (in the
    caller's transaction)."""
    con.execute(f"DELETE FROM {COVERAGE_TABLE} WHERE month = ?", [month])
    con.execute(f"INSERT INTO {COVERAGE_TABLE} {MONTH_COVERAGE}", {"month": month})
    con.execute("INSERT INTO audit.model_builds VALUES (?, CAST(? AS DATE), ?, now())",
                [COVERAGE_TABLE, month, run_id])


def month_summary(con: duckdb.DuckDBPyConnection, month: str) -> dict:
    """Rows, centres, coverage and rejected samples of one month, for the UI."""
    rows, centres, reporting, mean = con.execute(
        # the mean of an exact decimal sum: the same figure on every rebuild
        "SELECT coalesce(sum(hours_reported), 0), count(*), count(*) FILTER (coverage >= 0.5), "
        "coalesce(sum(CAST(coverage AS DECIMAL(38, 12))) / count(*), 0) "
        "FROM core.telemetry_coverage WHERE month = ?",
        [month]).fetchone()
    by_rule = dict(con.execute("""
        SELECT rule, count(*) FROM audit.quarantine
        WHERE starts_with(file_name, 'telemetry/') AND severity = 'error'
          AND resolved_at IS NULL AND observed_at IS NOT NULL
          AND observed_at >= china_month_start(?) AND observed_at < china_month_end(?)
        GROUP BY rule""", [month, month]).fetchall())
    preview = con.execute(
        "SELECT centre_id, hours_reported, coverage FROM core.telemetry_coverage "
        "WHERE month = ? ORDER BY coverage, centre_id LIMIT 10", [month]).pl()
    return {"rows": rows, "centres": centres, "centres_reporting": reporting,
            "mean_coverage": mean, "rejections": sum(by_rule.values()),
            "rejections_by_rule": by_rule, "preview": preview}

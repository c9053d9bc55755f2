"""The tables of the ministry summary export for one month, read from the warehouse
(contract §2.2). Every figure comes from the marts as stored; nothing is recomputed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from pipelines.export.labels import SUMMARY_ROWS, Format

RULES = ("missing", "unparseable", "out_of_range", "inconsistent", "unknown_code",
         "unknown_centre", "conflicting_duplicate", "check_digit", "implausible")


class NoDataForMonth(Exception):
    """The marts hold nothing for the month asked."""


@dataclass(frozen=True)
class Table:
    key: str  # CSV name stem
    sheet: str  # sheet name (contract §2.2)
    title_zh: str
    columns: tuple[str, ...]
    rows: list[tuple]
    row_formats: tuple[Format, ...] | None = None  # Summary: one format per row


@dataclass(frozen=True)
class Vintage:
    """What the figures rest on: the register version date, the last telemetry hour of
    the month (China time) and when the warehouse last loaded a file."""

    register_as_of: dt.date | None
    telemetry_through: str | None
    last_loaded_at: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"register_as_of": _iso(self.register_as_of),
                "telemetry_through_china_time": self.telemetry_through,
                "warehouse_last_loaded_utc": self.last_loaded_at}


_REGION_COLUMNS = (
    "centres_operating", "centres_reporting", "reporting_share", "design_racks",
    "racks_in_use", "rack_utilisation", "vacancy_rate", "power_utilisation", "pue",
    "compute_utilisation", "idle_share", "pipeline_racks", "pipeline_ratio",
    "racks_growth_12m", "demand_growth_12m", "threshold", "glut_flag", "glut_signals",
    "glut_score")
_REGION_SELECT = ", ".join(
    f"array_to_string(r.{c}, ', ') AS {c}" if c == "glut_signals" else f"r.{c}"
    for c in _REGION_COLUMNS)

_PROVINCES = f"""
    SELECT r.region_code, r.region_name_zh, r.region_name_en, p.hub_code, p.nbs_region,
           {_REGION_SELECT}
    FROM marts.region_monthly AS r
    JOIN core.dim_province AS p ON p.province_code = r.region_code
    WHERE r.month = $month AND r.level = 'province'
    ORDER BY r.region_code"""

_HUBS = f"""
    SELECT r.region_code, r.region_name_zh, r.region_name_en, h.side, {_REGION_SELECT}
    FROM marts.region_monthly AS r
    JOIN core.dim_hub AS h ON h.hub_code = r.region_code
    WHERE r.month = $month AND r.level = 'hub'
    ORDER BY h.side, r.region_code"""

# The operating centres of every province with a glut flag, most glutted province first
# and, inside it, the emptiest centre first: where the ministry should look.
_WATCHLIST = """
    SELECT r.region_code AS province_code, r.region_name_zh AS province_name_zh,
           r.region_name_en AS province_name_en, r.glut_score,
           array_to_string(r.glut_signals, ', ') AS glut_signals,
           c.centre_id, v.centre_name, v.operator_name, c.hub_code, c.status,
           c.design_racks, c.racks_in_use_avg, c.rack_utilisation, c.coverage, c.is_idle
    FROM marts.region_monthly AS r
    JOIN marts.centre_monthly AS c ON c.month = r.month AND c.province_code = r.region_code
    JOIN core.centre_register AS v ON v.centre_id = c.centre_id
     AND v.valid_from <= last_day($month) AND (v.valid_to IS NULL OR v.valid_to > last_day($month))
    WHERE r.month = $month AND r.level = 'province' AND r.glut_flag
    ORDER BY r.glut_score DESC, r.region_code, c.rack_utilisation NULLS FIRST, c.centre_id"""

_SURPLUS = """
    SELECT s.hub_code, h.name_zh AS region_name_zh, h.name_en AS region_name_en, s.side,
           s.centres_with_compute, s.sellable_pflops, s.rtt_ms_to_JJJ, s.rtt_ms_to_YRD,
           s.rtt_ms_to_GBA, s.rtt_ms_to_CY,
           array_to_string(s.reachable_east_hubs, ', ') AS reachable_east_hubs
    FROM marts.surplus_compute AS s
    JOIN core.dim_hub AS h USING (hub_code)
    WHERE s.month = $month
    ORDER BY s.side DESC, s.sellable_pflops DESC, s.hub_code"""

# Provinces and hubs of the month: when each clears at the current demand growth.
_OUTLOOK = """
    SELECT level, region_code, region_name_zh, region_name_en, rack_utilisation, threshold,
           demand_growth_12m, months_to_threshold, clears_by, utilisation_with_pipeline,
           months_to_absorb_pipeline
    FROM marts.glut_outlook
    WHERE month = $month AND level IN ('hub', 'province')
    ORDER BY level, region_code"""

# The month's licence findings, one row each, with the names the register gives.
_LICENCES = """
    SELECT f.finding, f.centre_id, v.centre_name, v.operator_name, f.province_code,
           p.name_zh AS province_name_zh, p.name_en AS province_name_en, f.hub_code,
           f.status, f.licence_no, f.licence_expires, f.hours_reported
    FROM marts.licence_findings AS f
    JOIN core.dim_province AS p USING (province_code)
    JOIN core.centre_register AS v ON v.centre_id = f.centre_id
     AND v.valid_from <= last_day($month) AND (v.valid_to IS NULL OR v.valid_to > last_day($month))
    WHERE f.month = $month
    ORDER BY f.finding, f.province_code, f.centre_id"""

# Open findings about the month: telemetry samples observed in it (China time), and the
# undated ones (register rows, unreadable timestamps), which stand until resolved. A
# finding belongs to the province its centre ID names; other findings to no province.
_DATA_QUALITY = f"""
    WITH findings AS (
        SELECT CASE WHEN regexp_matches(q.centre_id, '^DC[0-9]{{6}}-[0-9]{{4}}$')
                    THEN substr(q.centre_id, 3, 2) END AS province_code, q.rule
        FROM audit.quarantine AS q
        WHERE q.resolved_at IS NULL
          AND (q.observed_at IS NULL
               OR china_month(q.observed_at) = $month)),
    by_province AS (
        SELECT p.province_code AS key, {", ".join(
            f"count(*) FILTER (WHERE f.rule = '{rule}') AS {rule}" for rule in RULES)},
            count(*) AS findings
        FROM findings AS f LEFT JOIN core.dim_province AS p USING (province_code)
        GROUP BY ALL),
    centres AS (
        SELECT province_code AS key, count(*) AS centres_operating,
               count(*) FILTER (WHERE is_reporting) AS centres_reporting,
               sum(hours_reported) / sum(hours_in_month) AS coverage
        FROM marts.centre_monthly WHERE month = $month GROUP BY ALL)
    SELECT key AS province_code, coalesce(p.name_zh, '（未归属）') AS province_name_zh,
           coalesce(p.name_en, '(no province)') AS province_name_en,
           coalesce(c.centres_operating, 0) AS centres_operating,
           coalesce(c.centres_reporting, 0) AS centres_reporting, c.coverage,
           {", ".join(f"coalesce(q.{rule}, 0) AS {rule}" for rule in RULES)},
           coalesce(q.findings, 0) AS findings
    FROM centres AS c FULL JOIN by_province AS q USING (key)
    LEFT JOIN core.dim_province AS p ON p.province_code = key
    ORDER BY key NULLS LAST"""

# The files behind the month's figures: the register versions valid on its last day and
# the telemetry hours in it.
_SOURCES = """
    WITH used AS (
        SELECT DISTINCT source_file FROM core.centre_register
        WHERE valid_from <= last_day($month) AND (valid_to IS NULL OR valid_to > last_day($month))
        UNION
        SELECT DISTINCT source_file FROM core.telemetry_hourly
        WHERE hour_start >= china_month_start($month)
          AND hour_start < china_month_end($month))
    SELECT l.file_name, l.kind, l.sha256, l.rows_loaded,
           strftime(l.finished_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') AS loaded_at
    FROM audit.ingestion_log AS l JOIN used ON used.source_file = l.file_name
    WHERE l.status = 'loaded'
    ORDER BY l.kind, l.file_name, l.finished_at"""

_NATIONAL = f"""
    SELECT {_REGION_SELECT},
           (SELECT count(*) FROM marts.region_monthly
            WHERE month = $month AND level = 'province' AND glut_flag) AS provinces_glut,
           (SELECT count(*) FROM marts.region_monthly
            WHERE month = $month AND level = 'hub' AND glut_flag) AS hubs_glut,
           -- exact sums: the same bytes on every export of the same warehouse
           (SELECT coalesce(exact_sum(sellable_pflops), 0)
            FROM marts.surplus_compute
            WHERE month = $month AND side = 'west') AS sellable_pflops_west,
           (SELECT coalesce(exact_sum(sellable_pflops), 0)
            FROM marts.surplus_compute
            WHERE month = $month AND len(reachable_east_hubs) > 0) AS sellable_pflops_reachable
    FROM marts.region_monthly AS r
    WHERE r.month = $month AND r.level = 'national'"""


def read_tables(con: duckdb.DuckDBPyConnection, month: dt.date) -> list[Table]:
    """The export's tables for `month` (first day), in sheet order (About last).
    Raises NoDataForMonth when the marts hold nothing for it."""
    built = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                        "AND table_name = 'region_monthly'").fetchone()[0]
    if not built:  # no run has built a month yet: the models' tables are made with it
        raise NoDataForMonth(f"no data for {month:%Y-%m}: no month is built yet (census run "
                             "builds a month once telemetry for it loads); nothing exported")
    national = _query(con, _NATIONAL, month)
    if not national.rows:
        covered = con.execute("SELECT strftime(min(month), '%Y-%m'), strftime(max(month), "
                              "'%Y-%m') FROM marts.region_monthly").fetchone()
        held = f"the marts hold {covered[0]} to {covered[1]}" if covered[0] else \
            "the marts are empty"
        raise NoDataForMonth(f"no data for {month:%Y-%m}: {held}; nothing exported")
    figures = dict(zip(national.columns, national.rows[0], strict=True))
    summary = Table("summary", "Summary", "全国概要",
                    ("indicator", "indicator_zh", "indicator_en", "value"),
                    [(key, zh, en, figures[key]) for key, zh, en, _ in SUMMARY_ROWS],
                    row_formats=tuple(fmt for *_, fmt in SUMMARY_ROWS))
    return [
        summary,
        _table(con, "provinces", "Provinces", "各省份", _PROVINCES, month),
        _table(con, "hubs", "Hubs", "国家枢纽", _HUBS, month),
        _table(con, "glut_watchlist", "Glut watchlist", "过剩预警名单", _WATCHLIST, month),
        _table(con, "surplus_compute", "Surplus compute", "可售算力", _SURPLUS, month),
        _table(con, "outlook", "Outlook", "过剩消化展望", _OUTLOOK, month),
        _table(con, "licences", "Licences", "许可证问题", _LICENCES, month),
        _table(con, "data_quality", "Data quality", "数据质量", _DATA_QUALITY, month),
        _table(con, "source_files", "About", "说明与数据来源", _SOURCES, month),
    ]


def read_vintage(con: duckdb.DuckDBPyConnection, month: dt.date) -> Vintage:
    row = con.execute("""
        SELECT (SELECT max(valid_from) FROM core.centre_register
                WHERE valid_from <= last_day($month)),
               (SELECT strftime(china_time(max(hour_start)), '%Y-%m-%d %H:00')
                FROM core.telemetry_hourly
                WHERE hour_start >= china_month_start($month)
                  AND hour_start < china_month_end($month)),
               (SELECT strftime(max(finished_at) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')
                FROM audit.ingestion_log WHERE status = 'loaded')""",
                      {"month": month}).fetchone()
    return Vintage(*row)


def _table(con: duckdb.DuckDBPyConnection, key: str, sheet: str, title_zh: str, sql: str,
           month: dt.date) -> Table:
    result = _query(con, sql, month)
    return Table(key, sheet, title_zh, result.columns, result.rows)


@dataclass(frozen=True)
class _Result:
    columns: tuple[str, ...]
    rows: list[tuple]


def _query(con: duckdb.DuckDBPyConnection, sql: str, month: dt.date) -> _Result:
    cursor = con.execute(sql, {"month": month})
    return _Result(tuple(d[0] for d in cursor.description), cursor.fetchall())


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None

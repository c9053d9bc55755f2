"""The series the export's charts draw, read from the marts as stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Tile:
    """A province on the cartogram; figures are None where it has no operating centre."""

    province_code: str
    name_zh: str  # short name (四川), to fit a tile
    name_en: str
    rack_utilisation: float | None
    threshold: float | None
    glut_flag: bool


@dataclass(frozen=True)
class TrendPoint:
    month: dt.date
    region_code: str  # CN or a hub code
    name_zh: str
    name_en: str
    rack_utilisation: float | None
    threshold: float


def read_tiles(con: duckdb.DuckDBPyConnection, month: dt.date) -> list[Tile]:
    rows = con.execute("""
        SELECT p.province_code, p.name_short_zh, p.name_en, r.rack_utilisation, r.threshold,
               coalesce(r.glut_flag, FALSE)
        FROM core.dim_province AS p
        LEFT JOIN marts.region_monthly AS r
            ON r.region_code = p.province_code AND r.level = 'province' AND r.month = $month
        ORDER BY p.province_code""", {"month": month}).fetchall()
    return [Tile(*row) for row in rows]


def read_trend(con: duckdb.DuckDBPyConnection, month: dt.date) -> list[TrendPoint]:
    """National and per-hub rack utilisation over the twelve months ending with `month`."""
    rows = con.execute("""
        SELECT month, region_code, region_name_zh, region_name_en, rack_utilisation,
               threshold
        FROM marts.region_monthly
        WHERE level IN ('national', 'hub')
          AND month BETWEEN CAST($month - INTERVAL 11 MONTH AS DATE) AND $month
        ORDER BY level DESC, region_code, month""", {"month": month}).fetchall()
    return [TrendPoint(*row) for row in rows]

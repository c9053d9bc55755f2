"""Telemetry exports (contract §1.2): canonical columns with their aliases and units,
and the pandera row rules applied after parsing."""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from schemas.rules import Rule


@dataclass(frozen=True)
class TelemetryColumn:
    name: str
    required: bool
    # alias -> factor to the canonical unit (MW → kW × 1000, ratio → % × 100)
    aliases: dict[str, float]


TELEMETRY_COLUMNS: tuple[TelemetryColumn, ...] = (
    TelemetryColumn("centre_id", True, {"centre_id": 1, "dc_id": 1, "site_id": 1,
                                        "数据中心编号": 1}),
    TelemetryColumn("ts", True, {"ts": 1, "timestamp": 1, "time": 1, "时间": 1}),
    TelemetryColumn("racks_in_use", True, {"racks_in_use": 1, "racks_active": 1,
                                           "在用机架数": 1}),
    TelemetryColumn("it_load_kw", True, {"it_load_kw": 1, "it_kw": 1, "IT负载(kW)": 1,
                                         "it_load_mw": 1000, "IT负载(MW)": 1000}),
    TelemetryColumn("facility_load_kw", True, {"facility_load_kw": 1, "facility_kw": 1,
                                               "总负载(kW)": 1, "facility_load_mw": 1000,
                                               "总负载(MW)": 1000}),
    TelemetryColumn("cpu_util_pct", True, {"cpu_util_pct": 1, "cpu_util_ratio": 100}),
    TelemetryColumn("gpu_util_pct", False, {"gpu_util_pct": 1, "gpu_util_ratio": 100}),
    TelemetryColumn("compute_capacity_pflops", False, {"compute_capacity_pflops": 1,
                                                       "pflops_capacity": 1}),
    TelemetryColumn("compute_used_pflops", False, {"compute_used_pflops": 1, "pflops_used": 1}),
)
MEASURES = [c.name for c in TELEMETRY_COLUMNS if c.name not in ("centre_id", "ts")]
RACKS_HEADROOM = 1.1  # racks_in_use may exceed design_racks by 10 %


def _rule(rule: Rule, expr: pl.Expr) -> pa.Check:
    """A row rule; nulls pass (a missing required value is its own finding)."""
    return pa.Check(lambda data: data.lazyframe.select(expr.fill_null(True)), name=str(rule))


_col = pl.col

TELEMETRY_ROW_RULES = pa.DataFrameSchema(
    {
        "racks_in_use": pa.Column(pl.Float64, nullable=True, checks=[
            _rule(Rule.OUT_OF_RANGE, _col("racks_in_use") >= 0),
            _rule(Rule.OUT_OF_RANGE,
                  _col("racks_in_use") <= RACKS_HEADROOM * _col("design_racks")),
        ]),
        "it_load_kw": pa.Column(pl.Float64, nullable=True, checks=_rule(
            Rule.OUT_OF_RANGE, _col("it_load_kw") >= 0)),
        "facility_load_kw": pa.Column(pl.Float64, nullable=True, checks=_rule(
            Rule.INCONSISTENT, _col("facility_load_kw") >= _col("it_load_kw"))),
        "cpu_util_pct": pa.Column(pl.Float64, nullable=True, checks=_rule(
            Rule.OUT_OF_RANGE, _col("cpu_util_pct").is_between(0, 100))),
        "gpu_util_pct": pa.Column(pl.Float64, nullable=True, checks=_rule(
            Rule.OUT_OF_RANGE, _col("gpu_util_pct").is_between(0, 100))),
        "compute_capacity_pflops": pa.Column(pl.Float64, nullable=True, checks=_rule(
            Rule.OUT_OF_RANGE, _col("compute_capacity_pflops") >= 0)),
        "compute_used_pflops": pa.Column(pl.Float64, nullable=True, checks=[
            _rule(Rule.OUT_OF_RANGE, _col("compute_used_pflops") >= 0),
            _rule(Rule.INCONSISTENT,
                  _col("compute_used_pflops") <= _col("compute_capacity_pflops")),
        ]),
    },
    name="telemetry_row_rules",
)

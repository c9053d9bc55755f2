"""Telemetry exports (contract §1.2): canonical columns with their aliases and units.
The value forms and row rules are SQL the engine runs (dbt_like_sql/ingest/)."""

from __future__ import annotations

from dataclasses import dataclass


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

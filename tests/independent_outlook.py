"""The glut outlook, compute matching and licence findings of contract §3 computed
independently, in plain Python and polars, from the generator's ground truth (and the
independent region and surplus figures of tests.independent)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl

from tests import independent

EAST_HUBS = ("JJJ", "YRD", "GBA", "CY")


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _months_after(month: dt.date, months: int) -> dt.date:
    year, index = divmod(month.month - 1 + months, 12)
    return dt.date(month.year + year, index + 1, 1)


def horizon(u: float | None, threshold: float, d: float | None) -> int | None:
    """Months until utilisation u reaches the threshold growing by d a year."""
    if u is None:
        return None
    if u >= threshold:
        return 0
    if u == 0 or d is None or d <= 0:
        return None
    months = math.ceil(12 * math.log(threshold / u) / math.log(1 + d))
    return months if months <= 240 else None


def glut_outlook(generated: Path) -> pl.DataFrame:
    rows = []
    for r in independent.region_monthly(generated).iter_rows(named=True):
        u, t, d = r["rack_utilisation"], r["threshold"], r["demand_growth_12m"]
        total = r["design_racks"] + r["pipeline_racks"]
        with_pipeline = None if u is None or not total else u * r["design_racks"] / total
        months = horizon(u, t, d)
        rows.append({
            **{k: r[k] for k in ("month", "level", "region_code", "region_name_en",
                                 "region_name_zh", "rack_utilisation", "threshold",
                                 "demand_growth_12m", "design_racks", "pipeline_racks")},
            "months_to_threshold": months,
            "clears_by": None if months is None else _months_after(r["month"], months),
            "utilisation_with_pipeline": with_pipeline,
            "months_to_absorb_pipeline": horizon(with_pipeline, t, d),
        })
    return pl.DataFrame(rows, infer_schema_length=None).sort("month", "level", "region_code")


def hub_excess(generated: Path) -> dict[tuple[dt.date, str], float]:
    """Per (month, hub): the sum over its reporting centres with compute telemetry of
    max(0, p95 hourly compute used - 0.9 x mean compute capacity)."""
    both = (pl.col("compute_capacity_pflops").is_not_null()
            & pl.col("compute_used_pflops").is_not_null())
    compute = independent.truth_hours(generated).filter(both).group_by(
        "centre_id", "month").agg(
        capacity=pl.col("compute_capacity_pflops").mean(),
        used_p95=pl.col("compute_used_pflops").quantile(0.95, "linear"))
    centres = independent.centre_monthly(generated).filter(
        pl.col("is_reporting") & pl.col("hub_code").is_not_null())
    excess: dict[tuple[dt.date, str], float] = {}
    for r in centres.join(compute, on=["centre_id", "month"]).iter_rows(named=True):
        key = (r["month"], r["hub_code"])
        excess[key] = excess.get(key, 0.0) + max(0.0, r["used_p95"] - 0.9 * r["capacity"])
    return excess


def compute_matching(generated: Path) -> pl.DataFrame:
    excess = hub_excess(generated)
    surplus = independent.surplus_compute(generated)
    rows = []
    for month in sorted(set(surplus["month"])):
        hubs = {r["hub_code"]: r for r in surplus.filter(month=month).iter_rows(named=True)}
        left = {h: r["sellable_pflops"] for h, r in hubs.items()}
        demanders = sorted(((excess.get((month, h), 0.0), h) for h in hubs
                            if hubs[h]["side"] == "east" and excess.get((month, h), 0.0) > 0),
                           key=lambda pair: (-pair[0], pair[1]))
        for need_total, east in demanders:
            need = need_total
            suppliers = sorted((hubs[s][f"rtt_ms_to_{east}"], s) for s in hubs
                               if s != east and east in hubs[s]["reachable_east_hubs"])
            for rtt, supplier in suppliers:
                taken = min(need, left[supplier])
                if taken > 0:
                    rows.append((month, east, supplier, rtt, taken, need_total))
                    left[supplier] -= taken
                    need -= taken
            # Met exactly, less the rounding of the subtractions above.
            if need > 1e-9 * need_total:
                rows.append((month, east, None, None, need, need_total))
    schema = {"month": pl.Date, "east_hub": pl.String, "supplier_hub": pl.String,
              "rtt_ms": pl.Float64, "pflops": pl.Float64, "east_excess_pflops": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row").sort(
        "month", "east_hub", "supplier_hub", nulls_last=True)


def licence_findings(generated: Path) -> pl.DataFrame:
    register = independent.truth_register(generated).with_columns(
        pl.col("licence_expires").str.to_date())
    hours = independent.truth_hours(generated).group_by("centre_id", "month").agg(
        hours_reported=pl.len())
    rows = []
    for month in sorted(set(independent.centre_monthly(generated)["month"])):
        end = _month_end(month)
        reported = {c: n for c, n in hours.filter(month=month).select(
            "centre_id", "hours_reported").iter_rows()}
        state = register.filter((pl.col("valid_from") <= end)
                                & (pl.col("valid_to").is_null() | (pl.col("valid_to") > end)))
        for c in state.iter_rows(named=True):
            operating = c["status"] == "operating"
            in_operation = operating and (c["commissioned"] is None or c["commissioned"] <= end)
            hours_reported = reported.get(c["centre_id"], 0)
            found = [name for name, holds in (
                ("expired_licence", operating and c["licence_expires"] < end),
                ("no_licence", operating and not (c["licence_no"] or "").strip()),
                ("reporting_while_not_operating", not in_operation and hours_reported >= 24),
            ) if holds]
            rows += [{"month": month, "centre_id": c["centre_id"], "finding": finding,
                      "province_code": c["province_code"], "hub_code": c["hub_code"],
                      "licence_no": c["licence_no"], "licence_expires": c["licence_expires"],
                      "status": c["status"], "hours_reported": hours_reported}
                     for finding in found]
    return pl.DataFrame(rows, infer_schema_length=None).sort("month", "centre_id", "finding")

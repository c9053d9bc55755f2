"""The indicators of contract §3 computed independently, in polars, from the
generator's ground truth and the reference CSVs: what the marts are compared against.
It imports nothing of the pipeline (test_oracle.py checks): every formula is written
again here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"


def truth(generated: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(generated / "_truth" / f"{name}.csv", infer_schema=False)


def _dates(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).str.to_date() for c in columns)


def truth_register(generated: Path) -> pl.DataFrame:
    versions = truth(generated, "register_versions")
    return _dates(versions, "valid_from", "valid_to", "commissioned").with_columns(
        pl.col("design_racks").cast(pl.Int64), pl.col("design_it_kw").cast(pl.Float64))


def truth_hours(generated: Path) -> pl.DataFrame:
    hours = pl.read_parquet(generated / "_truth" / "telemetry_hourly.parquet")
    return hours.with_columns(month=pl.col("hour_start").dt.convert_time_zone("Asia/Shanghai")
                              .dt.truncate("1mo").dt.date())


def centre_monthly(generated: Path) -> pl.DataFrame:
    register, hours = truth_register(generated), truth_hours(generated)
    months = pl.date_range(hours["month"].min(), hours["month"].max(), "1mo", eager=True)
    frames = []
    for month in months:
        end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        operating = register.filter(
            (pl.col("valid_from") <= end)
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") > end))
            & (pl.col("status") == "operating")
            & (pl.col("commissioned").is_null() | (pl.col("commissioned") <= end)))
        both = pl.col("compute_capacity_pflops").is_not_null() & \
            pl.col("compute_used_pflops").is_not_null()
        telemetry = hours.filter(month=month).group_by("centre_id").agg(
            hours_reported=pl.len(),
            racks_in_use_avg=pl.col("racks_in_use").mean(),
            it_load_kw_avg=pl.col("it_load_kw").mean(),
            it_load_kw_p95=pl.col("it_load_kw").quantile(0.95, "linear"),
            facility=pl.col("facility_load_kw").sum(), it=pl.col("it_load_kw").sum(),
            used=pl.col("compute_used_pflops").filter(both).sum(),
            capacity=pl.col("compute_capacity_pflops").filter(both).sum(),
        )
        hours_in_month = 24 * end.day
        frames.append(operating.join(telemetry, on="centre_id", how="left").select(
            month=pl.lit(month), centre_id="centre_id", province_code="province_code",
            hub_code="hub_code", status="status", design_racks="design_racks",
            design_it_kw="design_it_kw", hours_in_month=pl.lit(hours_in_month, pl.Int64),
            hours_reported=pl.col("hours_reported").fill_null(0).cast(pl.Int64),
            coverage=pl.col("hours_reported").fill_null(0) / hours_in_month,
            is_reporting=pl.col("hours_reported").fill_null(0) / hours_in_month >= 0.5,
            racks_in_use_avg="racks_in_use_avg",
            rack_utilisation=_ratio(pl.col("racks_in_use_avg"), pl.col("design_racks")),
            it_load_kw_avg="it_load_kw_avg", it_load_kw_p95="it_load_kw_p95",
            power_utilisation=_ratio(pl.col("it_load_kw_avg"), pl.col("design_it_kw")),
            pue=_ratio(pl.col("facility"), pl.col("it")),
            compute_utilisation=_ratio(pl.col("used"), pl.col("capacity")),
            is_idle=(_ratio(pl.col("racks_in_use_avg"), pl.col("design_racks")) < 0.30)
            .fill_null(False),
        ))
    return pl.concat(frames).sort("month", "centre_id")


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """A figure whose denominator is 0 or null is null (contract §3)."""
    return pl.when(denominator != 0).then(numerator / denominator)


NBS_NAMES = {"east": ("East", "东部"), "central": ("Central", "中部"),
             "west": ("West", "西部"), "northeast": ("Northeast", "东北")}
SIGNALS = ("low_utilisation", "supply_outpacing", "idle_centres", "heavy_pipeline")


def _reference() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Provinces with their hub (hubs.csv lists each hub's provinces), and the hubs."""
    provinces = pl.read_csv(REFERENCE / "provinces.csv", infer_schema=False)
    hubs = pl.read_csv(REFERENCE / "hubs.csv", infer_schema=False)
    hub_of = hubs.select("hub_code", province_code=pl.col("provinces").str.split(";")
                         ).explode("province_code")
    return provinces.join(hub_of, on="province_code", how="left"), hubs


def _memberships(frame: pl.DataFrame, provinces: pl.DataFrame) -> pl.DataFrame:
    """Each centre row once per region it counts in: nation, NBS region, hub, province."""
    with_region = frame.join(provinces.select("province_code", "nbs_region"),
                             on="province_code")
    parts = [with_region.with_columns(level=pl.lit("national"), region_code=pl.lit("CN")),
             with_region.with_columns(level=pl.lit("nbs_region"),
                                      region_code=pl.col("nbs_region")),
             with_region.filter(pl.col("hub_code").is_not_null()).with_columns(
                 level=pl.lit("hub"), region_code=pl.col("hub_code")),
             with_region.with_columns(level=pl.lit("province"),
                                      region_code=pl.col("province_code"))]
    return pl.concat(parts)


def _centre_sums(generated: Path) -> pl.DataFrame:
    hours = truth_hours(generated)
    both = pl.col("compute_capacity_pflops").is_not_null() & \
        pl.col("compute_used_pflops").is_not_null()
    return hours.group_by("centre_id", "month").agg(
        facility=pl.col("facility_load_kw").sum(), it=pl.col("it_load_kw").sum(),
        used=pl.col("compute_used_pflops").filter(both).sum(),
        capacity=pl.col("compute_capacity_pflops").filter(both).sum(),
        compute_hours=both.sum(),
        capacity_avg=pl.col("compute_capacity_pflops").filter(both).mean(),
        used_p95=pl.col("compute_used_pflops").filter(both).quantile(0.95, "linear"))


def region_monthly(generated: Path) -> pl.DataFrame:
    provinces, hubs = _reference()
    centres = centre_monthly(generated).join(_centre_sums(generated),
                                             on=["centre_id", "month"], how="left")
    register = truth_register(generated)
    rows = []
    months = sorted(set(centres["month"]))
    by_month = {m: _region_figures(_memberships(centres.filter(month=m), provinces))
                for m in months}
    for month in months:
        end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        state = register.filter((pl.col("valid_from") <= end)
                                & (pl.col("valid_to").is_null() | (pl.col("valid_to") > end)))
        pipeline = _memberships(state.filter(status="construction"), provinces).group_by(
            "level", "region_code").agg(pipeline_racks=pl.col("design_racks").sum())
        year_ago = by_month.get(month.replace(year=month.year - 1))
        for figures in by_month[month].join(pipeline, on=["level", "region_code"],
                                            how="left").iter_rows(named=True):
            before = None  # m - 12 has no data
            if year_ago is not None:  # a region with no centres then sums to 0
                earlier = year_ago.filter(level=figures["level"],
                                          region_code=figures["region_code"])
                before = (earlier.row(0, named=True) if earlier.height
                          else {"design_racks": 0, "racks_in_use": 0})
            rows.append(_region_row(month, figures, before, provinces, hubs))
    return pl.DataFrame(rows, infer_schema_length=None).sort("month", "level", "region_code")


def _region_figures(members: pl.DataFrame) -> pl.DataFrame:
    reporting = pl.col("is_reporting")
    return members.group_by("level", "region_code").agg(
        centres_operating=pl.len(), centres_reporting=reporting.sum(),
        design_racks=pl.col("design_racks").sum(),
        racks_in_use=pl.col("racks_in_use_avg").filter(reporting).sum(),
        reporting_design=pl.col("design_racks").filter(reporting).sum(),
        reporting_it=pl.col("it_load_kw_avg").filter(reporting).sum(),
        reporting_design_it=pl.col("design_it_kw").filter(reporting).sum(),
        facility=pl.col("facility").filter(reporting).sum(),
        it=pl.col("it").filter(reporting).sum(),
        used=pl.col("used").filter(reporting).sum(),
        capacity=pl.col("capacity").filter(reporting).sum(),
        idle=(reporting & pl.col("is_idle")).sum())


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _clamp(x: float | None) -> float:
    return 0.0 if x is None else min(max(x, 0.0), 1.0)


def _region_row(month: dt.date, f: dict, before: dict | None, provinces: pl.DataFrame,
                hubs: pl.DataFrame) -> dict:
    level, code = f["level"], f["region_code"]
    if level == "national":
        name_en, name_zh = "China", "全国"
    elif level == "nbs_region":
        name_en, name_zh = NBS_NAMES[code]
    else:
        table, key = (hubs, "hub_code") if level == "hub" else (provinces, "province_code")
        name_en, name_zh = table.filter(pl.col(key) == code).select("name_en", "name_zh").row(0)
    hub_province = level == "province" and provinces.filter(
        province_code=code)["hub_code"].item() is not None
    threshold = 0.65 if level == "hub" or hub_province else 0.60
    utilisation = _div(f["racks_in_use"], f["reporting_design"] if f["centres_reporting"]
                       else None)
    idle_share = _div(f["idle"], f["centres_reporting"])
    pipeline_racks = f["pipeline_racks"] or 0
    pipeline_ratio = _div(pipeline_racks, f["racks_in_use"])
    growth = demand = None
    if before is not None:
        growth = None if not before["design_racks"] else \
            f["design_racks"] / before["design_racks"] - 1
        demand = None if not before["racks_in_use"] else \
            f["racks_in_use"] / before["racks_in_use"] - 1
    gap = None if growth is None or demand is None else growth - demand
    holds = [utilisation is not None and utilisation < threshold,
             gap is not None and gap > 0.10,
             idle_share is not None and idle_share > 0.30,
             pipeline_ratio is not None and pipeline_ratio > 0.25]
    signals = [name for name, hold in zip(SIGNALS, holds, strict=True) if hold]
    return {
        "month": month, "level": level, "region_code": code, "region_name_en": name_en,
        "region_name_zh": name_zh, "centres_operating": f["centres_operating"],
        "centres_reporting": f["centres_reporting"],
        "reporting_share": f["centres_reporting"] / f["centres_operating"],
        "design_racks": f["design_racks"], "racks_in_use": f["racks_in_use"],
        "rack_utilisation": utilisation,
        "vacancy_rate": None if utilisation is None else 1 - utilisation,
        "power_utilisation": _div(f["reporting_it"], f["reporting_design_it"]
                                  if f["centres_reporting"] else None),
        "pue": _div(f["facility"], f["it"]), "compute_utilisation": _div(f["used"], f["capacity"]),
        "idle_share": idle_share, "pipeline_racks": pipeline_racks,
        "pipeline_ratio": pipeline_ratio, "racks_growth_12m": growth,
        "demand_growth_12m": demand, "threshold": threshold,
        "glut_flag": len(signals) >= 2, "glut_signals": signals,
        "glut_score": (_clamp(None if utilisation is None else
                              (threshold - utilisation) / threshold)
                       + _clamp(None if gap is None else gap / 0.5)
                       + _clamp(idle_share) + _clamp(pipeline_ratio)) / 4,
    }


def surplus_compute(generated: Path) -> pl.DataFrame:
    import math

    _, hubs = _reference()
    centres = centre_monthly(generated).join(_centre_sums(generated),
                                             on=["centre_id", "month"], how="left")
    points = {r["hub_code"]: (float(r["ref_lat"]), float(r["ref_lon"]), r["side"])
              for r in hubs.iter_rows(named=True)}

    def rtt(a: str, b: str) -> float:
        (la1, lo1, _), (la2, lo2, _) = points[a], points[b]
        p1, p2 = math.radians(la1), math.radians(la2)
        h = (math.sin(math.radians(la2 - la1) / 2) ** 2
             + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lo2 - lo1) / 2) ** 2)
        return 2 * 1.5 * 2 * 6371 * math.asin(math.sqrt(h)) * 0.005

    east = sorted(h for h, (_, _, side) in points.items() if side == "east")
    rows = []
    for month in sorted(set(centres["month"])):
        sellers = centres.filter(month=month, is_reporting=True).filter(
            pl.col("hub_code").is_not_null() & (pl.col("compute_hours") > 0))
        for hub in sorted(points):
            mine = sellers.filter(hub_code=hub)
            sellable = sum(max(0.0, 0.9 * r["capacity_avg"] - r["used_p95"])
                           for r in mine.iter_rows(named=True))
            rows.append({
                "month": month, "hub_code": hub, "side": points[hub][2],
                "centres_with_compute": mine.height, "sellable_pflops": sellable,
                **{f"rtt_ms_to_{e}": rtt(hub, e) for e in ("JJJ", "YRD", "GBA", "CY")},
                "reachable_east_hubs": [e for e in east if e == hub or rtt(hub, e) <= 20],
            })
    return pl.DataFrame(rows).sort("month", "hub_code")

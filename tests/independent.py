"""The indicators of contract §3 computed independently, in polars, from the
generator's ground truth: what the marts are compared against."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from tests.conftest import truth


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

"""The hours on the Spark engine (real Spark, local mode, in this process): each export's
hours made by Spark, and the lake's month-partitioned core.telemetry_hourly merged by
Spark from the loads in their order: a restatement's hours win, a centre's pending
samples join once it is registered, and the lake's months equal the warehouse's."""

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.defs.resources import Warehouse
from pipelines.spark.lake import HOURLY, Lake, table_folder
from pipelines.spark.session import spark_session
from tests.compare import written_by_spark
from tests.conftest import Census, copy_into, late_centre, truth

COLUMNS = ["centre_id", "hour_start", "racks_in_use", "it_load_kw", "facility_load_kw",
           "cpu_util_pct", "gpu_util_pct", "compute_capacity_pflops", "compute_used_pflops",
           "samples", "source_file"]


def _lake_hours(lake: Path) -> pl.DataFrame:
    folder = table_folder(lake, HOURLY)
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT {', '.join(COLUMNS)} FROM read_parquet(?, "
                           "hive_partitioning = true) ORDER BY centre_id, hour_start",
                           [str(folder / "month=*" / "*.parquet")]).pl()
    finally:
        con.close()


def _warehouse_hours(census: Census) -> pl.DataFrame:
    with Warehouse(path=str(census.warehouse)).build_reader() as con:
        return con.execute(f"SELECT {', '.join(COLUMNS)} FROM {HOURLY} "
                           "ORDER BY centre_id, hour_start").pl()


def _merged(census: Census, lake: Path) -> pl.DataFrame:
    """The lake's hours after Spark merged the warehouse's loads into it."""
    with Warehouse(path=str(census.warehouse)).writer() as con:
        Lake(lake, spark_session("local[1]", lake)).merge_hours(con)
    return _lake_hours(lake)


@pytest.mark.slow
def test_the_lakes_hours_are_sparks_merge_of_the_loads(
        census: Census, generated: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    lake = tmp_path / "lake"
    for name, value in {"CENSUS_ENGINE": "spark", "CENSUS_SPARK_MASTER": "local[1]",
                        "CENSUS_LAKE_DIR": str(lake)}.items():
        monkeypatch.setenv(name, value)
    centre, expected = late_centre(generated)
    versions = truth(generated, "register_versions")
    workbook = versions.filter(centre_id=centre)["source_file"][0]
    province = Path(workbook).stem.rsplit("_", 1)[0]
    early = sorted({generated / f for f in versions.filter(
        pl.col("valid_from") < "2025-06-30")["source_file"]})
    registered = {path.stem.rsplit("_", 1)[0] for path in early}
    # Two months of the centre's province, and a month of a province registered early.
    exports = [*sorted((generated / "telemetry").glob(f"{province}_*"))[:2],
               next(path for path in sorted((generated / "telemetry").iterdir())
                    if path.name.split(".")[0].rsplit("_", 1)[0] in registered)]
    for path in [*exports, *early]:
        copy_into(path, census, folder="telemetry" if path in exports else "licensing")
    assert census.ingest().success
    # Spark made each export's hours.
    hours = lake / "ingest" / "telemetry_hours"
    assert len(list(hours.glob("sha256=*"))) == len(exports)
    assert written_by_spark(list(hours.glob("*/*.parquet")))
    first = _merged(census, lake)
    assert_frame_equal(first, _warehouse_hours(census))
    assert first.filter(centre_id=centre).height == 0  # its samples wait for its register row

    # A later export restating an hour loaded, and the centre registered.
    other, hour = first.row(0)[:2]
    restated = census.landing / "telemetry" / "zz_restated.csv"
    restated.write_text("centre_id,ts,racks_in_use,it_load_kw,facility_load_kw,cpu_util_pct\n"
                        f"{other},{hour.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ},1,2,3,4\n",
                        encoding="utf-8")
    for path in (generated / "licensing").iterdir():
        if path not in early:
            copy_into(path, census)
    assert census.ingest().success
    second = _merged(census, lake)
    assert_frame_equal(second, _warehouse_hours(census))
    # The centre's hours, as the generator made them.
    naive = pl.col("hour_start").dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    got = second.filter(centre_id=centre).with_columns(naive).join(
        expected.with_columns(naive), on="hour_start", suffix="_expected")
    assert got.height > 0
    assert ((got["it_load_kw"] - got["it_load_kw_expected"]).abs()
            <= 1e-9 * got["it_load_kw_expected"].abs()).all()
    assert second.filter(source_file="telemetry/zz_restated.csv").select(
        "centre_id", "hour_start", "racks_in_use").rows() == [(other, hour, 1.0)]
    assert list((lake / "ingest" / "telemetry_resolved").glob("run_id=*/file=*/*.parquet"))
    months = sorted(p.name for p in table_folder(lake, HOURLY).glob("month=*/_SUCCESS"))
    assert months, "each month written by Spark, with its commit marker"


@pytest.mark.slow
def test_months_the_embedded_engine_loaded_are_copied(two_months: Census,
                                                      tmp_path: Path) -> None:
    """Hours loaded before a switch of engines have no hours of Spark's in the lake: their
    months are the warehouse's, copied, and listed with their loads."""
    lake = tmp_path / "lake"
    con = duckdb.connect(str(two_months.warehouse), read_only=True)
    try:
        Lake(lake, spark_session("local[1]", lake)).merge_hours(con)
        months = [str(m) for (m,) in con.execute(
            "SELECT DISTINCT month FROM audit.telemetry_loads ORDER BY 1").fetchall()]
        held = con.execute(f"SELECT {', '.join(COLUMNS)} FROM {HOURLY} "
                           "ORDER BY centre_id, hour_start").pl()
    finally:
        con.close()
    folder = table_folder(lake, HOURLY)
    assert sorted(p.name for p in folder.glob("month=*")) == [f"month={m}" for m in months]
    assert all((folder / f"month={m}" / "_census_loads.json").exists() for m in months)
    assert_frame_equal(_lake_hours(lake), held)

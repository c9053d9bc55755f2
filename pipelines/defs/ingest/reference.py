"""Reference dimensions: provinces, hubs and clusters into core.dim_*."""


import polars as pl
from dagster import AssetSpec, MaterializeResult, multi_asset

from pipelines.defs.metadata import markdown_preview
from pipelines.defs.owners import ENGINEERS
from pipelines.defs.resources import ReferenceData, Warehouse
from pipelines.reference import Reference
from pipelines.settings import WAREHOUSE_POOL
from pipelines.warehouse.tables import insert_frame

DIMENSIONS = ("dim_province", "dim_hub", "dim_cluster")


def dimension_frames(reference: Reference) -> dict[str, pl.DataFrame]:
    """The core.dim_* tables from the reference CSVs."""
    hub_of = reference.hub_of_province
    return {
        "dim_province": reference.provinces.select(
            "province_code", "name_zh", "name_short_zh", "name_en", "nbs_region",
            hub_code=pl.col("province_code").replace_strict(hub_of, default=None)),
        "dim_hub": reference.hubs.select(
            "hub_code", "name_zh", "name_en", "side", "ref_city",
            pl.col("ref_lat").cast(pl.Float64), pl.col("ref_lon").cast(pl.Float64)),
        "dim_cluster": reference.clusters.select(
            "cluster_code", "name_zh", "name_en", "hub_code",
            province_codes=pl.col("province_code").str.split(";")),
    }


@multi_asset(
    specs=[AssetSpec(["core", name], group_name="ingest", kinds={"duckdb", "csv"},
                     owners=[ENGINEERS],
                     description=f"core.{name}: reference facts from data/reference/")
           for name in DIMENSIONS],
    pool=WAREHOUSE_POOL,
)
def reference_dimensions(warehouse: Warehouse,
                         reference: ReferenceData):
    frames = dimension_frames(reference.load())
    with warehouse.writer() as con:
        con.execute("BEGIN TRANSACTION")
        for name in DIMENSIONS:  # the table names from the code, not from the frames
            con.execute(f"DELETE FROM core.{name}")
            insert_frame(con, f"core.{name}", frames[name])
        con.execute("COMMIT")
    for name in DIMENSIONS:
        yield MaterializeResult(asset_key=["core", name], metadata={
            "dagster/row_count": frames[name].height, "preview": markdown_preview(frames[name])})

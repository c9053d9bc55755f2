"""Publishing the warehouse: the build copy replaces the published file atomically."""


from dagster import AssetKey, Definitions, MaterializeResult, asset, definitions

from pipelines.defs.ingest.jobs import INGEST_ASSETS
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.owners import ENGINEERS
from pipelines.defs.resources import Warehouse
from pipelines.settings import WAREHOUSE_POOL
from pipelines.warehouse.tables import TABLES

PUBLISHED_KEY = AssetKey("published_warehouse")


@definitions
def publish() -> Definitions:
    writers = [key for asset in INGEST_ASSETS for key in asset.keys]
    return Definitions(assets=[publish_asset([*writers, *(m.key for m in sql_models())])])


def publish_asset(upstream: list[AssetKey]):
    """The publish asset, downstream of every asset that writes the warehouse."""

    @asset(
        key=PUBLISHED_KEY,
        group_name="warehouse",
        kinds={"duckdb"},
        owners=[ENGINEERS],
        deps=upstream,
        pool=WAREHOUSE_POOL,
        description="The DuckDB file analysts open (CENSUS_WAREHOUSE): the run's build copy, "
                    "published with an atomic rename so readers never see a half-written state.",
    )
    def published_warehouse(warehouse: Warehouse) -> MaterializeResult:
        path = warehouse.publish()
        with warehouse.reader() as con:
            counts = {t.name: con.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0]
                      for t in TABLES}
        return MaterializeResult(metadata={
            "path": str(path), "bytes": path.stat().st_size,
            **{f"rows/{name}": n for name, n in counts.items()},
        })

    return published_warehouse

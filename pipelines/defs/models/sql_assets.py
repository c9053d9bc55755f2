"""The SQL model assets: one per file of CENSUS_MODELS_DIR (dbt_like_sql/), dependencies
from the SQL, monthly models partitioned by China month, checks from the tests of its
header."""

import warnings

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    BetaWarning,
    Definitions,
    MaterializeResult,
    asset,
    definitions,
)

from pipelines.defs.metadata import markdown_preview
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.owners import ANALYSTS, ENGINEERS, MART_FRESHNESS
from pipelines.defs.partitions import MONTHS
from pipelines.defs.resources import Warehouse
from pipelines.model_header import SEVERITIES
from pipelines.settings import WAREHOUSE_POOL
from pipelines.sql_graph import SqlModel
from pipelines.warehouse.model_tests import checked_rows, violations
from pipelines.warehouse.models import materialise

# A test header's severity (SEVERITIES: error, warn) as Dagster names it.
_SEVERITY = {severity: AssetCheckSeverity[severity.upper()] for severity in SEVERITIES}


@definitions
def sql_model_assets() -> Definitions:
    """The models of the folder as it is when the definitions load."""
    return Definitions(assets=[model_asset(m) for m in sql_models()])


def model_asset(model: SqlModel) -> AssetsDefinition:
    schema, table = model.key.path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)  # backfill_policy is beta in 1.13

        @asset(
            key=model.key,
            deps=model.deps,
            partitions_def=MONTHS if model.monthly else None,
            backfill_policy=BackfillPolicy.single_run() if model.monthly else None,
            group_name="marts" if schema == "marts" else "warehouse",
            kinds={"duckdb", "sql"},
            owners=[ANALYSTS if schema == "marts" else ENGINEERS],
            pool=WAREHOUSE_POOL,
            freshness_policy=MART_FRESHNESS if schema == "marts" else None,
            description=f"{model.description} (dbt_like_sql/{schema}/{table}.sql)",
            metadata={"grain": ", ".join(model.grain)},
            check_specs=[AssetCheckSpec(t.name, asset=model.key, description=t.description)
                         for t in model.tests],
        )
        def sql_model(context: AssetExecutionContext, warehouse: Warehouse):
            months = list(context.partition_keys) if model.monthly else []
            with warehouse.writer() as con:
                con.execute("BEGIN TRANSACTION")
                rows = materialise(con, model, months, context.run.run_id)
                con.execute("COMMIT")
                results = [(t, violations(con, model, t, months)) for t in model.tests]
                preview = con.execute(f"{checked_rows(model)} LIMIT 10",
                                      {"months": months} if model.monthly else {}).pl()
            yield MaterializeResult(metadata={
                "dagster/row_count": rows, "months": ", ".join(m[:7] for m in months) or "all",
                "sql": f"dbt_like_sql/{schema}/{table}.sql", "preview": markdown_preview(preview)})
            for test, broken in results:
                yield AssetCheckResult(
                    check_name=test.name, asset_key=model.key, passed=broken == 0,
                    severity=_SEVERITY[test.severity], metadata={"violations": broken})

    return sql_model

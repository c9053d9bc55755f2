"""The SQL model factory: one asset per file of dbt_like_sql/, dependencies from the
SQL, monthly models partitioned by China month; checks on the marts."""

import warnings
from dataclasses import dataclass

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    BetaWarning,
    MaterializeResult,
    asset,
)

from pipelines.assets.telemetry import MONTHS
from pipelines.resources import Warehouse
from pipelines.sql_graph import SqlModel
from pipelines.warehouse.models import materialise


@dataclass(frozen=True)
class MartCheck:
    name: str
    description: str
    violations_sql: str  # counts violating rows of the months in $months (a list)


_IN_MONTHS = "month IN (SELECT CAST(unnest($months) AS DATE))"


def _within(column: str, low: float, high: float) -> MartCheck:
    return MartCheck(f"{column}_within_{low:g}_{high:g}",
                     f"{column} is null or within [{low:g}, {high:g}]",
                     f"SELECT count(*) FROM {{table}} WHERE {_IN_MONTHS} "
                     f"AND NOT coalesce({column} BETWEEN {low} AND {high}, TRUE)")


def _unique(*keys: str) -> MartCheck:
    listed = ", ".join(keys)
    return MartCheck("keys_unique", f"One row per {listed}",
                     f"SELECT count(*) FROM (SELECT {listed} FROM {{table}} "
                     f"WHERE {_IN_MONTHS} GROUP BY ALL HAVING count(*) > 1)")


MART_CHECKS: dict[str, list[MartCheck]] = {
    "marts.centre_monthly": [_unique("month", "centre_id"),
                             _within("rack_utilisation", 0, 1.1),
                             _within("power_utilisation", 0, 1.1)],
}


def model_asset(model: SqlModel) -> AssetsDefinition:
    schema, table = model.key.path
    checks = MART_CHECKS.get(model.table, [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)  # backfill_policy is beta in 1.13

        @asset(
            key=model.key,
            deps=model.deps,
            partitions_def=MONTHS if model.monthly else None,
            backfill_policy=BackfillPolicy.single_run() if model.monthly else None,
            group_name="marts" if schema == "marts" else "warehouse",
            kinds={"duckdb", "sql"},
            pool="warehouse",
            description=f"{model.description} (dbt_like_sql/{schema}/{table}.sql)",
            check_specs=[AssetCheckSpec(c.name, asset=model.key, description=c.description)
                         for c in checks],
        )
        def sql_model(context: AssetExecutionContext, warehouse: Warehouse):
            months = list(context.partition_keys) if model.monthly else []
            with warehouse.writer() as con:
                con.execute("BEGIN TRANSACTION")
                rows = materialise(con, model, months, context.run.run_id)
                con.execute("COMMIT")
                results = [(c, con.execute(c.violations_sql.format(table=model.table),
                                           {"months": months}).fetchone()[0]) for c in checks]
            yield MaterializeResult(metadata={
                "dagster/row_count": rows, "months": ", ".join(m[:7] for m in months) or "all",
                "sql": f"dbt_like_sql/{schema}/{table}.sql"})
            for check, violations in results:
                yield AssetCheckResult(
                    check_name=check.name, asset_key=model.key, passed=violations == 0,
                    severity=AssetCheckSeverity.ERROR, metadata={"violations": violations})

    return sql_model

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

from pipelines.assets.metadata import markdown_preview
from pipelines.assets.telemetry import MONTHS
from pipelines.automation import ANALYSTS, ENGINEERS, MART_FRESHNESS
from pipelines.resources import Warehouse
from pipelines.settings import WAREHOUSE_POOL
from pipelines.sql_graph import SqlModel
from pipelines.warehouse.integrity import KEYS
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


_EVERY_LEVEL = MartCheck(
    "every_level", "Every month has the national, NBS-region, hub and province levels",
    f"SELECT count(*) FROM (SELECT month FROM {{table}} WHERE {_IN_MONTHS} GROUP BY month "
    "HAVING count(DISTINCT level) < 4)")

_PROVINCES_ADD_UP = MartCheck(
    "provinces_add_up_to_national",
    "Province sums equal the national centres_operating, centres_reporting, design_racks "
    "and racks_in_use",
    f"""SELECT count(*) FROM (
        SELECT {", ".join(
            f"sum({c}) FILTER (WHERE level = 'province') AS p_{c}, "
            f"max({c}) FILTER (WHERE level = 'national') AS n_{c}"
            for c in ("centres_operating", "centres_reporting", "design_racks",
                      "racks_in_use"))}
        FROM {{table}} WHERE {_IN_MONTHS} GROUP BY month)
    WHERE p_centres_operating != n_centres_operating
       OR p_centres_reporting != n_centres_reporting OR p_design_racks != n_design_racks
       OR abs(p_racks_in_use - n_racks_in_use) > 1e-9 * greatest(abs(n_racks_in_use), 1)""")

_SIGNALS_CONSISTENT = MartCheck(
    "glut_signals_consistent", "glut_signals and glut_flag follow from the figures",
    f"""SELECT count(*) FROM {{table}} WHERE {_IN_MONTHS} AND (
        glut_flag != (len(glut_signals) >= 2)
        OR list_contains(glut_signals, 'low_utilisation')
           != coalesce(rack_utilisation < threshold, FALSE)
        OR list_contains(glut_signals, 'supply_outpacing')
           != coalesce(racks_growth_12m - demand_growth_12m > 0.10, FALSE)
        OR list_contains(glut_signals, 'idle_centres') != coalesce(idle_share > 0.30, FALSE)
        OR list_contains(glut_signals, 'heavy_pipeline')
           != coalesce(pipeline_ratio > 0.25, FALSE))""")

# Sums of allocations may differ from the figure they were carved from in the last bits.
_ALLOCATED_WITHIN = "NOT coalesce(allocated <= available + 1e-9 * greatest(1, available), FALSE)"

_WITHIN_SUPPLY = MartCheck(
    "allocations_within_supply",
    "No supplier gives more than its sellable_pflops in marts.surplus_compute",
    f"""SELECT count(*) FROM (
        SELECT m.month, m.supplier_hub, sum(m.pflops) AS allocated,
               any_value(s.sellable_pflops) AS available
        FROM {{table}} AS m
        LEFT JOIN marts.surplus_compute AS s
            ON s.month = m.month AND s.hub_code = m.supplier_hub
        WHERE m.{_IN_MONTHS} AND m.supplier_hub IS NOT NULL GROUP BY ALL)
    WHERE {_ALLOCATED_WITHIN}""")

_WITHIN_EXCESS = MartCheck(
    "allocations_within_excess", "No eastern hub receives more than its excess",
    f"""SELECT count(*) FROM (
        SELECT month, east_hub, sum(pflops) FILTER (WHERE supplier_hub IS NOT NULL) AS allocated,
               max(east_excess_pflops) AS available
        FROM {{table}} WHERE {_IN_MONTHS} GROUP BY ALL)
    WHERE {_ALLOCATED_WITHIN}""")

_CENTRES_REGISTERED = MartCheck(
    "centres_in_register", "Every finding's centre is in core.centre_register",
    f"SELECT count(*) FROM {{table}} WHERE {_IN_MONTHS} "
    "AND centre_id NOT IN (SELECT centre_id FROM core.centre_register)")

MART_CHECKS: dict[str, list[MartCheck]] = {
    "marts.centre_monthly": [_unique(*KEYS["marts.centre_monthly"]),
                             _within("rack_utilisation", 0, 1.1),
                             _within("power_utilisation", 0, 1.1)],
    "marts.region_monthly": [_unique(*KEYS["marts.region_monthly"]),
                             _within("rack_utilisation", 0, 1.1),
                             _within("power_utilisation", 0, 1.1),
                             _EVERY_LEVEL, _PROVINCES_ADD_UP, _SIGNALS_CONSISTENT],
    "marts.surplus_compute": [_unique(*KEYS["marts.surplus_compute"])],
    "marts.glut_outlook": [_unique(*KEYS["marts.glut_outlook"]),
                           _within("months_to_threshold", 0, 240),
                           _within("months_to_absorb_pipeline", 0, 240)],
    "marts.compute_matching": [_unique(*KEYS["marts.compute_matching"]),
                               _WITHIN_SUPPLY, _WITHIN_EXCESS],
    "marts.licence_findings": [_unique(*KEYS["marts.licence_findings"]), _CENTRES_REGISTERED],
}


def violations(con, check: MartCheck, table: str, months: list[str]) -> int:
    """Rows (or months) of `table` in `months` breaking the check."""
    return con.execute(check.violations_sql.format(table=table), {"months": months}).fetchone()[0]


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
            owners=[ANALYSTS if schema == "marts" else ENGINEERS],
            pool=WAREHOUSE_POOL,
            freshness_policy=MART_FRESHNESS if schema == "marts" else None,
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
                results = [(c, violations(con, c, model.table, months)) for c in checks]
                preview = con.execute(
                    f"SELECT * FROM {model.table} WHERE {_IN_MONTHS} LIMIT 10" if months
                    else f"SELECT * FROM {model.table} LIMIT 10", {"months": months}
                    if months else {}).pl()
            yield MaterializeResult(metadata={
                "dagster/row_count": rows, "months": ", ".join(m[:7] for m in months) or "all",
                "sql": f"dbt_like_sql/{schema}/{table}.sql", "preview": markdown_preview(preview)})
            for check, broken in results:
                yield AssetCheckResult(
                    check_name=check.name, asset_key=model.key, passed=broken == 0,
                    severity=AssetCheckSeverity.ERROR, metadata={"violations": broken})

    return sql_model

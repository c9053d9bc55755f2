"""The SQL model assets: one per file of CENSUS_MODELS_DIR (dbt_like_sql/), dependencies
from the SQL, monthly models partitioned by China month, checks from the tests of its
header. As dbt's assets do, the models a run selects are built by one step, in the order
of their dependencies, on one connection: a step and a connection per model cost more
than most models' SQL."""

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import duckdb
from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    BetaWarning,
    Definitions,
    Failure,
    MaterializeResult,
    definitions,
    multi_asset,
)

from pipelines.defs.metadata import markdown_preview
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.owners import ANALYSTS, ENGINEERS, MART_FRESHNESS
from pipelines.defs.partitions import MONTHS
from pipelines.defs.resources import Engine, Warehouse
from pipelines.model_header import SEVERITIES, ModelTest
from pipelines.settings import WAREHOUSE_POOL
from pipelines.spark import SparkError
from pipelines.sql_graph import SqlModel, in_dependency_order, tables_of
from pipelines.warehouse.model_tests import (
    checked_params,
    checked_rows,
    held_months,
    violations,
)
from pipelines.warehouse.models import materialise

if TYPE_CHECKING:
    from pipelines.spark.lake import Lake

# A test header's severity (SEVERITIES: error, warn) as Dagster names it.
_SEVERITY = {severity: AssetCheckSeverity[severity.upper()] for severity in SEVERITIES}
# The step building the monthly models, and the one building the others (a step runs
# either month-partitioned assets or unpartitioned ones).
MONTHLY_STEP, UNPARTITIONED_STEP = "monthly_models", "models"


@definitions
def sql_model_assets() -> Definitions:
    """The models of the folder as it is when the definitions load."""
    models = sql_models()
    groups = [[m for m in models if m.monthly], [m for m in models if not m.monthly]]
    return Definitions(assets=[models_asset(group) for group in groups if group])


def model_spec(model: SqlModel) -> AssetSpec:
    schema = model.key.path[0]
    return AssetSpec(
        model.key, deps=model.deps,
        group_name="marts" if schema == "marts" else "warehouse", kinds={"duckdb", "sql"},
        owners=[ANALYSTS if schema == "marts" else ENGINEERS],
        freshness_policy=MART_FRESHNESS if schema == "marts" else None,
        description=f"{model.description} ({_source(model)})",
        metadata={"grain": ", ".join(model.grain)})


def models_asset(models: list[SqlModel]) -> AssetsDefinition:
    """The models (all monthly or none), any subset of them (and of their checks) built
    by one step."""
    monthly = models[0].monthly
    in_order = in_dependency_order(models)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)  # backfill_policy is beta in 1.13

        @multi_asset(
            name=MONTHLY_STEP if monthly else UNPARTITIONED_STEP,
            specs=[model_spec(m) for m in models],
            check_specs=[AssetCheckSpec(t.name, asset=m.key, description=t.description)
                         for m in models for t in m.tests],
            can_subset=True,
            partitions_def=MONTHS if monthly else None,
            backfill_policy=BackfillPolicy.single_run() if monthly else None,
            pool=WAREHOUSE_POOL,
        )
        def sql_models_step(context: AssetExecutionContext, warehouse: Warehouse,
                            engine: Engine) -> Iterator[MaterializeResult | AssetCheckResult]:
            # A run of checks alone has no partition: they then check every month held.
            partitioned = context.has_partition_key or context.has_partition_key_range
            months = list(context.partition_keys) if monthly and partitioned else []
            failures: list[tuple[SqlModel, str]] = []  # each failed model, and why
            built = [m for m in in_order if m.key in context.selected_asset_keys]
            lake = engine.lake() if built else None
            with warehouse.writer() as con:
                if lake is not None:
                    lake.copy_in(con, tables_of(built))
                for model in in_order:
                    build = model.key in context.selected_asset_keys
                    tests = [t for t in model.tests if AssetCheckKey(model.key, t.name)
                             in context.selected_asset_check_keys]
                    # A model whose upstream failed is not built on stale rows.
                    blocked = [f.table for f, _ in failures if f.key in model.deps]
                    if build and blocked:
                        failures.append((model, f"not built, {', '.join(blocked)} failed"))
                        continue
                    try:
                        if build:
                            yield _build(con, model, months, context.run.run_id, engine.name,
                                         lake)
                        yield from _checks(con, model, tests, months if partitioned or not
                                           monthly else held_months(con, model))
                    # One line each: a run's reason keeps one.
                    except (duckdb.Error, SparkError) as exc:
                        failures.append((model, str(exc).strip().splitlines()[0]))
            if failures:
                raise Failure("; ".join(f"{m.table}: {why}" for m, why in failures))

    return sql_models_step


def _build(con: duckdb.DuckDBPyConnection, model: SqlModel, months: list[str],
           run_id: str, engine: str, lake: "Lake | None") -> MaterializeResult:
    """One model rebuilt for `months` in a transaction of its own; with a lake, by Spark
    there first."""
    built = lake.build(model, months) if lake is not None else None
    con.execute("BEGIN TRANSACTION")
    try:
        rows = materialise(con, model, months, run_id, built, engine)
    except duckdb.Error:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    preview = con.execute(f"{checked_rows(model)} LIMIT 10",
                          checked_params(model, months)).pl()
    return MaterializeResult(asset_key=model.key, metadata={
        "dagster/row_count": rows, "months": ", ".join(m[:7] for m in months) or "all",
        "sql": _source(model), "preview": markdown_preview(preview)})


def _checks(con: duckdb.DuckDBPyConnection, model: SqlModel, tests: list[ModelTest],
            months: list[str]) -> Iterator[AssetCheckResult]:
    """The model's `tests` on its rows of `months` (all its rows for an unpartitioned one)."""
    for test in tests:
        broken = violations(con, model, test, months)
        yield AssetCheckResult(
            check_name=test.name, asset_key=model.key, passed=broken == 0,
            severity=_SEVERITY[test.severity], metadata={"violations": broken})


def _source(model: SqlModel) -> str:
    schema, table = model.key.path
    return f"dbt_like_sql/{schema}/{table}.sql"

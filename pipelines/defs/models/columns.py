"""What the UI shows of a table asset's columns: `dagster/column_schema` (names, types
and the warehouse's column comments) on every asset that is a warehouse table, and
`dagster/column_lineage` (traced from the SQL) on every SQL model."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import (
    AssetsDefinition,
    AssetSpec,
    TableColumn,
    TableColumnDep,
    TableColumnLineage,
    TableSchema,
    map_asset_specs,
)

from pipelines.sql_graph import SqlModel, column_lineage
from pipelines.warehouse.catalog import Column, warehouse_columns

# Definitions are built for every run (`census run`, the tests), from the same SQL mostly:
# describing it once per process saves a second a build.
_DESCRIBED: dict[tuple[tuple[str, str], ...],
                 tuple[dict[str, list[Column]], dict[str, TableColumnLineage]]] = {}


def with_columns(assets: Sequence[AssetsDefinition], models: list[SqlModel]
                 ) -> Sequence[AssetsDefinition]:
    """The assets, those keyed [schema, table] after a warehouse table with its columns."""
    key = tuple((m.table, m.sql) for m in models)
    if key not in _DESCRIBED:
        _DESCRIBED[key] = _describe(models)
    columns, lineage = _DESCRIBED[key]

    def attach(spec: AssetSpec) -> AssetSpec:
        table = ".".join(spec.key.path)
        if table not in columns:
            return spec
        metadata: dict[str, object] = {"dagster/column_schema": TableSchema(columns=[
            TableColumn(c.name, c.type, description=c.comment) for c in columns[table]])}
        if table in lineage:
            metadata["dagster/column_lineage"] = lineage[table]
        return spec.merge_attributes(metadata=metadata)

    return map_asset_specs(attach, assets)


def _describe(models: list[SqlModel]
              ) -> tuple[dict[str, list[Column]], dict[str, TableColumnLineage]]:
    """Every table's columns, and every model's column lineage."""
    columns = warehouse_columns(models)
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for table, listed in columns.items():
        db, name = table.split(".")
        schema.setdefault(db, {})[name] = {c.name: c.type for c in listed}
    # sqlglot folds identifiers to lower case (DuckDB ignores case): back to the names
    # the tables have.
    spelt = {table: {c.name.lower(): c.name for c in listed}
             for table, listed in columns.items()}
    lineage = {m.table: TableColumnLineage(deps_by_column={
        spelt[m.table][column]: [
            TableColumnDep(asset_key=source.split("."), column_name=spelt[source][name])
            for source, name in sources]
        for column, sources in column_lineage(m, schema).items()}) for m in models}
    return columns, lineage

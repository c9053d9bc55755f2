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
from pipelines.warehouse.catalog import warehouse_columns


def with_columns(assets: Sequence[AssetsDefinition], models: list[SqlModel]
                 ) -> Sequence[AssetsDefinition]:
    """The assets, those keyed [schema, table] after a warehouse table with its columns."""
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

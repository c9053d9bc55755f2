"""SQL models as data: dbt_like_sql/<schema>/<table>.sql, each one plain SELECT after
its header (model_header.py: description, grain, column docs, tests). Its dependencies
are read from the SQL with sqlglot; a model using the `$month` parameter is monthly."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path

from dagster import AssetKey
from sqlglot import exp
from sqlglot.lineage import lineage

from pipelines.model_header import HeaderError, ModelTest, read_header
from pipelines.preflight import SettingProblem
from pipelines.select_sql import NotOneSelect, parse_select

INGEST = "ingest"  # the ingestion's transforms (pipelines/ingest/ingest_sql.py), not models
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


class ModelError(SettingProblem):
    """A model file that cannot become an asset; the message names the file. A problem
    of the models' folder (CENSUS_MODELS_DIR): a command reports it in one line."""


@dataclass(frozen=True)
class SqlModel:
    key: AssetKey  # [schema, table]
    path: Path
    sql: str
    deps: tuple[AssetKey, ...]
    monthly: bool
    description: str
    grain: tuple[str, ...]  # the columns that identify a row
    column_docs: dict[str, str]
    tests: tuple[ModelTest, ...]  # keys_unique (from the grain) first

    @property
    def table(self) -> str:
        return ".".join(self.key.path)


def load_models(folder: Path, sources: dict[str, AssetKey],
                checked_against: Collection[str] = ()) -> list[SqlModel]:
    """Every model under `folder`. `sources` maps the tables other assets produce
    (`core.centre_register`) to their keys; any other table reference is an error. A
    model's tests may read `checked_against` too (the warehouse's audit tables)."""
    paths = sorted(p for p in folder.glob("*/*.sql") if p.parent.name != INGEST)
    produced = {f"{p.parent.name}.{p.stem}": AssetKey([p.parent.name, p.stem]) for p in paths}
    known = frozenset({**sources, **produced}.items())
    return [_model(path, path.read_text(encoding="utf-8"), known, frozenset(checked_against))
            for path in paths]


# Definitions read the models several times in a process: each text is parsed once.
@cache
def _model(path: Path, sql: str, known_items: frozenset[tuple[str, AssetKey]],
           checked_against: frozenset[str]) -> SqlModel:
    known = dict(known_items)
    # The folder and file name become the table's name in DDL: plain identifiers only.
    if not all(_IDENTIFIER.fullmatch(part) for part in (path.parent.name, path.stem)):
        raise ModelError(f"{path}: folder and file names must be lower-case SQL identifiers "
                         "(letters, digits, underscores)")
    try:
        tree, read = parse_select(sql)
    except NotOneSelect as exc:
        raise ModelError(f"{path}: {exc}; a model is one query") from exc
    deps = []
    for name in read:
        if name not in known:
            raise ModelError(f"{path}: references table {name}, which no asset produces")
        if known[name] not in deps:
            deps.append(known[name])
    monthly = any(p.name == "month" for p in tree.find_all(exp.Placeholder))
    if "*" in tree.named_selects or "" in tree.named_selects:
        raise ModelError(f"{path}: name every column the model returns (no *, every "
                         "expression AS a name): the header documents each")
    try:
        header = read_header(sql, tree.named_selects, known.keys() | checked_against)
    except HeaderError as exc:
        raise ModelError(f"{path}: {exc}") from exc
    return SqlModel(AssetKey([path.parent.name, path.stem]), path, sql,
                    tuple(sorted(deps, key=lambda k: k.path)), monthly, header.description,
                    header.grain, header.column_docs, header.tests)


def in_dependency_order(models: list[SqlModel]) -> list[SqlModel]:
    """The models, each after every model of the list it reads."""
    by_key = {m.key: m for m in models}
    graph = TopologicalSorter({m.key: [d for d in m.deps if d in by_key] for m in models})
    return [by_key[key] for key in graph.static_order()]


def tables_of(models: list[SqlModel]) -> list[str]:
    """The tables of the models and every table they read (schema.table)."""
    return sorted({table for model in models
                   for table in (model.table, *(".".join(dep.path) for dep in model.deps))})


def column_lineage(model: SqlModel, schema: dict[str, dict[str, dict[str, str]]]
                   ) -> dict[str, list[tuple[str, str]]]:
    """For each column of the model, the (schema.table, column) pairs of the tables its
    value is computed from, traced through the model's CTEs with sqlglot. `schema` gives
    every table's columns and types ({schema: {table: {column: type}}}), for `*`."""
    # Untrimmed selects: the same sources, without copying the query for every column
    # (five times faster).
    nodes = lineage(None, model.sql, schema=schema, dialect="duckdb", trim_selects=False)
    traced: dict[str, list[tuple[str, str]]] = {}
    for column, node in nodes.items():
        sources = {(f"{n.expression.db}.{n.expression.name}", n.name.rpartition(".")[2])
                   for n in node.walk() if isinstance(n.expression, exp.Table)}
        if sources:  # a column of literals only comes from no table
            traced[column] = sorted(sources)
    return traced

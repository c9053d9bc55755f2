"""One SELECT, parsed with sqlglot, and the tables it reads: what a SQL model's file and
a bespoke model test must each be."""

from __future__ import annotations

from collections.abc import Collection

import sqlglot
from sqlglot import exp


class NotOneSelect(ValueError):
    """The text is not one SELECT; the message says why."""


def parse_select(sql: str, ctes: Collection[str] = ()) -> tuple[exp.Query, list[str]]:
    """The SELECT `sql` parsed, and the tables (schema.table, or a bare name) it reads, in
    order of appearance, each once: its own CTEs, `ctes` and table functions left out."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise NotOneSelect(f"not valid SQL: {str(exc).splitlines()[0]}") from exc
    if not isinstance(tree, exp.Query):
        raise NotOneSelect(f"not one SELECT but {type(tree).__name__}")
    own = {cte.alias_or_name for cte in tree.find_all(exp.CTE)} | set(ctes)
    read: dict[str, None] = {}
    for table in tree.find_all(exp.Table):
        if table.name and (table.db or table.name not in own):
            read[f"{table.db}.{table.name}" if table.db else table.name] = None
    return tree, list(read)

"""A model's SQL, written for DuckDB, as Spark SQL: parameters bound as literals, the
warehouse's China-time macros written out, and what sqlglot writes in a form Spark
rejects or reads otherwise put in the form Spark means the same by."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import sqlglot
from sqlglot import exp

from pipelines.settings import CHINA_TIME
from pipelines.warehouse.migrations import CHINA_TIME_MACROS

# The two conversions the other China-time macros are made of. DuckDB's `timezone()`
# converts both ways, told apart by its argument's type, which sqlglot does not know.
_CONVERSIONS = {"china_time": "from_utc_timestamp", "china_instant": "to_utc_timestamp"}


# DuckDB's list_sum: the sum of the values that are not NULL; NULL where there are none.
_LIST_SUM = sqlglot.parse_one(
    "CASE WHEN size(filter(items, item -> item IS NOT NULL)) > 0 THEN aggregate(filter("
    "items, item -> item IS NOT NULL), CAST(0 AS DOUBLE), (total, item) -> total + item) END",
    read="spark")


@cache
def _macros() -> dict[str, tuple[str, exp.Expression]]:
    return {name: (parameter, sqlglot.parse_one(body, read="duckdb"))
            for name, parameter, body, _ in CHINA_TIME_MACROS if name not in _CONVERSIONS}


def to_spark(sql: str, params: Mapping[str, str] | None = None) -> str:
    """The DuckDB SELECT `sql` in Spark's dialect, each `$name` of `params` a string
    literal (a model's `$month`: the dates are cast where they are used)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    given = params or {}
    tree = tree.transform(lambda node: exp.Literal.string(given[node.name])
                          if isinstance(node, exp.Placeholder) and node.name in given else node)
    return tree.transform(_spark_form).sql("spark")


def _spark_form(node: exp.Expression) -> exp.Expression:
    # A node put in place of another is not visited again: each form below puts its
    # arguments in Spark's form itself.
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name in _CONVERSIONS:
            (instant,) = node.expressions
            return exp.Anonymous(this=_CONVERSIONS[name], expressions=[
                instant.transform(_spark_form), exp.Literal.string(CHINA_TIME)])
        if name in _macros():
            parameter, body = _macros()[name]
            (argument,) = node.expressions
            return body.copy().transform(
                lambda n: argument.copy() if isinstance(n, exp.Column) and not n.table
                and n.name == parameter else n).transform(_spark_form)
        if name == "list_sum":
            (items,) = node.expressions
            return _LIST_SUM.transform(lambda n: items.transform(_spark_form)
                                       if isinstance(n, exp.Column) and n.name == "items"
                                       else n)
        if name == "to_months":  # an interval of n months
            return exp.Anonymous(this="make_ym_interval", expressions=[
                exp.Literal.number(0), node.expressions[0].transform(_spark_form)])
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        # DuckDB's quantile_cont(x, q): Spark's percentile_cont takes q alone (WITHIN
        # GROUP); its percentile(x, q) interpolates the same way.
        return exp.Anonymous(this="percentile", expressions=[
            node.this.transform(_spark_form), node.expression.transform(_spark_form)])
    if isinstance(node, exp.Div):
        # DuckDB divides numbers as doubles, decimals too; Spark keeps a decimal's
        # quotient a decimal of at most six places.
        return exp.Div(this=exp.cast(node.this.transform(_spark_form), "DOUBLE"),
                       expression=exp.cast(node.expression.transform(_spark_form), "DOUBLE"))
    return node

"""SQL written for DuckDB (the models, the ingestion's transforms) as Spark SQL: parameters
bound as literals, the macros it calls (the warehouse's China-time macros, the forms of
telemetry_forms.sql) written out, and what sqlglot writes in a form Spark rejects or reads
otherwise put in the form Spark means the same by."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.spark import Spark

from pipelines.ingest.ingest_sql import forms
from pipelines.settings import CHINA_TIME
from pipelines.warehouse.macros import CHINA_TIME_MACROS, EXACT_SUM

# The two conversions the other China-time macros are made of. DuckDB's `timezone()`
# converts both ways, told apart by its argument's type, which sqlglot does not know.
_CONVERSIONS = {"china_time": "from_utc_timestamp", "china_instant": "to_utc_timestamp"}
# Writes Spark SQL.
_SPARK = Spark()


def _spark(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="spark")


# DuckDB's list_sum: the sum of the values that are not NULL; NULL where there are none.
_LIST_SUM = _spark("CASE WHEN size(filter(items, item -> item IS NOT NULL)) > 0 THEN "
                   "aggregate(filter(items, item -> item IS NOT NULL), CAST(0 AS DOUBLE), "
                   "(total, item) -> total + item) END")
# DuckDB's list_avg: the mean of the values that are not NULL, added in the list's order;
# NULL where there are none.
_LIST_AVG = _spark("aggregate(filter(items, item -> item IS NOT NULL), CAST(0 AS DOUBLE), "
                   "(total, item) -> total + item, total -> total / "
                   "nullif(size(filter(items, item -> item IS NOT NULL)), 0))")
_LIST_TEMPLATES = {"list_sum": _LIST_SUM, "list_avg": _LIST_AVG}
# The text DuckDB's cast reads as a DOUBLE (white space around; no digit separators, which
# the telemetry forms never pass it). Spark's cast is Java's, which takes `1d`, `2.5f` and
# `0x1p3` as well.
_DOUBLE_TEXT = (r"^\s*[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
                r"|(?i:inf|infinity|nan))\s*$")
# DuckDB's text of a DOUBLE or FLOAT (telemetry_number_text), made from Java's, which
# Spark's cast writes: `nan`, `inf`; plain from 0.0001 to below 10^16 (Java's text as a
# decimal, its zeros after the last digit dropped: `1.0E7` → `10000000.0`), else with an
# exponent of a sign and two digits at least (`1.5E-7` → `1.5e-07`, `1.0E16` → `1e+16`).
# The digits are Java's: the shortest but in rare cases (Java 17 writes 5e-324 `4.9E-324`).
_NUMBER_TEXT = _spark("""CASE
    WHEN isnan(number) THEN 'nan'
    WHEN number = CAST('Infinity' AS DOUBLE) THEN 'inf'
    WHEN number = CAST('-Infinity' AS DOUBLE) THEN '-inf'
    WHEN number <> 0 AND (abs(number) < 0.0001 OR abs(number) >= 1e16) THEN replace(
        regexp_replace(regexp_replace(regexp_replace(CAST(number AS STRING),
            '[.]0E', 'E'), 'E([0-9])', 'E+$1'), 'E([+-])([0-9])$', 'E$10$2'), 'E', 'e')
    WHEN abs(number) >= 1e7 OR (number <> 0 AND abs(number) < 0.001) THEN regexp_replace(
        regexp_replace(CAST(CAST(CAST(number AS STRING) AS DECIMAL(38, 20)) AS STRING),
            '0+$', ''), '[.]$', '.0')
    ELSE CAST(number AS STRING) END""")
# The exact sum (EXACT_SUM) as the decimal sum it equals. Spark's cast rounds a double's
# exact value to 12 places, DuckDB's rounds x·10^12 computed as a double: they may differ
# in the 12th place, well within what a warehouse Spark built is checked to.
_EXACT_SUM = _spark("CAST(sum(CAST(CAST(x AS DOUBLE) AS DECIMAL(38, 12))) AS DOUBLE)")
# DuckDB's isfinite: neither NaN nor ±infinity (NULL stays NULL).
_ISFINITE = _spark("NOT isnan(number) AND abs(number) <> CAST('Infinity' AS DOUBLE)")


@cache
def _macros() -> dict[str, tuple[list[str], exp.Expression]]:
    """Each macro by name: its parameters and its body (DuckDB's)."""
    found = {name: ([parameter], sqlglot.parse_one(body, read="duckdb"))
             for name, parameter, body, _ in CHINA_TIME_MACROS if name not in _CONVERSIONS}
    for statement in forms():
        create = sqlglot.parse_one(statement, read="duckdb")
        found[create.this.this.name] = ([p.name for p in create.this.expressions],
                                        create.expression)
    return found


def to_spark(sql: str, params: Mapping[str, object] | None = None,
             columns: Mapping[str, str] | None = None) -> str:
    """The DuckDB SELECT `sql` in Spark's dialect, each `$name` of `params` a literal
    (a string, number, boolean, NULL, or a list of these), and each of `columns` the
    column named (a parameter whose value each row carries)."""
    given = {name: _literal(value) for name, value in (params or {}).items()}
    given |= {name: exp.column(column) for name, column in (columns or {}).items()}
    # A copy of the shared tree, bound; generated as it is (not copied again).
    bound = _in_spark_form(sql).transform(
        lambda node: given[node.name].copy()
        if isinstance(node, exp.Placeholder) and node.name in given else node)
    return _SPARK.generate(bound, copy=False)


# The trees kept: the models' and a few dozen export layouts' (a check's is about 3 MB).
@lru_cache(maxsize=64)
def _in_spark_form(sql: str) -> exp.Expression:
    """The DuckDB SELECT `sql` parsed and put in Spark's form, its `$name`s left for the
    caller to bind: made once for the exports of one layout and the months of one model
    (their parameters differ, not their SQL): an export's checks took 0.25 s to
    transpile, 0.11 s to bind. Shared, so never changed: `to_spark` binds a copy."""
    return sqlglot.parse_one(sql, read="duckdb").transform(_spark_form)


def _literal(value: object) -> exp.Expression:
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.convert(value)


def _spark_form(node: exp.Expression) -> exp.Expression:
    # A node put in place of another is not visited again: each form below puts its
    # arguments in Spark's form itself.
    if isinstance(node, exp.Anonymous):
        return _function(node)
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        # DuckDB's quantile_cont(x, q): Spark's percentile_cont takes q alone (WITHIN
        # GROUP); its percentile(x, q) interpolates the same way.
        return exp.Anonymous(this="percentile", expressions=[
            _form(node.this), _form(node.expression)])
    if isinstance(node, exp.TryCast) and node.to.is_type(exp.DataType.Type.DOUBLE):
        cast = node.copy()
        cast.set("this", _form(node.this))
        return exp.Case(ifs=[exp.If(
            this=exp.RegexpLike(this=exp.cast(cast.this.copy(), "STRING"),
                                expression=exp.Literal.string(_DOUBLE_TEXT)),
            true=cast)])
    if isinstance(node, exp.Div):
        # DuckDB divides numbers as doubles, decimals too; Spark keeps a decimal's
        # quotient a decimal of at most six places.
        return exp.Div(this=exp.cast(_form(node.this), "DOUBLE"),
                       expression=exp.cast(_form(node.expression), "DOUBLE"))
    if isinstance(node, exp.RegexpFullMatch):
        # Spark's RLIKE seeks the pattern; anchored at both ends (`\z`: not before a
        # last line break, as `$` would be) it must match the whole text.
        return exp.RegexpLike(this=_form(node.this), expression=exp.Concat(expressions=[
            exp.Literal.string("^(?:"), _form(node.expression), exp.Literal.string(")\\z")]))
    if isinstance(node, exp.Glob) and isinstance(node.expression, exp.Literal):
        return exp.RegexpLike(this=_form(node.this),
                              expression=exp.Literal.string(_glob_regex(node.expression.name)))
    if isinstance(node, exp.Chr) and all(isinstance(e, exp.Literal) for e in node.expressions):
        # Spark's chr() takes a code modulo 256.
        return exp.Literal.string(chr(int(node.expressions[0].name)))
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and _index(node) is not None:
        # DuckDB's list[i], 1-based, from the end where negative, NULL out of range.
        return exp.Anonymous(this="try_element_at", expressions=[
            _form(node.this), exp.Literal.number(_index(node))])
    if isinstance(node, exp.Array) and len(node.expressions) == 1 \
            and isinstance(node.expressions[0], exp.Comprehension):
        return _comprehension(node.expressions[0])
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return _ordered_list(node.this)
    if isinstance(node, exp.TimeToStr) and isinstance(node.args.get("format"), exp.Literal):
        return exp.Anonymous(this="date_format", expressions=[
            _form(node.this), exp.Literal.string(_java_pattern(node.args["format"].name))])
    if isinstance(node, exp.Format) and isinstance(node.this, exp.Literal):
        # DuckDB's format() placeholders are `{}`; Spark's format_string is printf's.
        template = node.name.replace("%", "%%").replace("{}", "%s")
        return exp.Anonymous(this="format_string", expressions=[
            exp.Literal.string(template), *(_form(e) for e in node.expressions)])
    return node


def _form(node: exp.Expression) -> exp.Expression:
    return node.transform(_spark_form)


def _function(node: exp.Anonymous) -> exp.Expression:
    name = node.name.lower()
    arguments = node.expressions
    if name in _CONVERSIONS:
        (instant,) = arguments
        return exp.Anonymous(this=_CONVERSIONS[name], expressions=[
            _form(instant), exp.Literal.string(CHINA_TIME)])
    if name == "telemetry_number_text":  # Spark's cast writes Java's text
        return exp.Paren(this=_with_arguments(_NUMBER_TEXT, {"number": _form(arguments[0])}))
    if name in _macros():
        parameters, body = _macros()[name]
        # DuckDB's body, its arguments in place, then in Spark's form.
        return _form(_with_arguments(body, dict(zip(parameters, arguments, strict=True))))
    if name == EXACT_SUM[0]:
        return _with_arguments(_EXACT_SUM, {EXACT_SUM[1]: _form(arguments[0])})
    if name in _LIST_TEMPLATES:  # Spark's form already: only the argument is put in
        return _with_arguments(_LIST_TEMPLATES[name], {"items": _form(arguments[0])})
    if name == "isfinite":
        return exp.Paren(this=_with_arguments(_ISFINITE, {"number": _form(arguments[0])}))
    if name == "epoch_us":  # microseconds since the epoch
        return exp.Anonymous(this="unix_micros", expressions=[_form(arguments[0])])
    if name == "strlen":  # bytes
        return exp.Anonymous(this="octet_length", expressions=[_form(arguments[0])])
    if name == "timezone" and arguments[0].name == "UTC":
        # A naive UTC time as an instant: the session's time zone is UTC.
        return _form(arguments[1])
    if name == "to_months":  # an interval of n months
        return exp.Anonymous(this="make_ym_interval", expressions=[
            exp.Literal.number(0), _form(arguments[0])])
    return node


def _with_arguments(body: exp.Expression,
                    arguments: Mapping[str, exp.Expression]) -> exp.Expression:
    """A copy of `body` with each of its columns named in `arguments` replaced by a copy
    of that argument (a macro's parameters, a template's placeholders)."""
    return body.copy().transform(
        lambda n: arguments[n.name].copy() if isinstance(n, exp.Column) and not n.table
        and n.name in arguments else n)


def _index(node: exp.Bracket) -> int | None:
    """DuckDB's 1-based index of `list[i]` with a constant i (sqlglot keeps it 0-based)."""
    (index,) = node.expressions
    if isinstance(index, exp.Neg) and index.this.is_int:
        return -int(index.this.name) + 1
    if index.is_int:
        return int(index.name) + 1
    return None


def _comprehension(node: exp.Comprehension) -> exp.Expression:
    """DuckDB's [expr FOR x IN list IF cond]: Spark's transform(filter(list, …), …)."""
    variable = node.expression
    items = _form(node.args["iterator"])
    if node.args.get("condition") is not None:
        items = exp.Anonymous(this="filter", expressions=[items, exp.Lambda(
            this=_form(node.args["condition"]), expressions=[variable.copy()])])
    return exp.Anonymous(this="transform", expressions=[items, exp.Lambda(
        this=_form(node.this), expressions=[variable.copy()])])


def _ordered_list(order: exp.Order) -> exp.Expression:
    """DuckDB's list(x ORDER BY k): Spark's collect_list has no order; the pairs (k, x)
    sorted, then the x of each."""
    (key,) = order.expressions
    if key.args.get("desc"):
        raise ValueError(f"list(… ORDER BY … DESC) is not written for Spark: {order.sql()}")
    pairs = exp.Anonymous(this="named_struct", expressions=[
        exp.Literal.string("k"), _form(key.this), exp.Literal.string("v"), _form(order.this)])
    return exp.Anonymous(this="transform", expressions=[
        exp.Anonymous(this="array_sort", expressions=[
            exp.Anonymous(this="collect_list", expressions=[pairs])]),
        exp.Lambda(this=exp.column("v", table="pair"), expressions=[exp.to_identifier("pair")])])


# strftime's fields as Java's datetime patterns (Spark's date_format).
_JAVA_FIELDS = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss",
                "%f": "SSSSSS"}


def _java_pattern(strftime: str) -> str:
    """A strftime format as Spark's datetime pattern: its fields mapped, letters between
    them quoted."""
    parts = []
    for token in re.findall(r"%.|[^%]", strftime):
        if token.startswith("%"):
            if token not in _JAVA_FIELDS:
                raise ValueError(f"strftime field {token} is not written for Spark")
            parts.append(_JAVA_FIELDS[token])
        else:
            parts.append(f"'{token}'" if token.isalpha() else
                         "''" if token == "'" else token)
    return "".join(parts)


def _glob_regex(pattern: str) -> str:
    """A GLOB pattern as a regular expression matching the whole text."""
    parts = re.findall(r"\[[^\]]*\]|.", pattern)
    return "^" + "".join(p if p.startswith("[") and len(p) > 1 else
                         ".*" if p == "*" else "." if p == "?" else re.escape(p)
                         for p in parts) + "\\z"

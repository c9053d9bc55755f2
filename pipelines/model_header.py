"""The header of a SQL model file: a leading block comment of YAML saying what dbt keeps in
a model's yml. The table's description, its grain (the columns that identify a row),
every column's documentation and its data tests:

    /*
    description: One row per month and centre ...
    grain: [month, centre_id]
    columns:
      month: First day of the month, China time
      centre_id: Centre ID
    tests:
      - within: {column: coverage, min: 0, max: 1}
      - relationships: {column: centre_id, to: core.centre_register}
      - name: a_bespoke_check
        description: What holds
        severity: warn
        violations: SELECT count(*) FROM this WHERE ...
    */

Every test is a SELECT of one number, the rows (or months) that break it; `this` is the
model's rows being checked (the months built). The grain implies `keys_unique`. A test
is an error where it fails unless its `severity` is `warn` (a finding to look at, not a
broken table)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace

import sqlglot
import yaml

from pipelines.select_sql import NotOneSelect, parse_select

THIS = "this"  # the model's rows under test, a CTE the test's SELECT reads
SEVERITIES = ("error", "warn")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class HeaderError(Exception):
    """A header that does not say what a model needs; the caller names the file."""


@dataclass(frozen=True)
class ModelTest:
    name: str
    description: str
    sql: str  # a SELECT of the number of rows of `this` breaking the test
    severity: str = "error"  # or "warn"


@dataclass(frozen=True)
class ModelHeader:
    description: str
    grain: tuple[str, ...]
    column_docs: dict[str, str]
    tests: tuple[ModelTest, ...]


def read_header(sql: str, returns: list[str], tables: Collection[str]) -> ModelHeader:
    """The header of a model whose SELECT returns the columns `returns`; its tests may
    read `tables` besides `this`."""
    if not sql.lstrip().startswith("/*"):
        raise HeaderError("a model starts with its header, a /* ... */ block of YAML")
    comment = sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)[0].comments[0]
    try:
        header = yaml.safe_load(comment)
    except yaml.YAMLError as exc:
        raise HeaderError(f"the header is not YAML: {str(exc).splitlines()[0]}") from exc
    _keys(header, "the header", required={"description", "grain", "columns"},
          optional={"tests"})
    description = _text(header["description"], "description")
    docs = header["columns"]
    if not isinstance(docs, dict):
        raise HeaderError("columns: a mapping of column: what it is")
    docs = {str(column): _text(doc, f"column {column}") for column, doc in docs.items()}
    undocumented = [c for c in returns if c not in docs]
    if undocumented:
        raise HeaderError(f"document {', '.join(undocumented)} under columns")
    unknown = [c for c in docs if c not in returns]
    if unknown:
        raise HeaderError(f"columns documents {', '.join(unknown)}, which the SELECT does "
                          "not return")
    if "$$" in description or any("$$" in doc for doc in docs.values()):
        raise HeaderError("'$$' in the header (it quotes the COMMENT ON text)")
    grain = header["grain"]
    if not isinstance(grain, list) or not grain:
        raise HeaderError("grain: a list of the columns that identify a row")
    grain = tuple(_column(column, returns, "grain") for column in grain)
    listed = ", ".join(grain)
    tests = [ModelTest("keys_unique", f"One row per {listed}",
                       f"SELECT count(*) FROM (SELECT {listed} FROM {THIS} "
                       "GROUP BY ALL HAVING count(*) > 1)")]
    declared = header.get("tests") or []
    if not isinstance(declared, list):
        raise HeaderError("tests: a list")
    tests += [_test(test, returns, tables) for test in declared]
    names = [t.name for t in tests]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise HeaderError(f"tests named {', '.join(repeated)} more than once")
    return ModelHeader(description, grain, docs, tuple(tests))


def _test(test: object, returns: list[str], tables: Collection[str]) -> ModelTest:
    generic = isinstance(test, dict) and len(test) == 1  # a generic test, its arguments
    if generic and "within" in test:
        args = _keys(test["within"], "within", required={"column", "min", "max"},
                     optional={"name", "description", "severity"})
        return _with_severity(_within(args, returns), args)
    if generic and "relationships" in test:
        args = _keys(test["relationships"], "relationships", required={"column", "to"},
                     optional={"field", "name", "description", "severity"})
        return _with_severity(_relationships(args, returns, tables), args)
    singular = _keys(test, "a test (within, relationships, or name, description and "
                           "violations)", required={"name", "description", "violations"},
                     optional={"severity"})
    name = _name(singular["name"])
    violations = singular["violations"]
    if not isinstance(violations, str):
        raise HeaderError(f"test {name}: violations is a SELECT")
    try:
        _, read = parse_select(violations, ctes=[THIS])
    except NotOneSelect as exc:
        raise HeaderError(f"test {name}: violations: {exc}") from exc
    unknown = [table for table in read if table not in tables]
    if unknown:
        raise HeaderError(f"test {name}: reads table {unknown[0]}, which no asset produces")
    return _with_severity(
        ModelTest(name, _text(singular["description"], f"test {name}"), violations), singular)


def _with_severity(test: ModelTest, args: dict) -> ModelTest:
    severity = args.get("severity", test.severity)  # its default: error
    if severity not in SEVERITIES:
        raise HeaderError(f"test {test.name}: severity {severity!r} is not one of "
                          f"{', '.join(SEVERITIES)}")
    return replace(test, severity=severity)


def _within(args: dict, returns: list[str]) -> ModelTest:
    column = _column(args["column"], returns, "within")
    low, high = (_number(args[bound], f"within {column}: {bound}") for bound in ("min", "max"))
    return ModelTest(
        _name(args["name"]) if "name" in args else f"{column}_within_{low:g}_{high:g}",
        _text(args.get("description", f"{column} is null or within [{low:g}, {high:g}]"),
              f"within {column}: description"),
        f"SELECT count(*) FROM {THIS} WHERE NOT coalesce({column} BETWEEN {low} AND {high}, "
        "TRUE)")


def _relationships(args: dict, returns: list[str], tables: Collection[str]) -> ModelTest:
    column = _column(args["column"], returns, "relationships")
    target = args["to"]
    if target not in tables:
        raise HeaderError(f"relationships {column}: to {target}, which no asset produces")
    field = _name(args.get("field", column))
    return ModelTest(
        _name(args.get("name", f"{column}_in_{target.rpartition('.')[2]}")),
        _text(args.get("description", f"Every {column} is in {target}"),
              f"relationships {column}: description"),
        f"SELECT count(*) FROM {THIS} WHERE {column} NOT IN (SELECT {field} FROM {target})")


def _keys(value: object, what: str, required: set[str], optional: Collection[str] = ()
          ) -> dict:
    """`value` as a mapping with the required keys and no others."""
    if not isinstance(value, dict):
        raise HeaderError(f"{what}: a mapping of {', '.join(sorted(required))}")
    missing = sorted(required - set(value))
    if missing:
        raise HeaderError(f"{what}: missing {', '.join(missing)}")
    unknown = sorted(map(str, set(value) - required - set(optional)))
    if unknown:
        raise HeaderError(f"{what}: unknown key {', '.join(unknown)}")
    return value


def _column(value: object, returns: list[str], what: str) -> str:
    if value not in returns:
        raise HeaderError(f"{what}: {value} is not a column the SELECT returns")
    return str(value)


def _name(value: object) -> str:
    # Test names become Dagster check names; a field is formatted into SQL.
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise HeaderError(f"{value!r} is not a name (letters, digits, underscores)")
    return value


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HeaderError(f"{what}: {value!r} is not a number")
    return value


def _text(value: object, what: str) -> str:
    """A description on one line, however the YAML wrapped it."""
    if not isinstance(value, str) or not value.strip():
        raise HeaderError(f"{what}: give a text")
    return " ".join(value.split())

"""SQL injection: no SQL is built by formatting data or user input into it.
Values (file names, cell values, months, run ids) are bound as parameters ($name, ?);
what is formatted into SQL is identifiers and fragments the code itself defines: table
and column names (pipelines/warehouse/tables.py, the catalog), model names (checked as
identifiers by sql_graph), rule names, numeric bounds written in the code.

This audit keeps it so: every f-string in pipelines/ that holds SQL may interpolate only
the expressions reviewed below; a new one fails here until it is reviewed and listed.
The other half, hostile names and values stored verbatim, is in test_hostile.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pipelines.settings import PROJECT_ROOT

SQL = re.compile(r"\b(SELECT|INSERT|DELETE|CREATE|COMMENT ON|ALTER|DROP|FROM|WHERE)\b")

# expression -> where its text comes from
REVIEWED = {
    # table names: TABLES, model files (identifiers), the coverage and catalog names
    "table": "a table name of TABLES, KEYS or the warehouse catalog, or a temporary table "
             "of the telemetry ingestion", "target": "a temporary table of the ingestion",
    "table.name": "TABLES", "t.name": "TABLES", "name": "TABLES / reference table names",
    "schema": "TABLES or a model's folder (identifier)", "model.table": "model file name",
    "COVERAGE_TABLE": "constant",
    # column names and lists of them, all from code or the catalog
    "column": "model columns from the catalog", "c": "column names in code or catalog",
    "columns": "TABLES column definitions", "type_": "TABLES column types",
    "listed": "key columns in code", "key[0]": "key columns in code", "k": "key columns in code",
    "content": "register content columns in code", "', '.join(register)": "TABLES columns",
    "', '.join(attributes)": "TABLES columns", "_MEASURE_COLUMNS": "schemas/telemetry.py",
    "', '.join((f'{m} DOUBLE' for m in MEASURES))": "schemas/telemetry.py",
    "', '.join((f'avg({m} ORDER BY {m}) AS {m}' for m in MEASURES))": "schemas/telemetry.py",
    "', '.join(MEASURES)": "schemas/telemetry.py",
    "written": "casts of the measures of schemas/telemetry.py",
    "cells": "an export's columns by position (#n) with casts written in the code",
    "int(offset)": "an integer",
    "instant": "an export's column by position (#n), or a NULL",
    "_REGION_SELECT": "export column list in code",
    "', '.join((f'coalesce(q.{rule}, 0) AS {rule}' for rule in RULES))": "Rule enum",
    '\', \'.join((f"count(*) FILTER (WHERE f.rule = \'{rule}\') AS {rule}" for rule in '
    'RULES))': "Rule enum",
    '\', \'.join((f"sum({c}) FILTER (WHERE level = \'province\') AS p_{c}, max({c}) FILTER '
    '(WHERE level = \'national\') AS n_{c}" for c in (\'centres_operating\', '
    '\'centres_reporting\', \'design_racks\', \'racks_in_use\')))': "columns in code",
    "rule": "Rule enum", "Rule.UNKNOWN_CENTRE": "Rule enum", "conflict": "Rule enum",
    # SQL fragments written in the code
    "select": "a model's SELECT (dbt_like_sql/) or MONTH_COVERAGE",
    "MONTH_COVERAGE": "constant", "_IN_MONTHS": "constant", "hours": "constant SELECT",
    "_ALLOCATED_WITHIN": "constant",
    "samples_sql": "constant SELECT", "_CLEAN": "constant SELECT",
    "rows": "a row filter in code (an integer offset, a table in code)",
    "RULES_SQL": "a transform of dbt_like_sql/ingest/",
    "checked": "the transforms of dbt_like_sql/ingest/ composed",
    "export.scan": "read_csv, read_json or read_parquet, options bound as parameters",
    "export.typed_scan": "read_csv, column types and options bound as parameters",
    "stored": "subquery built from the above",
    "expected": "subquery built from the above", "joined": "key columns in code",
    "differs or 'FALSE'": "column comparisons built from the catalog",
    "low": "numeric bound in code", "high": "numeric bound in code",
    "reader": "read_csv or read_parquet (bench baseline)",
    # COMMENT ON texts between $$: TABLES comments, model headers without '$$' (sql_graph)
    "comment": "TABLES", "table.comment": "TABLES", "model.description": "model header",
    "model.column_docs[column]": "model header",
    # messages, not SQL
    "path": "an error message", "type(tree).__name__": "an error message",
}


def sql_interpolations(root: Path) -> dict[str, list[str]]:
    """Expression -> files, for every f-string under `root` whose text looks like SQL."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if SQL.search(text):
                for value in node.values:
                    if isinstance(value, ast.FormattedValue):
                        found.setdefault(ast.unparse(value.value), []).append(
                            str(path.relative_to(root)))
    return found


def test_sql_interpolates_only_reviewed_identifiers_and_fragments() -> None:
    found = sql_interpolations(PROJECT_ROOT / "pipelines")
    unreviewed = {expr: files for expr, files in found.items() if expr not in REVIEWED}
    assert not unreviewed, f"formatted into SQL, not reviewed: {unreviewed}"
    assert len(found) > 20  # the scan sees the SQL of the package


def test_the_audit_catches_a_value_formatted_into_sql(tmp_path: Path) -> None:
    (tmp_path / "lookup.py").write_text(
        "def centre(con, centre_id):\n"
        "    return con.execute(f\"SELECT * FROM core.centre_register "
        "WHERE centre_id = '{centre_id}'\").fetchall()\n")
    assert sql_interpolations(tmp_path) == {"centre_id": ["lookup.py"]}
    assert "centre_id" not in REVIEWED

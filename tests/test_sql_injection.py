"""SQL injection: no SQL is built by formatting data or user input into it.
Values (file names, cell values, months, run ids) are bound as parameters ($name, ?);
what is formatted into SQL must come from the code itself: table and column names of
TABLES and the catalog, model names (checked as identifiers by sql_graph), rule names,
numeric bounds written in the code.

The audit follows every value formatted into a SQL f-string in pipelines/ back to where
it comes from (tests/provenance.py): through assignments, loops, function parameters (to
every call), dataclass fields (to every construction) and project functions' results,
whatever the variables are called. What is not code-derived must be a source reviewed
below. The other half: hostile names and values run through a real ingestion and are
stored verbatim, and no table is lost."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import openpyxl
import pytest

from pipelines.generate import generate
from pipelines.ingest.register import ALIASES
from pipelines.ingest.workbook import read_tables
from pipelines.settings import PROJECT_ROOT
from tests.compare import problems
from tests.conftest import Census, good_workbooks
from tests.provenance import Package

# (file, expression) -> where its text comes from: the only sources taken on review.
REVIEWED = {
    ("pipelines/sql_graph.py", "path.read_text(encoding='utf-8')"):
        "an SQL model file of dbt_like_sql/ (code): its name checked as an identifier, its "
        "header free of '$$' (it becomes COMMENT ON text)",
    ("pipelines/ingest/ingest_sql.py", "path.read_text(encoding='utf-8')"):
        "a transform of dbt_like_sql/ingest/ (code)",
    ("pipelines/ingest/telemetry.py", "text_cells()"):
        "the temporary table holding an export's cells as written, and its columns' types, "
        "named by the caller (telemetry_load.py: the constant export_text_cells)",
    ("pipelines/defs/resources.py", "Path(self.lake_dir)"):
        "the lake's folder (CENSUS_LAKE_DIR): into SQL only as string literals, its quotes "
        "doubled (spark/lake.py: _literal)",
    ("pipelines/defs/models/sql_assets.py", "list(context.partition_keys)"):
        "the run's partitions: first days of China months (defs/partitions.py), which "
        "name a monthly model's folders in the lake; in queries the month is bound",
    ("pipelines/defs/models/sql_assets.py", "lake.build(model, months)"):
        "the SELECT of a model's rows in the lake (spark/lake.py: Lake.build): the lake's "
        "paths as string literals, its quotes doubled; the month bound as $month",
    ("pipelines/spark/lake.py", "file.sha256"):
        "a landing file's SHA-256 in hex (files.py: hashlib), which names its folder in the "
        "lake; into SQL inside a string literal, its quotes doubled (spark/lake.py)",
    ("pipelines/spark/lake.py", "itertools.groupby(loads, key=lambda row: row[0])"):
        "the warehouse's telemetry loads by month (audit.telemetry_loads, the ingestion "
        "log): a load's SHA-256 in hex names its folder in the lake, which reaches SQL only "
        "inside a string literal, its quotes doubled; its file name and month reach Spark "
        "as values, and paths only hashed or as a date",
    ("pipelines/defs/ingest/telemetry.py", "context.run.run_id"):
        "the Dagster run's id (a UUID Dagster makes): bound as a value in queries, and the "
        "name of the folder of a run's pending samples' hours in the lake (`run_id=…`)",
    ("pipelines/spark/lake.py", "hashlib.sha256(file_name.encode()).hexdigest()"):
        "a landing file's name hashed (hex digits), which names the folder of its pending "
        "samples' hours in the lake",
    ("pipelines/defs/models/sql_files.py", "setting('CENSUS_MODELS_DIR')"):
        "the folder of the SQL models (CENSUS_MODELS_DIR): sql_graph takes its subfolder "
        "and file names only as lower-case SQL identifiers, and the path itself never "
        "reaches SQL",
}


def unreviewed(package: Package) -> list[tuple[str, str, str]]:
    """(file, function, expression) of every SQL interpolation that is neither
    code-derived nor from a reviewed source."""
    return [(module.path.relative_to(package.root).as_posix(),
             getattr(scope, "name", "<module>"), ast.unparse(expr))
            for module, scope, expr in package.sql_interpolations()
            if not package.derived(module, expr)]


def test_everything_formatted_into_sql_comes_from_the_code() -> None:
    package = Package(PROJECT_ROOT, ("pipelines", "schemas"), REVIEWED)
    assert unreviewed(package) == []
    assert len(package.sql_interpolations()) > 50  # the scan sees the SQL of the package
    assert package.used == set(REVIEWED)  # no review is left over


def test_the_audit_follows_values_not_names(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "lookup.py").write_text('''
import os
TABLE = "core.centre_register"

def by_id(con, centre_id):
    return con.execute(f"SELECT * FROM {TABLE} WHERE centre_id = '{centre_id}'")

def count(con, table):
    return con.execute(f"SELECT count(*) FROM {table}")

def callers(con, path):
    count(con, TABLE)
    count(con, path.read_text())

def named_like_a_table(con):
    (table,) = con.execute("SELECT name FROM uploads").fetchone()
    return con.execute(f"DELETE FROM {table}")

def from_the_environment(con):
    schema = os.environ["CENSUS_SCHEMA"]
    return con.execute(f"CREATE SCHEMA {schema}")

def from_the_code(con):
    for table in ("core.a", "core.b"):
        con.execute(f"DROP TABLE {table}")
    columns = ", ".join(f"{c} DOUBLE" for c in ("x", "y"))
    con.execute(f"CREATE TABLE {TABLE} ({columns})")
    count(con, TABLE)
''')
    assert set(unreviewed(Package(tmp_path, ("pkg",)))) == {
        ("pkg/lookup.py", "by_id", "centre_id"),  # no code calls it: the value is outside
        ("pkg/lookup.py", "count", "table"),  # one call passes a file's content
        ("pkg/lookup.py", "named_like_a_table", "table"),  # a query's result
        ("pkg/lookup.py", "from_the_environment", "schema"),
    }


HOSTILE_FILE = "it's \"quoted\"; DROP TABLE core.register_rows; -- "
HOSTILE_SHEET = "'); DROP TABLE core.dim_hub; --"
HOSTILE_NAME = "O'Brien \"DC\"'); DELETE FROM audit.ingestion_log; --"
HOSTILE_VALUE = "1'; DROP TABLE core.centre_register; --"


def hostile_workbook(source: Path, target: Path) -> None:
    """`source` with its first sheet renamed, the first centre's name and the second
    centre's design racks replaced by SQL made to break quoting."""
    table = read_tables(source, ALIASES)[0]
    book = openpyxl.load_workbook(source)
    sheet = book[table.sheet]
    column = {cell.value: cell.column for cell in sheet[table.header_row]}
    first, second = table.frame["source_row"][:2]
    sheet.cell(first, column[table.columns["centre_name"].label], HOSTILE_NAME)
    sheet.cell(second, column[table.columns["design_racks"].label], HOSTILE_VALUE)
    sheet.title = HOSTILE_SHEET
    book.save(target)


@pytest.mark.slow
def test_hostile_names_and_values_are_stored_verbatim(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate(seed=11, centres=20, months=1, start="2025-01", out=landing)
    workbook = next(path for path in good_workbooks(landing, "*.xlsx")
                    if read_tables(path, ALIASES)[0].frame.height > 1)
    hostile_workbook(workbook, workbook.with_name(HOSTILE_FILE + workbook.name))
    workbook.unlink()
    export = sorted((landing / "telemetry").iterdir())[0]
    export.rename(export.with_name(HOSTILE_FILE + export.name))
    shutil.rmtree(landing / "_truth")
    census = Census(landing, tmp_path / "warehouse" / "census.duckdb")
    census.run()

    assert problems(census.warehouse) == []  # every table and model there, and sound
    licensing, telemetry = (f"{folder}/{HOSTILE_FILE}{path.name}"
                            for folder, path in (("licensing", workbook),
                                                 ("telemetry", export)))
    statuses = dict(census.query("SELECT file_name, status FROM audit.ingestion_log").rows())
    assert statuses[licensing] == statuses[telemetry] == "loaded"
    assert census.query("SELECT source_sheet, centre_name FROM core.register_rows "
                        "WHERE source_file = ? AND centre_name = ?",
                        [licensing, HOSTILE_NAME]).rows() == [(HOSTILE_SHEET, HOSTILE_NAME)]
    assert census.query("SELECT sheet, column_name, value, rule FROM audit.quarantine "
                        "WHERE file_name = ? AND value = ?", [licensing, HOSTILE_VALUE]
                        ).rows() == [(HOSTILE_SHEET, "design_racks", HOSTILE_VALUE,
                                      "unparseable")]
    assert census.query("SELECT count(*) FROM core.telemetry_hourly WHERE source_file = ?",
                        [telemetry]).item() > 0
    assert census.query("SELECT count(*) FROM core.dim_hub").item() > 0

"""A mart check run on a copy of a loaded warehouse before and after a corruption."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines.defs.models.sql_files import sql_models
from pipelines.warehouse.model_tests import violations


def violations_before_and_after(warehouse: Path, tmp_path: Path, table: str,
                                check_name: str, corruption: str) -> tuple[int, int]:
    """The rows the check `check_name` of the model `table` finds in May 2025, on a copy
    of `warehouse`, before and after the SQL `corruption`."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    [model] = [m for m in sql_models() if m.table == table]
    [test] = [t for t in model.tests if t.name == check_name]
    con = duckdb.connect(str(copy))
    try:
        before = violations(con, model, test, ["2025-05-01"])
        con.execute(corruption)
        return before, violations(con, model, test, ["2025-05-01"])
    finally:
        con.close()

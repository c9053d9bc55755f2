"""Running a SQL model's data tests (declared in its header) on the warehouse."""

from __future__ import annotations

import duckdb

from pipelines.model_header import THIS, ModelTest
from pipelines.sql_graph import SqlModel

_IN_MONTHS = "month IN (SELECT CAST(unnest($months) AS DATE))"


def checked_rows(model: SqlModel) -> str:
    """The SELECT of the model's rows a run checks: of the months in `$months` for a
    monthly model, all for another."""
    return (f"SELECT * FROM {model.table} WHERE {_IN_MONTHS}" if model.monthly
            else f"SELECT * FROM {model.table}")


def checked_params(model: SqlModel, months: list[str]) -> dict[str, object]:
    """The parameters of `checked_rows` for the run's `months`."""
    return {"months": months} if model.monthly else {}


def held_months(con: duckdb.DuckDBPyConnection, model: SqlModel) -> list[str]:
    """The months a monthly model holds rows of."""
    return [str(month) for (month,) in con.execute(
        f"SELECT DISTINCT month FROM {model.table} ORDER BY month").fetchall()]


def violations(con: duckdb.DuckDBPyConnection, model: SqlModel, test: ModelTest,
               months: list[str]) -> int:
    """Rows (or months) of the model's `months` breaking the test."""
    # On lines of its own: the test's SQL may end in a -- comment.
    return con.execute(f"WITH {THIS} AS ({checked_rows(model)}) SELECT * FROM (\n{test.sql}\n)",
                       checked_params(model, months)).fetchone()[0]

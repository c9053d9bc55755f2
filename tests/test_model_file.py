"""A model is one file: the README's example mart, added beside the real models, becomes
an asset with its dependencies, checks and keys, from its file alone."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, Definitions, materialize

from pipelines.definitions import build_definitions
from pipelines.defs.models.sql_files import sql_models
from pipelines.planner import partition_range_tags
from pipelines.runs import run_census
from pipelines.settings import PROJECT_ROOT, setting
from pipelines.warehouse.integrity import integrity_problems
from tests.conftest import Census

KEY = AssetKey(["marts", "province_reporting"])
MONTHS = [dt.date(2025, m, 1) for m in range(1, 7)]  # the months of `loaded`


def readme_example() -> str:
    """The whole model file the README shows (the SQL block that starts with a header)."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```sql\n/*\n") + len("```sql\n")
    return text[start:text.index("```", start)]


def build(defs: Definitions, months: list[dt.date]) -> dict[str, bool]:
    """Materialise the example mart for `months` in one run: its checks' outcomes."""
    with DagsterInstance.ephemeral() as instance:
        # The resolved asset carries the Definitions' resources (the warehouse).
        result = materialize([defs.resolve_assets_def(KEY)], selection=[KEY],
                             instance=instance, tags=partition_range_tags(months))
    assert result.success
    return {c.check_name: c.passed for c in result.get_asset_check_evaluations()}


def check(warehouse: Path, models: Path) -> list[str]:
    """`census check` of the build copy the run wrote."""
    con = duckdb.connect(str(warehouse.parent / ".build" / warehouse.name), read_only=True)
    try:
        return integrity_problems(con, sql_models(models))
    finally:
        con.close()


def test_a_new_mart_is_one_file(loaded: Census, tmp_path: Path) -> None:
    models = tmp_path / "dbt_like_sql"
    shutil.copytree(setting("CENSUS_MODELS_DIR"), models)
    (models / "marts" / "province_reporting.sql").write_text(readme_example())
    warehouse = tmp_path / "census.duckdb"
    shutil.copyfile(loaded.warehouse, warehouse)
    defs = build_definitions(loaded.landing, warehouse, models=models)

    node = defs.resolve_asset_graph().get(KEY)
    assert node.parent_keys == {AssetKey(["marts", "centre_monthly"])}  # read from the SQL
    assert node.partitions_def.timezone == "Asia/Shanghai"
    assert node.metadata["grain"] == "month, province_code"
    assert [c.name for c in node.metadata["dagster/column_schema"].columns] == [
        "month", "province_code", "centres_operating", "centres_reporting", "reporting_share"]

    checks = build(defs, MONTHS)
    assert checks == {"keys_unique": True, "reporting_share_within_0_1": True,
                      "province_code_in_dim_province": True}
    assert check(warehouse, models) == []  # its keys, and every month equal to its SQL
    built = duckdb.connect(str(warehouse.parent / ".build" / warehouse.name))
    try:
        comment = built.execute("SELECT comment FROM duckdb_tables() "
                                "WHERE table_name = 'province_reporting'").fetchone()[0]
        assert comment.startswith("One row per month (China time) and province")
        # A repeated row: `census check` names the model's grain.
        built.execute("INSERT INTO marts.province_reporting "
                      "SELECT * FROM marts.province_reporting LIMIT 1")
    finally:
        built.close()
    assert ("marts.province_reporting: 1 keys (month, province_code) appear more than once"
            in check(warehouse, models))

    # A broken input row: a centre of a province nobody knows fails the declared test.
    built = duckdb.connect(str(warehouse.parent / ".build" / warehouse.name))
    try:
        built.execute("UPDATE marts.centre_monthly SET province_code = '99' "
                      "WHERE month = '2025-05-01' AND centre_id = (SELECT min(centre_id) "
                      "FROM marts.centre_monthly WHERE month = '2025-05-01')")
    finally:
        built.close()
    checks = build(defs, [dt.date(2025, 5, 1)])
    assert checks == {"keys_unique": True, "reporting_share_within_0_1": True,
                      "province_code_in_dim_province": False}


def test_census_run_builds_a_new_mart_alone(loaded: Census, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "dbt_like_sql"
    shutil.copytree(setting("CENSUS_MODELS_DIR"), models)
    (models / "marts" / "province_reporting.sql").write_text(readme_example())
    monkeypatch.setenv("CENSUS_MODELS_DIR", str(models))
    warehouse = tmp_path / "warehouse" / "census.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(loaded.warehouse, warehouse)
    outcome = run_census(landing=loaded.landing, warehouse=warehouse)
    assert outcome.success, outcome.failure
    assert "months rebuilt (of marts.province_reporting alone): 2025-01, 2025-02, 2025-03, " \
           "2025-04, 2025-05, 2025-06" in outcome.summary
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        built = con.execute("SELECT model, count(*) FROM audit.model_builds "
                            "GROUP BY model ORDER BY model").fetchall()
        rows = con.execute("SELECT count(*) FROM marts.province_reporting").fetchone()[0]
    finally:
        con.close()
    before = Census(loaded.landing, loaded.warehouse).query(
        "SELECT model, count(*) FROM audit.model_builds GROUP BY model ORDER BY model").rows()
    assert built == sorted([*before, ("marts.province_reporting", len(MONTHS))])
    assert rows > 0

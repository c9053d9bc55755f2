"""The code location: the definitions of the pipelines/defs/ folder (README: Layout)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagster import Definitions, definitions, load_from_defs_folder

from pipelines.defs.models.columns import with_columns
from pipelines.defs.models.sql_files import sql_models
from pipelines.defs.resources import census_resources
from pipelines.settings import OPTIONS, apply_defaults, option, setting, settings_given


@definitions
def defs() -> Definitions:
    """Settings from the environment, an unset one at its default (README: Configuration)."""
    apply_defaults()
    return _folder()


def build_definitions(landing: Path | None = None, warehouse: Path | None = None,
                      reference: Path | None = None, models: Path | None = None,
                      exports: Path | None = None) -> Definitions:
    """The same definitions for runs in this process (`census run`, the tests, the
    benchmark) on the given folders, the others at their environment settings; the
    environment is left as it was. A broken SQL model fails here, naming its file."""
    given = {name: path for name, path in (
        ("CENSUS_LANDING_DIR", landing), ("CENSUS_WAREHOUSE", warehouse),
        ("CENSUS_REFERENCE_DIR", reference), ("CENSUS_MODELS_DIR", models),
        ("CENSUS_EXPORT_DIR", exports)) if path is not None}
    with settings_given(given):
        folder = _folder()
        resources = census_resources({
            **{name: setting(name) for name in (
                "CENSUS_LANDING_DIR", "CENSUS_WAREHOUSE", "CENSUS_REFERENCE_DIR",
                "CENSUS_EXPORT_DIR", "CENSUS_LAKE_DIR")},
            **{name: option(name) for name in OPTIONS}})
    return _replaced(folder, resources=resources)


def _folder() -> Definitions:
    """Every definition of pipelines/defs/, each warehouse table with its columns."""
    # Read before the folder, whose loader would wrap a broken model's error in its own.
    models = sql_models()
    folder = load_from_defs_folder(path_within_project=Path(__file__).parent)
    # The loader finds an asset once in each module that names it: each once here.
    assets = list({id(asset): asset for asset in folder.assets or []}.values())
    return _replaced(folder, assets=with_columns(assets, models))


def _replaced(defs: Definitions, **fields: Any) -> Definitions:
    """`defs` with these fields in place of its own (Definitions has no public copy)."""
    return Definitions(**{**{name: getattr(defs, name) for name in _FIELDS}, **fields})


_FIELDS = ("assets", "asset_checks", "jobs", "schedules", "sensors", "resources", "executor",
           "loggers", "metadata", "component_tree")

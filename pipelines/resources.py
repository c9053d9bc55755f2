"""Dagster resources: the warehouse (build copy, single writer, atomic publish), the
landing folder and the reference data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from pipelines.ingest.files import LandingFile, discover
from pipelines.reference import Reference
from pipelines.warehouse.tables import ensure_tables


class Warehouse(ConfigurableResource):
    """The DuckDB warehouse. Runs write a build copy (`.build/` beside the published
    file); `publish` replaces the published file atomically, so analysts reading it are
    never blocked and never see a half-written state (contract §2.1)."""

    path: str
    memory_limit: str = "4GB"
    threads: int = 2

    @property
    def published_path(self) -> Path:
        return Path(self.path)

    @property
    def build_path(self) -> Path:
        return self.published_path.parent / ".build" / self.published_path.name

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The build copy, read-write. It starts as a copy of the published file and
        carries over between runs until published."""
        build = self.build_path
        build.parent.mkdir(parents=True, exist_ok=True)
        if not build.exists() and self.published_path.exists():
            _atomic_copy(self.published_path, build)
        con = duckdb.connect(str(build), config={
            "memory_limit": self.memory_limit, "threads": self.threads})
        try:
            con.execute("SET TimeZone = 'UTC'")  # TIMESTAMPTZ arithmetic in UTC, as stored
            ensure_tables(con)
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()

    def publish(self) -> Path:
        """Replace the published warehouse with the build copy in one rename."""
        with self.writer() as con:
            con.execute("CHECKPOINT")
        _atomic_copy(self.build_path, self.published_path)
        return self.published_path

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection on the published warehouse, as analysts open it."""
        con = duckdb.connect(str(self.published_path), read_only=True)
        try:
            yield con
        finally:
            con.close()


def _atomic_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(source, partial)
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class Landing(ConfigurableResource):
    """The landing folder: `licensing/` for register workbooks, `telemetry/` for exports."""

    root: str

    def files(self, kind: str) -> list[LandingFile]:
        return discover(Path(self.root), kind)


class ReferenceData(ConfigurableResource):
    """Provinces, hubs and clusters (data/reference/)."""

    root: str

    def load(self) -> Reference:
        return Reference.load(Path(self.root))

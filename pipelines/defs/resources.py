"""Dagster resources: the warehouse (build copy, single writer, atomic publish), the
landing folder, the reference data and the export folder; and the resources of the code
location, their settings EnvVars (README: Configuration)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from dagster import ConfigurableResource, Definitions, EnvVar, definitions
from filelock import FileLock, Timeout

from pipelines.export.delivery import Mailer
from pipelines.ingest.export_opener import scratch_folder
from pipelines.ingest.files import LandingFile, discover, list_files, stray_files
from pipelines.reference import Reference
from pipelines.settings import known_engine
from pipelines.warehouse.audit import attempted_sha256s
from pipelines.warehouse.migrations import migrate
from pipelines.warehouse.published_file import atomic_copy, publish_file

if TYPE_CHECKING:
    from pipelines.spark.lake import Lake


class Warehouse(ConfigurableResource):
    """The DuckDB warehouse. Runs write a build copy (`.build/` beside the published
    file); `publish` replaces the published file atomically, so analysts reading it are
    never blocked and never see a half-written state (contract §2.1)."""

    path: str
    scratch: str = "auto"  # CENSUS_SCRATCH_DIR
    memory_limit: str = "2GB"  # with Python and polars beside it, a run stays under 4 GiB
    threads: int = 2

    @property
    def published_path(self) -> Path:
        return Path(self.path)

    @property
    def build_path(self) -> Path:
        return self.published_path.parent / ".build" / self.published_path.name

    @property
    def spare_path(self) -> Path:
        """The file published before the current one, written into at the next publish."""
        return self.build_path.with_name(f"{self.published_path.stem}.spare.duckdb")

    @property
    def scratch_path(self) -> Path:
        """Where the writer puts an export's decompressed or transcoded copy while it
        reads it: this warehouse's folder in CENSUS_SCRATCH_DIR, or where `auto` chooses
        (`scratch_folder`)."""
        return scratch_folder(self.build_path.parent,
                              None if self.scratch == "auto" else Path(self.scratch).resolve())

    @property
    def landing_sha256(self) -> Path:
        """The landing files' SHA-256 by stamp, kept beside the build copy by its writers."""
        return self.build_path.parent / "landing_sha256.json"

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The build copy, read-write. It starts as a copy of the published file and
        carries over between runs until published. One writer at a time across
        processes: a second waits for the first (DuckDB would fail on its lock)."""
        with self._lock(), self._connect() as con:
            yield con

    def publish(self) -> Path:
        """Replace the published warehouse with the build copy in one rename."""
        with self._lock():
            with self._connect() as con:
                con.execute("CHECKPOINT")
            publish_file(self.build_path, self.published_path, self.spare_path)
        return self.published_path

    @contextmanager
    def build_reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection on the build copy, between writers."""
        with self._lock():
            con = duckdb.connect(str(self.build_path), read_only=True)
            try:
                yield con
            finally:
                con.close()

    def attempted_now(self) -> set[str] | None:
        """The SHA-256 of every file the warehouse has attempted (the build copy, which
        runs write first), or None while a writer holds it: a sensor must not wait out a
        run (its evaluation would time out)."""
        try:
            held = self._lock().acquire(blocking=False)
        except Timeout:
            return None
        with held:
            source = self.build_path if self.build_path.exists() else self.published_path
            if not source.exists():
                return set()
            con = duckdb.connect(str(source), read_only=True)
            try:
                return attempted_sha256s(con)
            finally:
                con.close()

    def _lock(self) -> FileLock:
        """The writer lock, a file beside the build copy. A new FileLock each time: one
        holder per open file, so threads of one process (the sensors') exclude each other
        too."""
        return FileLock(self.build_path.with_name(f"{self.build_path.name}.lock"))

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        build = self.build_path
        if not build.exists() and self.published_path.exists():
            atomic_copy(self.published_path, build)
        con = duckdb.connect(str(build), config={
            "memory_limit": self.memory_limit, "threads": self.threads})
        try:
            con.execute("SET TimeZone = 'UTC'")  # TIMESTAMPTZ arithmetic in UTC, as stored
            migrate(con)  # one query when the schema is current
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection on the published warehouse, as analysts open it."""
        con = duckdb.connect(str(self.published_path), read_only=True)
        try:
            yield con
        finally:
            con.close()


class Landing(ConfigurableResource):
    """The landing folder: `licensing/` for register workbooks, `telemetry/` for exports."""

    root: str

    def files(self, kind: str, hashed: Path | None = None) -> list[LandingFile]:
        """The files of one kind; `hashed` remembers their SHA-256 between runs."""
        return discover(Path(self.root), kind, hashed)

    def paths(self) -> list[tuple[Path, str]]:
        """Every file of both folders with its path under the landing folder, unhashed."""
        return list_files(Path(self.root))

    def strays(self) -> list[str]:
        """The files census does not read, outside both folders (`stray_files`)."""
        return stray_files(Path(self.root))


class ReferenceData(ConfigurableResource):
    """Provinces, hubs and clusters (data/reference/)."""

    root: str

    def load(self) -> Reference:
        return Reference.load(Path(self.root))


class Engine(ConfigurableResource):
    """The engine that runs the SQL models (CENSUS_ENGINE): `duckdb`, in the warehouse
    itself, or `spark` on CENSUS_SPARK_MASTER over the lake in CENSUS_LAKE_DIR, the
    warehouse then loading each model's rows from the lake."""

    name: str
    spark_master: str
    lake_dir: str

    def lake(self) -> Lake | None:
        """The lake and its Spark session with `spark`; None with `duckdb`."""
        if known_engine(self.name) == "duckdb":
            return None
        # Imported here: a process on the embedded engine does not load pyspark.
        from pipelines.spark.lake import Lake
        from pipelines.spark.session import spark_session

        return Lake(Path(self.lake_dir), spark_session(self.spark_master, Path(self.lake_dir)))


class ExportFolder(ConfigurableResource):
    """Where the ministry exports go (CENSUS_EXPORT_DIR), one folder per month."""

    root: str

    @property
    def path(self) -> Path:
        return Path(self.root)


@definitions
def resources() -> Definitions:
    return Definitions(resources=census_resources())


def census_resources(given: Mapping[str, Path | str] | None = None) -> dict[str, Any]:
    """The resources by key: a setting `given` (by variable name) is a plain value, any
    other an EnvVar, which the UI shows by name and a run resolves from its environment."""
    def value(name: str) -> str | EnvVar:
        return str(given[name]) if given and name in given else EnvVar(name)

    return {
        "warehouse": Warehouse(path=value("CENSUS_WAREHOUSE"),
                               scratch=value("CENSUS_SCRATCH_DIR")),
        "landing": Landing(root=value("CENSUS_LANDING_DIR")),
        "reference": ReferenceData(root=value("CENSUS_REFERENCE_DIR")),
        "exports": ExportFolder(root=value("CENSUS_EXPORT_DIR")),
        "engine": Engine(name=value("CENSUS_ENGINE"), spark_master=value("CENSUS_SPARK_MASTER"),
                         lake_dir=value("CENSUS_LAKE_DIR")),
        "mailer": Mailer.from_env(),
    }


"""Shared fixtures: generated inputs, and a census (landing folder, warehouse, Dagster
instance) in a temporary folder, run through the real Dagster job."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult
from filelock import FileLock

from pipelines.definitions import build_definitions
from pipelines.generate import generate
from pipelines.runs import RunOutcome, run_census, run_export
from pipelines.settings import ensure_dagster_home

SEED, CENTRES, MONTHS, START = 7, 70, 6, "2025-01"
# The Spark comparison's centres: the generator plants every fault, export form and
# restatement at this size too, in 21 exports rather than 47 (Spark's jobs cost seconds
# an export).
SPARK_CENTRES = 20


@dataclass
class Census:
    landing: Path
    warehouse: Path

    def run(self) -> RunOutcome:
        """One `census run`: ingest, the months touched, publish (real Dagster runs)."""
        outcome = run_census(landing=self.landing, warehouse=self.warehouse)
        assert outcome.success, outcome.failure
        return outcome

    def ingest(self) -> ExecuteInProcessResult:
        """The ingest job alone, for its asset check evaluations."""
        job = build_definitions(self.landing, self.warehouse).resolve_job_def("ingest")
        with DagsterInstance.ephemeral() as instance:
            return job.execute_in_process(instance=instance)

    def query(self, sql: str, params: list | None = None) -> pl.DataFrame:
        """Read the published warehouse as an analyst does."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).pl()
        finally:
            con.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: with two workers (`make test`), the longest does not run last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Dagster instance of the test session's own, as `census run` makes one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster_home")))
        yield ensure_dagster_home()


@pytest.fixture(scope="session", autouse=True)
def spark_defaults() -> Iterator[None]:
    """Spark's defaults for every session the tests start, in process or in `census run`
    (tests/spark_conf/spark-defaults.conf), whatever the machine's SPARK_CONF_DIR."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARK_CONF_DIR", str(Path(__file__).parent / "spark_conf"))
        yield


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str,
              make: Callable[[Path], None]) -> Path:
    """The folder `make` fills, made once in a test session: of the workers `make test`
    starts (pytest-xdist), the first to ask makes it and the others wait for it."""
    root = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        root = root.parent  # the session's folder, above each worker's own
    folder, made = root / name, root / f"{name}.made"
    with FileLock(root / f"{name}.lock"):
        if not made.exists():
            shutil.rmtree(folder, ignore_errors=True)
            make(folder)
            made.touch()
    return folder


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated register workbooks (truth in _truth/), shared read-only by tests."""
    return made_once(tmp_path_factory, "generated", lambda folder: generate(
        seed=SEED, centres=CENTRES, months=MONTHS, start=START, out=folder / "landing")
    ) / "landing"


@pytest.fixture(scope="session")
def loaded(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Census:
    """The generated inputs ingested once by the real Dagster job; each worker has a copy
    of its own (tests run jobs on it)."""
    def load(folder: Path) -> None:
        assert Census(generated, folder / "census.duckdb").run().success

    own = tmp_path_factory.mktemp("loaded")
    shutil.copytree(made_once(tmp_path_factory, "loaded", load), own, dirs_exist_ok=True)
    return Census(generated, own / "census.duckdb")


@pytest.fixture(scope="session")
def two_months(tmp_path_factory: pytest.TempPathFactory) -> Census:
    """The generator's inputs for two months, loaded by the embedded engine: what the
    Spark engine's runs are compared with (every export form and fault the generator
    plants; fewer months keep Spark's fixed cost per month and file down). Read-only."""
    def make(folder: Path) -> None:
        generate(seed=SEED, centres=SPARK_CENTRES, months=2, start=START,
                 out=folder / "landing")
        # Beside them, an export whose name Hadoop would read as a pattern, its header
        # repeating a column (the first is read) and leaving one unnamed.
        (folder / "landing" / "telemetry" / "site[1]_2025-02.csv").write_text(
            "centre_id,ts,racks_in_use,it_load_kw,facility_load_kw,cpu_util_pct,it_load_kw,\n"
            "ZZ-EDGE-1,2025-02-01T00:00:00Z,1,2,3,4,99,x\n", encoding="utf-8")
        # And a Parquet export with INT96 times (Impala's, Hive's): naive, China time.
        pq.write_table(pa.table({
            "centre_id": ["ZZ-EDGE-2"], "ts": pa.array([dt.datetime(2025, 2, 1, 8)]),
            **{m: [1.0] for m in ("racks_in_use", "it_load_kw", "facility_load_kw",
                                  "cpu_util_pct")}}),
            folder / "landing" / "telemetry" / "int96_2025-02.parquet",
            use_deprecated_int96_timestamps=True)
        assert Census(folder / "landing", folder / "census.duckdb").run().success

    folder = made_once(tmp_path_factory, "two_months", make)
    return Census(folder / "landing", folder / "census.duckdb")


@pytest.fixture(scope="module")
def export_warehouse(loaded: Census, tmp_path_factory: pytest.TempPathFactory) -> Census:
    """A copy of the loaded warehouse for one test module: exports record deliveries in
    it."""
    copy = tmp_path_factory.mktemp("export_warehouse") / "census.duckdb"
    shutil.copyfile(loaded.warehouse, copy)
    return Census(loaded.landing, copy)


@pytest.fixture(scope="module")
def exported(export_warehouse: Census, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ministry export of the last generated month (2025-06), its folder."""
    root = tmp_path_factory.mktemp("exports")
    outcome = run_export(dt.date(2025, 6, 1), warehouse=export_warehouse.warehouse,
                         exports=root)
    assert outcome.success, outcome.failure
    return root / "2025-06"


@pytest.fixture
def census(tmp_path: Path) -> Iterator[Census]:
    """An empty landing folder and warehouse of the test's own."""
    landing = tmp_path / "landing"
    (landing / "licensing").mkdir(parents=True)
    yield Census(landing, tmp_path / "warehouse" / "census.duckdb")


def copy_into(source: Path, census: Census, name: str | None = None,
              folder: str = "licensing") -> Path:
    target = census.landing / folder / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def good_workbooks(generated: Path, pattern: str = "*") -> list[Path]:
    """Generated workbooks the truth expects to load (not the planted rejections)."""
    loaded = set(truth(generated, "register_files").filter(status="loaded")["file_name"])
    return [p for p in sorted((generated / "licensing").glob(pattern))
            if f"licensing/{p.name}" in loaded]


def quarter_pair(generated: Path) -> tuple[Path, Path]:
    """One province's first- and second-quarter workbooks."""
    versions = truth(generated, "register_versions")
    files = versions.group_by("province_code").agg(
        first=pl.col("source_file").filter(pl.col("valid_from") == "2025-03-31").first(),
        second=pl.col("source_file").filter(pl.col("valid_from") == "2025-06-30").first(),
    ).drop_nulls().sort("province_code")
    first, second = files.row(0)[1:]
    return generated / first, generated / second


def late_centre(generated: Path) -> tuple[str, pl.DataFrame]:
    """A centre first registered in the second quarter with telemetry before then."""
    versions = truth(generated, "register_versions")
    first = versions.group_by("centre_id").agg(pl.col("valid_from").min())
    late = set(first.filter(pl.col("valid_from") == "2025-06-30")["centre_id"])
    expected = pl.read_parquet(generated / "_truth" / "telemetry_hourly.parquet")
    candidates = expected.filter(pl.col("centre_id").is_in(late))
    centre = sorted(set(candidates["centre_id"]))[0]
    return centre, candidates.filter(centre_id=centre)


def truth(generated: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(generated / "_truth" / f"{name}.csv", infer_schema=False)


def typed_like(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Truth CSV text columns in the warehouse's types."""
    def convert(name: str) -> pl.Expr:
        dtype = schema[name]
        if dtype == pl.Date:
            return pl.col(name).str.to_date()
        if dtype == pl.Boolean:
            return pl.col(name) == "true"
        return pl.col(name).cast(dtype)
    return frame.select(convert(name) for name in schema)

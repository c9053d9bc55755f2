"""The benchmark's phases, one after the other in this process, each timed with its own
peak RSS (sampled from /proc): (a) DuckDB read_csv of the exports, (b) the pipeline's
telemetry ingestion of the same files, (c) the marts for all months, (d) one more month
landing, (e) the register workbook parsed and validated; and of (b), (c) and (d), the
seconds of each job they run (where the time goes)."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
from dagster import DagsterInstance

from pipelines.bench import FULL_SCALE
from pipelines.bench.inputs import BenchInputs
from pipelines.progress import progress
from pipelines.spark import local_cores

# The targets: (b)/(a), (c) seconds, (d)/(b), (e) seconds, peak RSS.
TARGETS = {"b_over_a": 2.0, "c_seconds": 60.0, "d_over_b": 0.15, "e_seconds": 2.0,
           "peak_rss_gib": 4.0}


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    rows: int = 0
    peak_rss_mib: float = 0.0
    runs: dict[str, float] = field(default_factory=dict)  # job -> seconds, where it runs jobs

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class BenchResult:
    centres: int
    months: int
    export_format: str
    engine: str  # what read the telemetry and built the SQL models (CENSUS_ENGINE)
    phases: list[Phase] = field(default_factory=list)
    model_input_rows: int = 0  # centre-hours the models of (c) read
    cores: int = 0  # what the models ran on: DuckDB's threads, or Spark's local[N]

    def phase(self, letter: str) -> Phase:
        return next(p for p in self.phases if p.name.startswith(f"({letter})"))

    @property
    def ratios(self) -> dict[str, float]:
        a, b, d = self.phase("a"), self.phase("b"), self.phase("d")
        return {"b_over_a": b.seconds / a.seconds, "d_over_b": d.seconds / b.seconds}

    def as_dict(self) -> dict:
        return {**asdict(self), "ratios": self.ratios, "targets": TARGETS,
                "rows_per_second": {p.name: p.rows_per_second for p in self.phases}}


class RssPeak:
    """Peak resident memory of this process and its children while a phase runs (VmRSS
    every 20 ms)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            self._stop.wait(0.02)

    def __enter__(self) -> RssPeak:
        self.peak = _rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def _rss_bytes(pid: str = "self") -> int:
    """The resident memory of the process and of every process it started (Spark's
    JVM, with the engine `spark`)."""
    proc = Path("/proc") / pid
    try:
        status = (proc / "status").read_text()
    except OSError:  # it ended meanwhile
        return 0
    own = next((int(line.split()[1]) * 1024 for line in status.splitlines()
                if line.startswith("VmRSS:")), 0)
    children = []
    for task in proc.glob("task/*/children"):
        try:
            children += task.read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
    return own + sum(_rss_bytes(child) for child in children)


@contextmanager
def measured(result: BenchResult, name: str,
             rows: Callable[[], int] | None = None) -> Iterator[Phase]:
    """The phase's seconds and peak RSS while its body runs; `rows`, where given, counts
    its rows after the clock stops."""
    phase = Phase(name)
    progress(f"{name} …")
    with RssPeak() as rss:
        started = time.perf_counter()
        yield phase
        phase.seconds = time.perf_counter() - started
    if rows is not None:
        phase.rows = rows()
    phase.peak_rss_mib = rss.peak / 2**20
    result.phases.append(phase)
    progress(f"{name}: {phase.seconds:,.1f} s, {phase.rows:,} rows, "
             f"peak RSS {phase.peak_rss_mib:,.0f} MiB", done=True)


def run_bench(inputs: BenchInputs, work: Path, export_format: str, centres: int,
              months: int) -> BenchResult:
    """Every phase on a fresh work folder; the last month is held back for (d). The runs
    share one Dagster instance, as `census run`'s runs and the daemon's do."""
    with DagsterInstance.ephemeral() as instance:
        return _phases(instance, inputs, work, export_format, centres, months)


def _phases(instance: DagsterInstance, inputs: BenchInputs, work: Path, export_format: str,
            centres: int, months: int) -> BenchResult:
    from pipelines.definitions import build_definitions
    from pipelines.ingest.files import STAMP_SETTLED_SECONDS
    from pipelines.ingest.register import read_register_file
    from pipelines.planner import partition_range_tags
    from pipelines.reference import Reference
    from pipelines.runs import console_logs
    from pipelines.settings import option, setting

    shutil.rmtree(work, ignore_errors=True)
    landing, warehouse = work / "landing", work / "warehouse" / "census.duckdb"
    (landing / "telemetry").mkdir(parents=True)
    (landing / "licensing").mkdir()
    shutil.copy(inputs.register, landing / "licensing")
    files = inputs.exports[export_format]
    history, last = files[:-1], files[-1]
    result = BenchResult(centres, months, export_format, option("CENSUS_ENGINE"))
    result.cores = model_cores(result.engine, option("CENSUS_SPARK_MASTER"))
    defs = build_definitions(landing, warehouse)
    config = console_logs(verbose=False)

    def run(job: str, phase: Phase | None = None, **tags: str) -> None:
        """The job run in this process; its seconds added to the phase's runs."""
        started = time.perf_counter()
        outcome = defs.resolve_job_def(job).execute_in_process(
            instance=instance, run_config=config, tags=tags, raise_on_error=True)
        assert outcome.success
        if phase is not None:
            phase.runs[job] = phase.runs.get(job, 0.0) + time.perf_counter() - started

    run("ingest")  # the register (and reference) first: (b) is the telemetry alone

    baseline = work / "baseline.duckdb"
    with measured(result, "(a) DuckDB read_csv / read_parquet",
                  rows=lambda: _count(baseline, _RAW_ROWS)):
        con = duckdb.connect(str(baseline), config={"memory_limit": "4GB", "threads": 2})
        reader = "read_parquet" if export_format == "parquet" else "read_csv"
        con.execute(f"CREATE TABLE raw AS SELECT * FROM {reader}(?)",
                    [[str(p) for p in history]])
        con.close()

    for path in history:
        shutil.copy(path, landing / "telemetry")
    # As files land days before the run that finds the next month's: old enough that their
    # SHA-256 is remembered by stamp, rather than read again in (d).
    time.sleep(STAMP_SETTLED_SECONDS)
    with measured(result, "(b) census telemetry ingestion",
                  rows=lambda: _loaded_rows(warehouse)) as phase:
        run("ingest", phase)

    all_months = [dt.date.fromisoformat(f"{p.name.split('_')[1][:7]}-01") for p in files]
    with measured(result, "(c) marts, all months",
                  rows=lambda: _count(warehouse, _MART_ROWS)) as phase:
        run("monthly", phase, **partition_range_tags(all_months[:-1]))
        run("publish", phase)
    result.model_input_rows = _count(warehouse, _HOURLY_ROWS)

    shutil.copy(last, landing / "telemetry")
    before = _loaded_rows(warehouse)
    with measured(result, "(d) one more month (incremental)",
                  rows=lambda: _loaded_rows(warehouse) - before) as phase:
        run("ingest", phase)
        run("monthly", phase, **partition_range_tags([all_months[-1]]))
        run("publish", phase)

    reference = Reference.load(setting("CENSUS_REFERENCE_DIR"))
    with measured(result, "(e) register workbook parsed and validated") as phase:
        parsed = read_register_file(inputs.register, "licensing/" + inputs.register.name,
                                    reference)
        phase.rows = parsed.accepted.height
    return result


def _loaded_rows(warehouse: Path) -> int:
    from pipelines.defs.resources import Warehouse

    with Warehouse(path=str(warehouse)).build_reader() as con:
        return con.execute("SELECT coalesce(sum(rows_loaded), 0) FROM audit.ingestion_log "
                           "WHERE kind = 'telemetry' AND status = 'loaded'").fetchone()[0]


def model_cores(engine: str, master: str) -> int:
    """The cores the engine runs on in this process: the warehouse's threads, or those of
    Spark's local mode (a cluster's are its executors', unknown here: 0)."""
    from pipelines.defs.resources import Warehouse

    if engine == "duckdb":
        return Warehouse.model_fields["threads"].default
    return local_cores(master)


def _count(database: Path, select: str) -> int:
    """The one number `select` gives on a DuckDB file, opened read-only."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(select).fetchone()[0]
    finally:
        con.close()


_RAW_ROWS = "SELECT count(*) FROM raw"
_HOURLY_ROWS = "SELECT count(*) FROM core.telemetry_hourly"
_MART_ROWS = ("SELECT (SELECT count(*) FROM marts.centre_monthly) + (SELECT count(*) FROM "
              "marts.region_monthly) + (SELECT count(*) FROM marts.surplus_compute)")


def report(result: BenchResult, machine: str) -> str:
    lines = [f"census bench: {result.centres:,} centres × {result.months} months, "
             f"{result.export_format} exports, telemetry and models on {result.engine}; "
             f"{machine}",
             f"{'phase':44}{'seconds':>10}{'rows':>14}{'rows/s':>13}{'peak RSS MiB':>14}"]
    for p in result.phases:
        lines.append(f"{p.name:44}{p.seconds:>10,.1f}{p.rows:>14,}{p.rows_per_second:>13,.0f}"
                     f"{p.peak_rss_mib:>14,.0f}")
        lines += [f"    run `{job}`{'':{34 - len(job)}}{seconds:>10,.1f}"
                  for job, seconds in p.runs.items()]
    ingest = result.phase("b")
    if ingest.seconds and result.cores:
        lines.append(f"(b) the ingestion read {ingest.rows:,} samples in {ingest.seconds:,.1f} "
                     f"s: {ingest.rows / ingest.seconds / result.cores:,.0f} per core "
                     f"({result.cores} cores)")
    models = result.phase("c").runs.get("monthly", 0.0)
    if models and result.cores:
        lines.append(f"(c) the monthly models read {result.model_input_rows:,} centre-hours "
                     f"in {models:,.1f} s: {result.model_input_rows / models:,.0f} rows/s, "
                     f"{result.model_input_rows / models / result.cores:,.0f} per core "
                     f"({result.cores} cores)")
    ratios = result.ratios
    lines.append(f"ratio (b)/(a) = {ratios['b_over_a']:.2f} (target ≤ {TARGETS['b_over_a']}); "
                 f"(d)/(b) = {ratios['d_over_b']:.3f} (target ≤ {TARGETS['d_over_b']}); "
                 f"(c) target ≤ {TARGETS['c_seconds']:.0f} s; (e) target ≤ "
                 f"{TARGETS['e_seconds']:.0f} s; peak RSS target ≤ "
                 f"{TARGETS['peak_rss_gib'] * 1024:,.0f} MiB")
    if result.centres < FULL_SCALE["centres"] or result.months < FULL_SCALE["months"]:
        # A smaller bench weighs each run's fixed costs against fewer rows.
        lines.append(f"the targets are for {FULL_SCALE['centres']:,} centres × "
                     f"{FULL_SCALE['months']} months; at this scale the ratios are not "
                     "measured against them")
    return "\n".join(lines)

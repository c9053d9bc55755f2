"""Running the census job from code (the CLI, tests, benchmarks) and summarising it."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from dagster import DagsterInstance, ExecuteInProcessResult

from pipelines.settings import setting


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    summary: str
    failure: str | None


def run_census(verbose: bool = False) -> RunOutcome:
    """Materialise every asset (the `census` job) in this process, recorded in the
    Dagster instance of DAGSTER_HOME so the UI shows the run."""
    from pipelines.definitions import build_definitions

    job = build_definitions().resolve_job_def("census")
    level = "INFO" if verbose else "CRITICAL"  # the CLI prints its own one-line reason
    result = job.execute_in_process(
        instance=DagsterInstance.get(), raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": level}}}},
    )
    if not result.success:
        return RunOutcome(False, result.run_id, "", _failure_reason(result))
    return RunOutcome(True, result.run_id, summarise(result.run_id), None)


def summarise(run_id: str) -> str:
    """Files loaded / skipped / rejected and rows loaded / rejected / warned by a run,
    read from the published warehouse."""
    con = duckdb.connect(str(setting("CENSUS_WAREHOUSE")), read_only=True)
    try:
        rows = con.execute("""
            SELECT kind,
                   count(*) FILTER (status = 'loaded'),
                   count(*) FILTER (status = 'skipped_duplicate'),
                   count(*) FILTER (status = 'rejected'),
                   coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0),
                   coalesce(sum(rows_warned), 0)
            FROM audit.ingestion_log WHERE run_id = ? GROUP BY kind ORDER BY kind
        """, [run_id]).fetchall()
        centres = con.execute(
            "SELECT count(DISTINCT centre_id) FROM core.centre_register").fetchone()[0]
    finally:
        con.close()
    lines = [f"census run {run_id[:8]} succeeded; warehouse {setting('CENSUS_WAREHOUSE')}"]
    if not rows:
        lines.append("  no new files")
    for kind, loaded, skipped, rejected, r_loaded, r_rejected, r_warned in rows:
        lines.append(f"  {kind}: files loaded {loaded} / skipped {skipped} / rejected {rejected}; "
                     f"rows loaded {r_loaded} / rejected {r_rejected} / warned {r_warned}")
    lines.append(f"  register: {centres} centres")
    return "\n".join(lines)


def _failure_reason(result: ExecuteInProcessResult) -> str:
    """One line: the failed step and the innermost error (Dagster wraps user errors)."""
    failures = [e for e in result.all_events if e.is_step_failure]
    if not failures:
        return "the run did not succeed"
    error = failures[0].step_failure_data.error
    while error.cause is not None:
        error = error.cause
    message = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
    return f"{failures[0].step_key}: {message}"

"""Running the census job from code (the CLI, tests, benchmarks) and summarising it."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from dagster import DagsterInstance

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
    level = "INFO" if verbose else "WARNING"
    result = job.execute_in_process(
        instance=DagsterInstance.get(), raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": level}}}},
    )
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        reason = (f"{failures[0].step_key}: {failures[0].step_failure_data.error.message.strip()}"
                  if failures else "the run did not succeed")
        return RunOutcome(False, result.run_id, "", reason.splitlines()[0])
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

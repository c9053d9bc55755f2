"""Running census from code (the CLI, tests, benchmarks) and summarising a run."""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import duckdb
from dagster import DagsterInstance, DagsterRunStatus, ExecuteInProcessResult, RunsFilter
from dagster._utils.error import SerializableErrorInfo

from pipelines.defs.ingest.jobs import ingest_job
from pipelines.defs.models.jobs import monthly_job
from pipelines.defs.publish.jobs import publish_job
from pipelines.defs.resources import Warehouse
from pipelines.failures import innermost_message
from pipelines.ingest.files import NAMED_FILES, stray_files, strays_named
from pipelines.planner import INGEST, PlannedRun, next_run
from pipelines.progress import Report, quiet
from pipelines.settings import option, setting

PROCESS_TAG = "census/process"
_STARTING = {  # what `census run` reports as each job starts
    ingest_job.name: "census run: ingesting the new files (register, then telemetry) …",
    monthly_job.name: "census run: rebuilding {months} months ({models}) …",
    publish_job.name: "census run: publishing the warehouse …",
}


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str  # the ingest run, whose files the summary counts
    summary: str
    failure: str | None
    interrupted: bool = False  # stopped by Ctrl-C (SIGINT), not by a fault


def console_logs(verbose: bool) -> dict[str, object]:
    """The run config of Dagster's console logger: its event log (steps,
    materialisations, checks: logged at DEBUG) where `verbose`, else only what stops a
    run, whose one-line reason the caller prints."""
    level = "DEBUG" if verbose else "CRITICAL"
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def run_census(verbose: bool = False, landing: Path | None = None,
               warehouse: Path | None = None, report: Report = quiet) -> RunOutcome:
    """Ingest new files, rebuild the months due, publish: the runs the planner names
    (`next_run`, the path the sensors follow too), in this process, recorded in the
    Dagster instance of DAGSTER_HOME so the UI shows them. `report` is told each run as
    it starts."""
    from pipelines.definitions import build_definitions

    defs = build_definitions(landing, warehouse)
    published = warehouse or setting("CENSUS_WAREHOUSE")
    planner_view = Warehouse(path=str(published))
    config = console_logs(verbose)
    instance = DagsterInstance.get()
    fail_abandoned_runs(instance)
    planned: PlannedRun | None = INGEST
    ingest_run_id = ""
    months: tuple[dt.date, ...] = ()
    models: tuple[str, ...] = ()
    while planned is not None:
        report(_STARTING[planned.job_name].format(
            months=len(planned.months), models=", ".join(planned.models) or "every model"))
        result = defs.resolve_job_def(planned.job_name).execute_in_process(
            instance=instance, raise_on_error=False, run_config=config,
            tags={**planned.tags, **process_tag()}, asset_selection=planned.asset_selection)
        ingest_run_id = ingest_run_id or result.run_id
        if not result.success:
            return _failed(result, ingest_run_id)
        months += planned.months
        models += planned.models
        planned = next_run(planner_view, planned.job_name)
    strays = stray_files(landing or setting("CENSUS_LANDING_DIR"))
    return RunOutcome(True, ingest_run_id,
                      summarise(published, ingest_run_id, list(months), strays, models), None)


def run_export(month: dt.date, resend: bool = False, verbose: bool = False,
               warehouse: Path | None = None, exports: Path | None = None) -> RunOutcome:
    """The `export` job for one month, as the schedule runs it; `resend` mails the
    workbook again even if it was delivered."""
    from pipelines.definitions import build_definitions
    from pipelines.defs.exports.assets import EXPORT_KEY

    defs = build_definitions(warehouse=warehouse, exports=exports)
    instance = DagsterInstance.get()
    fail_abandoned_runs(instance)
    result = defs.resolve_job_def("export").execute_in_process(
        instance=instance, raise_on_error=False, partition_key=month.isoformat(),
        tags=process_tag(),
        run_config={**console_logs(verbose),
                    "ops": {EXPORT_KEY.to_python_identifier(): {"config": {"resend": resend}}}})
    if not result.success:
        return _failed(result, result.run_id)
    materialised = result.asset_materializations_for_node(EXPORT_KEY.to_python_identifier())
    metadata = materialised[0].metadata
    warning = metadata.get("warning")
    said = "" if warning is None else f"\nwarning: {warning.value}"
    return RunOutcome(True, result.run_id, f"census export {month:%Y-%m}: "
                      f"{metadata['folder'].value}; delivery: {metadata['delivery'].value}"
                      f"{said}", None)


def process_tag() -> dict[str, str]:
    """The tag naming the process that runs a job in-process (`census run`, `census
    export`): host and process id."""
    return {PROCESS_TAG: f"{socket.gethostname()}:{os.getpid()}"}


def fail_abandoned_runs(instance: DagsterInstance) -> None:
    """Mark failed the runs whose `census` process on this host died before they ended
    (killed, machine restarted): the UI would show them in progress forever, and the
    run-failure sensor records and reports them. Dagster's run monitoring does not: it
    watches only runs a run launcher started, never those run in-process."""
    for run in instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.NOT_STARTED,
                                                      DagsterRunStatus.STARTED])):
        host, _, pid = run.tags.get(PROCESS_TAG, "").rpartition(":")
        if host != socket.gethostname() or _alive(int(pid)):
            continue
        instance.report_run_failed(run, message=f"the census process ({pid}) running it "
                                   "ended before the run did (killed or machine restarted)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def latest_month(warehouse: Path) -> dt.date:
    """The last month the published marts hold."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("SELECT max(month) FROM marts.region_monthly").fetchone()[0]
    finally:
        con.close()


def summarise(warehouse: Path, run_id: str, months: list[dt.date],
              strays: list[str], models: tuple[str, ...] = ()) -> str:
    """Files loaded / skipped / rejected and rows loaded / rejected / warned by a run,
    the files not loaded and why (what a skipped one duplicates), and the corrections,
    read from the published warehouse; the months rebuilt, of `models` where not all;
    and the landing folder's `strays`, which census does not read."""
    con = duckdb.connect(str(warehouse), read_only=True)
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
        centres, hours = con.execute(
            "SELECT (SELECT count(DISTINCT centre_id) FROM core.centre_register), "
            "(SELECT count(*) FROM core.telemetry_hourly)").fetchone()
        unloaded = con.execute("""
            SELECT CASE status WHEN 'rejected' THEN 'rejected' ELSE 'skipped' END,
                   file_name, message
            FROM audit.ingestion_log WHERE run_id = ? AND status <> 'loaded'
            ORDER BY kind, file_name""", [run_id]).fetchall()
        corrections = con.execute("""
            SELECT l.file_name, r.source_file, count(*) FROM audit.ingestion_log l
            JOIN core.register_rows r ON r.replaced_by = l.file_name
            WHERE l.run_id = ? AND l.status = 'loaded' GROUP BY ALL ORDER BY ALL""",
                                  [run_id]).fetchall()
    finally:
        con.close()
    lines = [f"census run {run_id[:8]} succeeded; warehouse {warehouse}"]
    if not rows:
        lines.append("  no new files")
    for kind, loaded, skipped, rejected, r_loaded, r_rejected, r_warned in rows:
        lines.append(f"  {kind}: files loaded {loaded} / skipped {skipped} / rejected {rejected}; "
                     f"rows loaded {r_loaded} / rejected {r_rejected} / warned {r_warned}")
    lines += [f"  {what} {name}: {why}" for what, name, why in unloaded[:NAMED_FILES]]
    if len(unloaded) > NAMED_FILES:
        lines.append(f"  … and {len(unloaded) - NAMED_FILES} more files skipped or rejected "
                     "(audit.ingestion_log)")
    lines += [f"  corrected: {name} replaces {n} rows of {earlier}"
              for name, earlier, n in corrections]
    if strays:
        lines.append(f"  {strays_named(strays)}")
    lines.append(f"  register: {centres} centres; telemetry: {hours} centre-hours")
    if months:
        on_spark = (f" by Spark on {option('CENSUS_SPARK_MASTER')}, lake "
                    f"{setting('CENSUS_LAKE_DIR')}" if option("CENSUS_ENGINE") == "spark" else "")
        of = f" (of {', '.join(models)} alone)" if models else ""
        lines.append(f"  months rebuilt{on_spark}{of}: "
                     f"{', '.join(m.strftime('%Y-%m') for m in months)}")
    return "\n".join(lines)


def _failed(result: ExecuteInProcessResult, run_id: str) -> RunOutcome:
    """A failed run's outcome: one line, the failed step and the innermost error."""
    failures = [e for e in result.all_events if e.is_step_failure]
    if not failures:
        return RunOutcome(False, run_id, "", "the run did not succeed")
    error = failures[0].step_failure_data.error
    reason = f"{failures[0].step_key}: {innermost_message(error)}"
    return RunOutcome(False, run_id, "", reason, interrupted=_interrupted(error))


def _interrupted(error: SerializableErrorInfo | None) -> bool:
    """Whether Dagster stopped the step because of SIGINT (it wraps the interruption)."""
    while error is not None:
        if error.cls_name == "DagsterExecutionInterruptedError":
            return True
        error = error.cause
    return False

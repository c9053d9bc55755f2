"""Failed runs: what failed and why, recorded in audit.run_failures and mailed to the
engineers (CENSUS_ALERT_RECIPIENTS)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from dagster import DagsterEvent, DagsterRun
from dagster._utils.error import SerializableErrorInfo

from pipelines.defs.resources import Warehouse
from pipelines.export import delivery
from pipelines.export.delivery import Mailer
from pipelines.warehouse.tables import insert_frame


@dataclass(frozen=True)
class RunFailure:
    run_id: str
    job_name: str
    steps: str  # the failed steps (assets), comma-separated
    reason: str


def innermost_message(error: SerializableErrorInfo) -> str:
    """The first line of the innermost error (Dagster wraps user errors); a Failure raised
    on purpose gives its description."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
    if error.cls_name == "Failure":
        message = message.partition(": ")[2]
    return message


def describe(run: DagsterRun, step_failures: Sequence[DagsterEvent],
             run_message: str) -> RunFailure:
    steps = [event.step_key or "" for event in step_failures]
    reasons = [innermost_message(event.step_failure_data.error) for event in step_failures
               if event.step_failure_data and event.step_failure_data.error]
    return RunFailure(run.run_id, run.job_name, ", ".join(steps),
                      reasons[0] if reasons else run_message)


def record_failure(failure: RunFailure, warehouse: Warehouse, mailer: Mailer,
                   at: dt.datetime) -> None:
    """Mail the alert (where configured), then record the failure and the alert's fate."""
    recipients = mailer.recipients("alert")
    alert_error = None
    if recipients:
        message = delivery.build_message(
            mailer, recipients, f"census run failed: {failure.job_name} "
            f"{failure.run_id[:8]}", _alert_body(failure, at))
        try:
            delivery.send(mailer, message, recipients)
        except delivery.DeliveryFailed as exc:
            alert_error = str(exc)
    with warehouse.writer() as con:
        insert_frame(con, "audit.run_failures", pl.DataFrame([{
            "run_id": failure.run_id, "job_name": failure.job_name, "steps": failure.steps,
            "reason": failure.reason, "failed_at": at,
            "alerted": ", ".join(recipients) if recipients and not alert_error else None,
            "alert_error": alert_error,
        }], schema_overrides={"alerted": pl.String, "alert_error": pl.String}))


def _alert_body(failure: RunFailure, at: dt.datetime) -> str:
    return (f"census run {failure.run_id} of job {failure.job_name} failed at "
            f"{at:%Y-%m-%d %H:%M:%S} UTC.\n\nFailed step(s): {failure.steps or '(none)'}\n"
            f"Reason: {failure.reason}\n\nThe run's event log is in the Dagster UI "
            f"(census ui): Runs → {failure.run_id}.\n")

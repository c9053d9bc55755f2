"""Mailing the workbook (contract §2.2): retried with backoff, recorded in
audit.deliveries, never sent twice for the same workbook unless asked. The Mailer
resource is the one place the SMTP settings live; sending reads them from it."""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl
from dagster import ConfigurableResource, EnvVar
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from pipelines.warehouse.tables import insert_frame

_N = TypeVar("_N", int, float)


def _number(name: str, default: str, kind: type[_N], least: _N) -> _N:
    """The setting `name` (else `default`) as a `kind` of at least `least`; a ValueError
    naming the setting otherwise."""
    text = os.environ.get(name) or default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not value >= least:  # NaN too
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name}={text} is not {what} of at least {least}: set it so, or "
                         f"leave it unset ({default})")
    return value


XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class Mailer(ConfigurableResource):
    """SMTP delivery of exports and alerts, from the environment (README: Delivery).
    Without a host, or without recipients, nothing is mailed."""

    host: str = ""
    port: int = 25
    sender: str = "census@localhost"
    export_recipients: str = ""  # comma-separated
    alert_recipients: str = ""
    starttls: bool = False
    user: str = ""
    password: str = ""
    attempts: int = 4
    backoff_seconds: float = 2.0  # doubled after each failed attempt
    timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls) -> Mailer:
        env = os.environ
        return cls(
            host=env.get("CENSUS_SMTP_HOST", ""),
            port=_number("CENSUS_SMTP_PORT", "25", int, 1),
            sender=env.get("CENSUS_SMTP_FROM", "census@localhost"),
            export_recipients=env.get("CENSUS_EXPORT_RECIPIENTS", ""),
            alert_recipients=env.get("CENSUS_ALERT_RECIPIENTS", ""),
            starttls=env.get("CENSUS_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
            user=env.get("CENSUS_SMTP_USER", ""),
            # A secret: Dagster resolves it at run time and never shows its value.
            password=EnvVar("CENSUS_SMTP_PASSWORD") if "CENSUS_SMTP_PASSWORD" in env else "",
            attempts=_number("CENSUS_SMTP_ATTEMPTS", "4", int, 1),
            backoff_seconds=_number("CENSUS_SMTP_BACKOFF_SECONDS", "2", float, 0),
        )

    def recipients(self, which: str) -> list[str]:
        """`export` or `alert` recipients; none when SMTP is not configured."""
        listed = self.export_recipients if which == "export" else self.alert_recipients
        return [a.strip() for a in listed.split(",") if a.strip()] if self.host else []

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class DeliveryFailed(Exception):
    def __init__(self, message: str, attempts: int):
        super().__init__(message)
        self.attempts = attempts


@dataclass(frozen=True)
class Delivery:
    message_id: str
    attempts: int


def build_message(mailer: Mailer, recipients: list[str], subject: str, body: str,
                  attachment: Path | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = mailer.sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=mailer.sender.rpartition("@")[2] or None)
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(attachment.read_bytes(), maintype=XLSX[0], subtype=XLSX[1],
                               filename=attachment.name)
    return message


def send(mailer: Mailer, message: EmailMessage, recipients: list[str]) -> Delivery:
    """Send, retrying with exponential backoff; DeliveryFailed after the last attempt,
    naming the server and the last error. Retried here rather than by a Dagster
    RetryPolicy: a retried export step would write its files again and the alerts of the
    failure sensor are no step at all."""
    retrying = Retrying(
        stop=stop_after_attempt(mailer.attempts),
        wait=wait_exponential(multiplier=mailer.backoff_seconds),
        retry=retry_if_exception_type((OSError, smtplib.SMTPException)), reraise=True)
    try:
        retrying(_send_once, mailer, message, recipients)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryFailed(
            f"mail to {', '.join(recipients)} via {mailer.address} failed after "
            f"{mailer.attempts} attempts: {type(error).__name__}: {error}",
            mailer.attempts) from error
    return Delivery(str(message["Message-ID"]), retrying.statistics["attempt_number"])


def _send_once(mailer: Mailer, message: EmailMessage, recipients: list[str]) -> None:
    with smtplib.SMTP(mailer.host, mailer.port, timeout=mailer.timeout_seconds) as smtp:
        if mailer.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if mailer.user:
            smtp.login(mailer.user, mailer.password or "")
        refused = smtp.send_message(message, to_addrs=recipients)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)


def already_sent(con: duckdb.DuckDBPyConnection, month: dt.date, workbook_sha256: str,
                 recipients: list[str]) -> str | None:
    """The message id of an earlier successful delivery of the same workbook to the same
    recipients, if any."""
    row = con.execute("""
        SELECT message_id FROM audit.deliveries
        WHERE month = ? AND workbook_sha256 = ? AND recipients = ? AND status = 'sent'
        ORDER BY attempted_at DESC LIMIT 1""",
                      [month, workbook_sha256, ", ".join(recipients)]).fetchone()
    return row[0] if row else None


def record(con: duckdb.DuckDBPyConnection, *, month: dt.date, recipients: list[str],
           workbook_sha256: str, message_id: str | None, status: str, attempts: int,
           error: str | None, run_id: str, at: dt.datetime) -> None:
    insert_frame(con, "audit.deliveries", pl.DataFrame([{
        "month": month, "recipients": ", ".join(recipients), "message_id": message_id,
        "status": status, "attempts": attempts, "workbook_sha256": workbook_sha256,
        "error": error, "run_id": run_id, "attempted_at": at,
    }]))

"""Mailing the workbook (contract §2.2): retried with backoff, recorded in
audit.deliveries, never sent twice for the same workbook unless asked."""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import duckdb
import polars as pl

from pipelines.warehouse.tables import insert_frame

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    attempts: int = 4
    backoff_seconds: float = 2.0  # doubled after each failed attempt
    timeout_seconds: float = 30.0

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


def build_message(settings: SmtpSettings, recipients: list[str], subject: str, body: str,
                  attachment: Path | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(attachment.read_bytes(), maintype=XLSX[0], subtype=XLSX[1],
                               filename=attachment.name)
    return message


def send(settings: SmtpSettings, message: EmailMessage, recipients: list[str]) -> Delivery:
    """Send, retrying with exponential backoff; DeliveryFailed after the last attempt,
    naming the server and the last error."""
    error: Exception | None = None
    for attempt in range(1, settings.attempts + 1):
        try:
            _send_once(settings, message, recipients)
            return Delivery(str(message["Message-ID"]), attempt)
        except (OSError, smtplib.SMTPException) as exc:
            error = exc
            if attempt < settings.attempts:
                time.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
    raise DeliveryFailed(
        f"mail to {', '.join(recipients)} via {settings.address} failed after "
        f"{settings.attempts} attempts: {type(error).__name__}: {error}", settings.attempts)


def _send_once(settings: SmtpSettings, message: EmailMessage, recipients: list[str]) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user:
            smtp.login(settings.user, settings.password or "")
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

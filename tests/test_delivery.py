"""Mailing the export (contract §2.2) to a real SMTP server on loopback (aiosmtpd): the
workbook reaches the recipients once, a re-run does not mail it again unless asked, and a
server that does not answer fails the run after the retries, recorded in
audit.deliveries."""

from __future__ import annotations

import datetime as dt
import email
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from pipelines.runs import run_export
from tests.conftest import Census
from tests.test_ui import free_port

MONTH = dt.date(2025, 6, 1)
RECIPIENTS = ["planning@ministry.example", "statistics@ministry.example"]


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.content, policy=default) for e in self.envelopes]


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> int:
    """SMTP configured from the environment, as in production, on a loopback port."""
    port = free_port()
    for name, value in {"CENSUS_SMTP_HOST": "127.0.0.1", "CENSUS_SMTP_PORT": str(port),
                        "CENSUS_SMTP_FROM": "census@ministry.example",
                        "CENSUS_EXPORT_RECIPIENTS": ", ".join(RECIPIENTS),
                        "CENSUS_SMTP_ATTEMPTS": "3",
                        "CENSUS_SMTP_BACKOFF_SECONDS": "0.2"}.items():
        monkeypatch.setenv(name, value)
    return port


def smtp_server(port: int) -> Controller:
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def warehouse(loaded: Census, tmp_path: Path) -> Census:
    copy = tmp_path / "warehouse" / "census.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(loaded.warehouse, copy)
    return Census(loaded.landing, copy)


@pytest.fixture
def server(port: int) -> Iterator[Inbox]:
    controller = smtp_server(port)
    yield controller.handler
    controller.stop()


def deliveries(census: Census) -> list[dict]:
    return census.query("SELECT * FROM audit.deliveries ORDER BY attempted_at").to_dicts()


def test_workbook_is_mailed_once_to_the_recipients(server: Inbox, warehouse: Census,
                                                    tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    outcome = run_export(MONTH, warehouse=warehouse.warehouse, exports=exports)
    assert outcome.success, outcome.failure
    [envelope] = server.envelopes
    assert envelope.mail_from == "census@ministry.example"
    assert envelope.rcpt_tos == RECIPIENTS
    [message] = server.messages()
    assert message["To"] == ", ".join(RECIPIENTS)
    assert "2025-06" in message["Subject"] and "普查" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "机架利用率 Rack utilisation" in body
    assert "Note:" not in body and "warning" not in outcome.summary  # a complete month
    findings = warehouse.query("SELECT count(*) AS n FROM marts.licence_findings "
                               "WHERE month = ?", [MONTH])["n"].item()
    assert findings > 0 and f"许可证问题 Licence findings: {findings:,}" in body
    [attachment] = list(message.iter_attachments())
    workbook = exports / "2025-06" / "census_summary_2025-06.xlsx"
    assert attachment.get_filename() == workbook.name
    assert attachment.get_content() == workbook.read_bytes()
    [record] = deliveries(warehouse)
    assert record["status"] == "sent" and record["attempts"] == 1
    assert record["message_id"] == message["Message-ID"]
    assert record["recipients"] == ", ".join(RECIPIENTS) and record["month"] == MONTH

    again = run_export(MONTH, warehouse=warehouse.warehouse, exports=exports)
    assert again.success and "already sent" in again.summary
    assert len(server.envelopes) == 1 and len(deliveries(warehouse)) == 1

    resent = run_export(MONTH, resend=True, warehouse=warehouse.warehouse, exports=exports)
    assert resent.success, resent.failure
    assert len(server.envelopes) == 2
    assert [d["status"] for d in deliveries(warehouse)] == ["sent", "sent"]


def test_no_server_fails_the_run_after_the_retries_and_says_so(
        port: int, warehouse: Census, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    outcome = run_export(MONTH, warehouse=warehouse.warehouse, exports=exports)
    assert not outcome.success
    assert f"via 127.0.0.1:{port} failed after 3 attempts" in outcome.failure
    assert "ConnectionRefusedError" in outcome.failure
    [record] = deliveries(warehouse)
    assert record["status"] == "failed" and record["attempts"] == 3
    assert "Connection refused" in record["error"]
    assert (exports / "2025-06" / "manifest.json").exists()  # the files are written

    controller = smtp_server(port)  # the server is back: the next run delivers
    try:
        retried = run_export(MONTH, warehouse=warehouse.warehouse, exports=exports)
    finally:
        controller.stop()
    assert retried.success, retried.failure
    assert len(controller.handler.envelopes) == 1
    assert [d["status"] for d in deliveries(warehouse)] == ["failed", "sent"]

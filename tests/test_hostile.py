"""Broken and hostile files landing beside good ones: each is rejected with a clear
reason, within bounded memory and time, and the good files still load."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import Census, copy_into, good_workbooks

HEADER = b"centre_id,ts,racks_in_use,it_load_kw,facility_load_kw,cpu_util_pct\n"


def _hostile_files(census: Census, source: bytes) -> dict[str, str]:
    """file name -> the reason its rejection must give."""
    licensing, telemetry = census.landing / "licensing", census.landing / "telemetry"
    telemetry.mkdir(exist_ok=True)
    (licensing / "truncated_2025Q1.xlsx").write_bytes(source[: len(source) // 2])
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
        for _ in range(600):
            part.write(b"0" * (1 << 20))  # 600 MiB unpacked from about 600 KiB
    (licensing / "bomb_2025Q1.xlsx").write_bytes(bomb.getvalue())
    (licensing / "picture_2025Q1.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    (licensing / "empty_2025Q1.xlsx").write_bytes(b"")
    (telemetry / "garbage_2025-03.csv").write_bytes(os.urandom(65536))
    (telemetry / "long_line_2025-03.csv").write_bytes(HEADER + b"A" * (3 << 20) + b"\n")
    with gzip.open(telemetry / "bomb_2025-03.csv.gz", "wb", compresslevel=9) as packed:
        packed.write(HEADER)
        for _ in range(40):
            packed.write(b"DC110100-0001,2025-03-01T00:00:00Z,1,2,3,4\n" * 25_000)
    pl.DataFrame({"centre_id": [1, 2], "ts": [1.5, 2.5], "racks_in_use": ["a", "b"],
                  "it_load_kw": [True, False], "facility_load_kw": [1, 2],
                  "cpu_util_pct": [1, 2]}).write_parquet(telemetry / "wrong_types_2025-03.parquet")
    (telemetry / "nested_2025-03.jsonl").write_text(
        '{"centre_id": {"a": 1}, "ts": [1, 2], "racks_in_use": 1, "it_load_kw": 2, '
        '"facility_load_kw": 3, "cpu_util_pct": 4}\n')
    (telemetry / "name with space 中文 'quote' ..2025-03.csv").write_bytes(HEADER)
    return {
        "licensing/truncated_2025Q1.xlsx": "not a readable xlsx workbook",
        "licensing/bomb_2025Q1.xlsx": "refused (a zip bomb?)",
        "licensing/picture_2025Q1.xlsx": "not a readable xlsx workbook",
        "licensing/empty_2025Q1.xlsx": "the file is empty",
        "telemetry/garbage_2025-03.csv": "neither UTF-8 nor GB18030 text",
        "telemetry/long_line_2025-03.csv": "a line is longer than 1,048,576 bytes",
        "telemetry/bomb_2025-03.csv.gz": "decompresses to more than 10,000,000 bytes",
        "telemetry/name with space 中文 'quote' ..2025-03.csv": "the export has no rows",
    }


def test_hostile_files_are_rejected_and_good_files_load(
        census: Census, generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a small decompression limit, so the gzip bomb need not be gigabytes here
    monkeypatch.setattr("pipelines.ingest.telemetry_readers.MAX_DECOMPRESSED_BYTES",
                        10_000_000)
    good = good_workbooks(generated, "*2025*Q1.xlsx")[0]
    copy_into(good, census)
    expected = _hostile_files(census, good.read_bytes())
    census.run()
    log = {r["file_name"]: r for r in census.query(
        "SELECT file_name, status, rows_loaded, rows_rejected, message "
        "FROM audit.ingestion_log").to_dicts()}
    for name, reason in expected.items():
        assert log[name]["status"] == "rejected", name
        assert reason in log[name]["message"], (name, log[name]["message"])
    # readable rows of the wrong types or shapes: row-level quarantine, nothing loaded
    for name in ("telemetry/wrong_types_2025-03.parquet", "telemetry/nested_2025-03.jsonl"):
        assert log[name]["rows_loaded"] == 0 and log[name]["rows_rejected"] > 0, name
    assert log[f"licensing/{good.name}"]["status"] == "loaded"
    assert log[f"licensing/{good.name}"]["rows_loaded"] > 0

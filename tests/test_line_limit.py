"""The limit on a line's length in a text export (MAX_LINE_BYTES): a line of that many
bytes passes and one byte more is refused, wherever the line lies in the file (across
the boundaries at which the file is read), whether or not the file ends with a newline."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.ingest.limits import (
    MAX_LINE_BYTES,
    READ_BLOCK_BYTES,
    LimitExceeded,
    check_line_lengths,
)

SHORT = b"DC110100-0001,2025-03-01T00:00:00Z,1,2,3,4\n"


def _file(tmp_path: Path, before: int, line: int, newline_after: bool = True) -> Path:
    """Short lines filling `before` bytes (at least), then a line of `line` bytes, then
    short lines again (or the end of the file, without a newline)."""
    path = tmp_path / "export.csv"
    with open(path, "wb") as out:
        out.write(SHORT * -(-before // len(SHORT)))
        out.write(b"A" * line)
        if newline_after:
            out.write(b"\n" + SHORT * 1000)
    return path


# The line first, across the end of the first block, and inside the second.
@pytest.mark.parametrize("before", [0, READ_BLOCK_BYTES - MAX_LINE_BYTES // 2,
                                    3 * READ_BLOCK_BYTES // 2])
def test_a_line_at_the_limit_passes_and_one_byte_more_is_refused(tmp_path: Path,
                                                                 before: int) -> None:
    check_line_lengths(_file(tmp_path, before, MAX_LINE_BYTES))
    with pytest.raises(LimitExceeded, match="a line is longer than 1,048,576 bytes"):
        check_line_lengths(_file(tmp_path, before, MAX_LINE_BYTES + 1))


def test_the_last_line_without_a_newline_is_measured(tmp_path: Path) -> None:
    check_line_lengths(_file(tmp_path, READ_BLOCK_BYTES, MAX_LINE_BYTES,
                             newline_after=False))
    with pytest.raises(LimitExceeded):
        check_line_lengths(_file(tmp_path, READ_BLOCK_BYTES, MAX_LINE_BYTES + 1,
                                 newline_after=False))


def test_short_lines_pass(tmp_path: Path) -> None:
    check_line_lengths(_file(tmp_path, 2 * READ_BLOCK_BYTES, len(SHORT)))

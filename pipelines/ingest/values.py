"""Parsing single cell values: text keys, numbers, dates and file-name periods.

Every parser takes the cell as text (the workbook reader renders typed cells as
text first) and raises `ValueRejected` carrying the contract rule on failure.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

from schemas.rules import Rule

_BRACKETS_AND_PUNCT = re.compile(r"[\s()\[\]{}<>【】〔〕《》「」『』_\-.·•:;,，、/\\'\"]+")
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 with Lotus' leap-year bug


class ValueRejected(ValueError):
    """A value breaks a contract rule; `rule` is the quarantine rule."""

    def __init__(self, rule: Rule, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def norm_key(text: str) -> str:
    """Fold a header or code for matching: full-width to half-width, case, spaces,
    brackets, punctuation and a byte-order mark ignored (contract §1.1, header aliases)."""
    folded = unicodedata.normalize("NFKC", text.replace("\ufeff", "")).casefold()
    return _BRACKETS_AND_PUNCT.sub("", folded)


def clean_text(text: str | None) -> str | None:
    """Trim a free-text cell (ASCII and ideographic spaces); empty becomes None."""
    if text is None:
        return None
    stripped = text.strip().strip("\u3000").strip()
    return stripped or None


def parse_number(text: str) -> float:
    """A number as people type it: `1,200`, ` 850 `, full-width `１２００`."""
    folded = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace(" ", "")
    try:
        value = float(folded)
    except ValueError:
        raise ValueRejected(Rule.UNPARSEABLE, f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueRejected(Rule.UNPARSEABLE, f"{text!r} is not a finite number")
    return value


def parse_integer(text: str) -> int:
    value = parse_number(text)
    if not value.is_integer():
        raise ValueRejected(Rule.UNPARSEABLE, f"{text!r} is not a whole number")
    return int(value)


_TIME_OF_DAY = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")  # date cells with a time
_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)
_SERIAL = re.compile(r"\d{1,5}(?:\.\d+)?")


def parse_date(text: str) -> dt.date:
    """Excel serials, 2023-05-06, 2023/5/6, 2023.05.06, 20230506, 2023年5月6日."""
    folded = _TIME_OF_DAY.sub("", unicodedata.normalize("NFKC", text).strip())
    folded = re.sub(r"\s+", "", folded) if "年" in folded else folded
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(folded)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise ValueRejected(Rule.UNPARSEABLE, f"{text!r} is not a real date") from None
    if _SERIAL.fullmatch(folded):
        serial = float(folded)
        if 1 <= serial < 2958466:  # Excel's own range: 1900-01-01 .. 9999-12-31
            return _EXCEL_EPOCH + dt.timedelta(days=int(serial))
    raise ValueRejected(Rule.UNPARSEABLE, f"{text!r} is not a date of an accepted form")


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


_PERIOD_PATTERNS = (
    ("day", re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")),
    ("quarter", re.compile(r"(?<!\d)(\d{4})-?[Qq]([1-4])(?!\d)")),
    ("month", re.compile(r"(?<!\d)(\d{4})-(\d{2})(?![\d-])")),
    ("month", re.compile(r"(?<!\d)(\d{4})(\d{2})(?!\d)")),
)


def period_from_filename(name: str) -> dt.date | None:
    """The vintage a file name carries: 2025-06 or 202506 (month end), 2025Q2 or
    2025-Q2 (quarter end), 2025-06-30. None when the name has no valid token."""
    stem = unicodedata.normalize("NFKC", name)
    for kind, pattern in _PERIOD_PATTERNS:
        for match in pattern.finditer(stem):
            year = int(match.group(1))
            if not 1990 <= year <= 2100:
                continue
            if kind == "day":
                try:
                    return dt.date(year, int(match.group(2)), int(match.group(3)))
                except ValueError:
                    continue
            if kind == "quarter":
                return month_end(year, int(match.group(2)) * 3)
            month = int(match.group(2))
            if 1 <= month <= 12:
                return month_end(year, month)
    return None

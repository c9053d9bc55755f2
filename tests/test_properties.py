"""Property-based tests (hypothesis) of the pure parsers: header detection, alias
matching, unit conversion, dates, timestamps and the USCC check character."""

from __future__ import annotations

import datetime as dt
import unicodedata

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.ingest_sql import create_forms
from pipelines.ingest.register import ALIASES as REGISTER_ALIASES
from pipelines.ingest.telemetry import column_map
from pipelines.ingest.values import norm_key, parse_date, parse_number
from pipelines.ingest.workbook import MAX_TITLE_ROWS, find_header
from schemas.uscc import ALPHABET, is_valid_uscc, uscc_check_character

CHINA = dt.timezone(dt.timedelta(hours=8))
FORMS = duckdb.connect()  # with the SQL macros that read telemetry values
create_forms(FORMS)
ALIAS_TEXTS = sorted({alias for alias in REGISTER_ALIASES})
FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _disguise(text: str, data: st.DataObject) -> str:
    """The alias as a person might type it: other case, full-width, spaces, brackets."""
    out = text.upper() if data.draw(st.booleans()) else text.lower()
    if data.draw(st.booleans()):
        out = "".join(FULL_WIDTH.get(ch, ch) for ch in out)
    pad = data.draw(st.sampled_from(["", " ", "\u3000", "  "]))
    return f"{pad}{out}{pad}"


@given(st.data())
def test_alias_matching_ignores_case_width_and_spaces(data: st.DataObject) -> None:
    alias = data.draw(st.sampled_from(ALIAS_TEXTS))
    assert norm_key(_disguise(alias, data)) == alias


@settings(max_examples=60)
@given(st.data(), st.integers(0, MAX_TITLE_ROWS))
def test_the_header_is_found_below_up_to_20_title_rows(data: st.DataObject,
                                                      titles: int) -> None:
    columns = data.draw(st.lists(st.sampled_from(sorted({v[0] for v in
                                                          REGISTER_ALIASES.values()})),
                                 min_size=4, max_size=8, unique=True))
    by_column = {v[0]: k for k, v in REGISTER_ALIASES.items()}
    header = [_disguise(by_column[c], data) for c in columns]
    filler = st.lists(st.one_of(st.none(), st.text("数据中心名录报送表 2025年", max_size=12)),
                      max_size=6)
    rows = [data.draw(filler) for _ in range(titles)] + [header, ["DC110100-0001"]]
    found = find_header(rows, REGISTER_ALIASES)
    assert found is not None
    index, matched = found
    assert index == titles
    assert sorted(h.canonical for h in matched.values()) == sorted(columns)


@given(st.integers(0, 10**9), st.integers(0, 99), st.booleans(), st.booleans())
def test_numbers_as_people_type_them(whole: int, cents: int, separated: bool,
                                     full_width: bool) -> None:
    text = f"{whole:,}" if separated else str(whole)
    text = f" {text}.{cents:02d} "
    if full_width:
        text = "".join(FULL_WIDTH.get(ch, ch) for ch in text)
    assert parse_number(text) == float(f"{whole}.{cents:02d}")


@given(st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31)))
def test_every_date_form_gives_the_same_date(day: dt.date) -> None:
    forms = [day.isoformat(), f"{day.year}/{day.month}/{day.day}",
             f"{day.year}.{day.month:02d}.{day.day:02d}", day.strftime("%Y%m%d"),
             f"{day.year}年{day.month}月{day.day}日", str((day - dt.date(1899, 12, 30)).days),
             unicodedata.normalize("NFKC", day.isoformat()) + " 00:00:00"]
    assert {parse_date(form) for form in forms} == {day}


@given(st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2035, 12, 31)),
       st.integers(-12, 14))
def test_every_timestamp_form_gives_the_same_instant(local: dt.datetime, hours: int) -> None:
    instant = local.replace(microsecond=0, tzinfo=dt.UTC)
    offset = dt.timezone(dt.timedelta(hours=hours))
    china = instant.astimezone(CHINA).replace(tzinfo=None)
    forms = [instant.strftime("%Y-%m-%dT%H:%M:%SZ"), instant.astimezone(offset).isoformat(),
             instant.astimezone(offset).isoformat().replace("T", " "),
             china.isoformat(), str(int(instant.timestamp())),
             str(int(instant.timestamp()) * 1000)]
    parsed = [row[0] for row in FORMS.execute(
        "SELECT telemetry_ts(form) FROM unnest(?) AS t(form)", [forms]).fetchall()]
    assert {p.astimezone(dt.UTC) for p in parsed} == {instant}


@given(st.sampled_from(["it_load_mw", "facility_load_mw", "cpu_util_ratio",
                        "gpu_util_ratio", "it_kw", "cpu_util_pct"]))
def test_unit_conversion_factors(column: str) -> None:
    canonical, expected = {"it_load_mw": ("it_load_kw", 1000),
                           "facility_load_mw": ("facility_load_kw", 1000),
                           "cpu_util_ratio": ("cpu_util_pct", 100),
                           "gpu_util_ratio": ("gpu_util_pct", 100),
                           "it_kw": ("it_load_kw", 1), "cpu_util_pct": ("cpu_util_pct", 1)}[column]
    header = {"centre_id": "dc_id", "ts": "timestamp", "racks_in_use": "racks_active",
              "it_load_kw": "it_kw", "facility_load_kw": "facility_kw",
              "cpu_util_pct": "cpu_util_pct", canonical: column}
    assert column_map(list(header.values()))[canonical] == (column, expected)


@given(st.text(ALPHABET, min_size=17, max_size=17), st.sampled_from(ALPHABET))
def test_uscc_check_character(first17: str, other: str) -> None:
    check = uscc_check_character(first17)
    assert is_valid_uscc(first17 + check)
    if other != check:
        assert not is_valid_uscc(first17 + other)

"""Parsing cell values: numbers, dates, periods in file names, header keys."""

import datetime as dt

import pytest

from pipelines.ingest.values import (
    ValueRejected,
    norm_key,
    parse_date,
    parse_integer,
    parse_number,
    period_from_filename,
)
from schemas.rules import Rule


@pytest.mark.parametrize("text, expected", [
    ("1,200", 1200.0), (" 850 ", 850.0), ("１２００", 1200.0), ("１，２００", 1200.0),
    ("3.5", 3.5), ("-50", -50.0), ("1e3", 1000.0), ("０．８５", 0.85),
])
def test_numbers_as_people_type_them(text: str, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["n/a", "约800", "", "1.2.3", "nan", "inf"])
def test_non_numbers_are_unparseable(text: str) -> None:
    with pytest.raises(ValueRejected) as caught:
        parse_number(text)
    assert caught.value.rule is Rule.UNPARSEABLE


def test_integers_must_be_whole() -> None:
    assert parse_integer("1,200") == 1200
    with pytest.raises(ValueRejected):
        parse_integer("12.5")


@pytest.mark.parametrize("text", [
    "2023-05-06", "2023/5/6", "2023.05.06", "20230506", "2023年5月6日", "45052",
    "45052.0", "2023-05-06 00:00:00", "２０２３年５月６日", "2023/5/6 14:30",
    "2023-05-06T08:00:00", "2023 年 5 月 6 日",
])
def test_every_accepted_date_form(text: str) -> None:
    assert parse_date(text) == dt.date(2023, 5, 6)


@pytest.mark.parametrize("text", ["2023-02-30", "去年", "2023-13-01", "06/05/2023", ""])
def test_bad_dates_are_unparseable(text: str) -> None:
    with pytest.raises(ValueRejected) as caught:
        parse_date(text)
    assert caught.value.rule is Rule.UNPARSEABLE


@pytest.mark.parametrize("name, expected", [
    ("hebei_2025-06.xlsx", dt.date(2025, 6, 30)),
    ("hebei_202506.xlsx", dt.date(2025, 6, 30)),
    ("hebei_2025Q2.xls", dt.date(2025, 6, 30)),
    ("hebei_2025-Q1.ods", dt.date(2025, 3, 31)),
    ("hebei_2025q4.xlsx", dt.date(2025, 12, 31)),
    ("hebei 2025-06-15.xlsx", dt.date(2025, 6, 15)),
    ("河北省_2024-02.xlsx", dt.date(2024, 2, 29)),
])
def test_period_tokens_in_file_names(name: str, expected: dt.date) -> None:
    assert period_from_filename(name) == expected


@pytest.mark.parametrize("name", ["register_final.xlsx", "hebei_submission1.xlsx",
                                  "hebei_2025-13.xlsx", "v12345678.xlsx"])
def test_no_period_in_file_name(name: str) -> None:
    assert period_from_filename(name) is None


@pytest.mark.parametrize("a, b", [
    ("设计IT负载(kW)", "设计IT负载（ｋＷ）"), ("Design IT Load (MW)", " design it load【mw】 "),
    ("省(区、市)", "省（区、市）"), ("Centre ID", "CENTRE_ID"), ("DC ID", "dc-id"),
])
def test_header_keys_ignore_case_space_width_and_brackets(a: str, b: str) -> None:
    assert norm_key(a) == norm_key(b)

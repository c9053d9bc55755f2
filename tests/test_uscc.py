"""The USCC check character (contract §4): the column expression production validates
the register with, through the register's warning schema, and the scalar helpers the
generator uses."""

import polars as pl
import pytest
from pandera.errors import SchemaErrors

from schemas.register import REGISTER_ROW_WARNINGS
from schemas.uscc import ALPHABET, is_valid_uscc, uscc_check_character, uscc_valid

VALID = "91110000600037341L"


def test_accepts_the_contract_example() -> None:
    assert is_valid_uscc(VALID)
    assert uscc_check_character(VALID[:17]) == "L"


@pytest.mark.parametrize("position", range(18))
def test_rejects_every_single_character_change(position: int) -> None:
    for replacement in ALPHABET:
        if replacement == VALID[position]:
            continue
        changed = VALID[:position] + replacement + VALID[position + 1:]
        assert not is_valid_uscc(changed), changed


@pytest.mark.parametrize("code", ["", VALID[:17], VALID + "0", "91110000600037341I",
                                  "9111000060003734IL", VALID.lower()])
def test_rejects_wrong_length_and_foreign_characters(code: str) -> None:
    assert not is_valid_uscc(code)


@pytest.mark.parametrize("first17", [VALID[:16], VALID, "9111000060003734I", "I" + VALID[1:17]])
def test_no_check_character_without_17_uscc_characters(first17: str) -> None:
    # A foreign character must not count as zero in the weighted sum.
    with pytest.raises(ValueError, match="not 17 USCC characters"):
        uscc_check_character(first17)


# valid; wrong check character; missing; lower case; I (not a USCC character); empty
COLUMN = [VALID, VALID[:17] + "0", None, VALID.lower(), "91110000600037341I", ""]


def test_the_column_expression_is_false_never_null_for_a_bad_code() -> None:
    got = pl.DataFrame({"code": COLUMN}).select(uscc_valid(pl.col("code")))["code"]
    assert got.to_list() == [True, False, False, False, False, False]


def test_the_register_warns_check_digit_on_exactly_the_bad_codes() -> None:
    rows = len(COLUMN)
    frame = pl.DataFrame({"operator_uscc": COLUMN, "design_pue": [1.4] * rows,
                          "design_it_kw": [250.0] * rows, "design_racks": [100] * rows})
    with pytest.raises(SchemaErrors) as caught:
        REGISTER_ROW_WARNINGS.validate(frame, lazy=True)
    cases = caught.value.failure_cases.filter(pl.col("index").is_not_null())
    assert set(cases["check"]) == {"check_digit"}
    # A missing USCC (None) is not a finding: many provinces do not collect it.
    assert sorted(cases["index"].to_list()) == [1, 3, 4, 5]

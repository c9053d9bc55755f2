"""The USCC check character (contract §4)."""

import pytest

from schemas.uscc import ALPHABET, is_valid_uscc, uscc_check_character

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

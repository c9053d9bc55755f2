"""The USCC check character of GB 32100-2015 (contract §4), written once as polars
expressions: production validates whole columns with them, and the scalar helpers the
generator and the tests use evaluate the same expressions on one value."""

import polars as pl

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def _value(code: pl.Expr, position: int) -> pl.Expr:
    """The value of the character at `position`; null when it is not a USCC character."""
    return code.str.slice(position, 1).replace_strict(_VALUE, default=None,
                                                       return_dtype=pl.Int64)


def check_character(code: pl.Expr) -> pl.Expr:
    """The check character for the first 17 characters of `code`; null when any of them
    is not a USCC character (a null term must not count as zero)."""
    total = pl.sum_horizontal([_value(code, i) * w for i, w in enumerate(WEIGHTS)],
                              ignore_nulls=False)
    return ((31 - total % 31) % 31).replace_strict(dict(enumerate(ALPHABET)), default=None,
                                                    return_dtype=pl.String)


def uscc_valid(code: pl.Expr) -> pl.Expr:
    """True when `code` is 18 USCC characters whose last is the right check character;
    false (never null) for anything else, so a row rule cannot let it pass as missing."""
    return (code.str.len_chars().eq(18) & _value(code, 17).is_not_null()
            & check_character(code).eq(code.str.slice(17, 1))).fill_null(False)


def uscc_check_character(first17: str) -> str:
    """The check character for the first 17 characters of a USCC."""
    check = pl.select(check_character(pl.lit(first17))).item()
    if len(first17) != 17 or check is None:
        raise ValueError(f"not 17 USCC characters: {first17!r}")
    return str(check)


def is_valid_uscc(code: str) -> bool:
    """True when `code` is 18 USCC characters whose last is the right check character."""
    return bool(pl.select(uscc_valid(pl.lit(code))).item())

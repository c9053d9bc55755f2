"""The USCC check character of GB 32100-2015 (contract §4)."""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def uscc_check_character(first17: str) -> str:
    """The check character for the first 17 characters of a USCC."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError(f"not 17 USCC characters: {first17!r}")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """True when `code` is 18 USCC characters whose last is the right check character."""
    if len(code) != 18 or any(ch not in _VALUE for ch in code):
        return False
    return uscc_check_character(code[:17]) == code[17]

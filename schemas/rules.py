"""The rule vocabulary of the contract (§2.1, `audit.quarantine.rule`), in one place."""

from enum import StrEnum


class Rule(StrEnum):
    MISSING = "missing"
    UNPARSEABLE = "unparseable"
    OUT_OF_RANGE = "out_of_range"
    INCONSISTENT = "inconsistent"
    UNKNOWN_CODE = "unknown_code"
    UNKNOWN_CENTRE = "unknown_centre"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    CHECK_DIGIT = "check_digit"
    IMPLAUSIBLE = "implausible"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


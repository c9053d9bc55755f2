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


RULE_DESCRIPTIONS: dict[Rule, str] = {
    Rule.MISSING: "a required value is empty",
    Rule.UNPARSEABLE: "not a number, date or time of an accepted form",
    Rule.OUT_OF_RANGE: "outside the range the contract allows",
    Rule.INCONSISTENT: "disagrees with another value of the row",
    Rule.UNKNOWN_CODE: "province, hub, cluster, type or status not recognised",
    Rule.UNKNOWN_CENTRE: "centre_id is not in the register",
    Rule.CONFLICTING_DUPLICATE: "same key, different values: all copies rejected",
    Rule.CHECK_DIGIT: "USCC check character wrong (GB 32100-2015)",
    Rule.IMPLAUSIBLE: "kept, but outside the plausible range",
}

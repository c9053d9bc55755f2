"""How the workbook shows values a reader would otherwise have to decode: yes/no in both
languages, glut signals and licence findings as bilingual labels, and "n/a" where a
figure has no value. The CSVs keep the stored values."""

from __future__ import annotations

YES, NO = "是 Yes", "否 No"
NOT_AVAILABLE = "n/a"
NOT_AVAILABLE_NOTE = "n/a = 无数值 no value (no earlier month, a zero denominator; see About)"

SIGNAL_LABELS = {
    "low_utilisation": "利用率低 Low utilisation",
    "supply_outpacing": "供给快于需求 Supply outpacing demand",
    "idle_centres": "闲置中心多 Idle centres",
    "heavy_pipeline": "在建规模大 Heavy pipeline",
}
FINDING_LABELS = {
    "expired_licence": "许可证过期 Expired licence",
    "no_licence": "无许可证编号 No licence number",
    "reporting_while_not_operating": "非运营仍报送 Reporting while not operating",
}
_SEPARATOR = ", "  # between signals, as the export's tables list them


def shown(kind: str, value: object) -> object:
    """The cell value for a stored value of column (or Summary indicator) `kind`; None
    stays None (the caller decides between an empty cell and n/a)."""
    if isinstance(value, bool):
        return YES if value else NO
    if kind == "glut_signals" and value:
        return "; ".join(SIGNAL_LABELS[s] for s in str(value).split(_SEPARATOR))
    if kind == "finding":
        return FINDING_LABELS[str(value)]
    return value

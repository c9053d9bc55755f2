"""The short bilingual mail that carries the workbook: the month's headline figures."""

from __future__ import annotations

from pipelines.export.bundle import ExportBundle


def subject(bundle: ExportBundle) -> str:
    return f"全国数据中心普查月报 National data-centre census summary {bundle.month:%Y-%m}"


def incomplete(bundle: ExportBundle) -> str | None:
    """Where fewer than half of the operating centres reported the month, a sentence
    saying so (the run's log, `census export`, the mail)."""
    if bundle.underreported is None:
        return None
    reporting, operating = bundle.underreported
    return (f"only {reporting:,} of {operating:,} operating centres reported "
            f"{bundle.month:%Y-%m}: its telemetry is incomplete, and its figures stand for "
            "the centres that reported")


def body(bundle: ExportBundle) -> str:
    s = bundle.summary
    licences = next(t for t in bundle.tables if t.key == "licences")

    def pct(key: str) -> str:
        return "n/a" if s[key] is None else f"{s[key]:.1%}"

    warning = incomplete(bundle)
    return "\n".join([
        f"全国数据中心普查月报 {bundle.month:%Y-%m} / National data-centre census, "
        f"{bundle.month:%B %Y}",
        "",
        *([f"注意：本月遥测数据不完整 Note: {warning}.", ""] if warning else []),
        f"运营中数据中心 Centres operating: {s['centres_operating']:,} "
        f"(报送 reporting: {s['centres_reporting']:,})",
        f"机架利用率 Rack utilisation: {pct('rack_utilisation')}; "
        f"空置率 vacancy: {pct('vacancy_rate')}",
        f"过剩预警 Glut flags: {s['provinces_glut']} 省份 provinces, {s['hubs_glut']} "
        f"枢纽 hubs",
        f"20毫秒内可售给东部的算力 Sellable compute within 20 ms of an eastern hub: "
        f"{s['sellable_pflops_reachable']:,.1f} PFLOPS",
        f"许可证问题 Licence findings: {len(licences.rows):,}",
        "",
        f"附件 Attached: {bundle.workbook.name}. 数据截至 Data vintage: register as of "
        f"{bundle.vintage.register_as_of}, telemetry through "
        f"{bundle.vintage.telemetry_through} (China time).",
        "",
        "此邮件由 census 自动发送。This mail was sent by census.",
    ]) + "\n"

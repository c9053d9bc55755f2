"""Planning the register submissions: rows per province and quarter, rendered for the
province's layout, with planted faults whose rule and location go to the truth."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import replace

from pipelines.generate.centres import Centre, CentreState
from pipelines.generate.workbooks import (
    STATUS_WORDS,
    TYPE_WORDS,
    Layout,
    PlannedRow,
    SheetPlan,
    WorkbookPlan,
    period_token,
    render_date,
    render_number,
)
from pipelines.reference import Reference


def plan_workbooks(rng: random.Random, reference: Reference, centres: list[Centre],
                   vintages: list[dt.date], layouts: dict[str, Layout]) -> list[WorkbookPlan]:
    """One workbook per province and quarter, listing the province's centres then."""
    plans = []
    for province in sorted(layouts):
        layout = layouts[province]
        mine = [c for c in centres if c.states[-1] is not None or any(c.states)]
        mine = [c for c in mine if next(s for s in c.states if s).province_code == province]
        for q, vintage in enumerate(vintages):
            listed = [(c, c.states[q]) for c in mine if c.states[q] is not None]
            if not listed:
                continue
            rows = [real_row(rng, state, centre.city_en, layout, reference, vintage)
                    for centre, state in listed]
            plans.append(WorkbookPlan(
                file_name=_file_name(reference, province, layout, vintage, q),
                province=province, vintage=vintage, layout=layout,
                titles=_titles(reference, province, layout, vintage)[: layout.title_rows],
                sheets=_sheets(layout, rows),
            ))
    return plans


def _sheets(layout: Layout, rows: list[PlannedRow]) -> list[SheetPlan]:
    zh = layout.language == "zh"
    if not layout.split_sheets:
        return [SheetPlan("数据中心名录" if zh else "Register", rows)]
    operating = [r for r in rows if r.truth.status == "operating"]
    others = [r for r in rows if r.truth.status != "operating"]
    return [SheetPlan("在用" if zh else "Operating", operating),
            SheetPlan("其他" if zh else "Other", others)]


def _file_name(reference: Reference, province: str, layout: Layout, vintage: dt.date,
               quarter: int) -> str:
    names = reference.provinces.filter(province_code=province).row(0, named=True)
    stem = (f"{names['name_zh']}数据中心登记表" if layout.chinese_file_name
            else names["name_en"].lower().replace(" ", "_"))
    token = (period_token(layout.period_style, vintage) if layout.period_style
             else f"submission{quarter + 1}")
    return f"licensing/{stem}_{token}.{layout.fmt}"


def _titles(reference: Reference, province: str, layout: Layout, vintage: dt.date) -> list[str]:
    names = reference.provinces.filter(province_code=province).row(0, named=True)
    quarter = (vintage.month - 1) // 3 + 1
    if layout.language == "zh":
        return [f"{names['name_zh']}数据中心许可登记表（{vintage.year}年第{quarter}季度）",
                f"填报单位：{names['name_zh']}通信管理局", "单位：机架（标准机架）",
                f"截至{vintage.year}年{vintage.month}月{vintage.day}日"]
    return [f"{names['name_en']} data centre licence register, {vintage.year} Q{quarter}",
            f"Submitted by the {names['name_en']} Communications Administration",
            "Racks in standard racks", f"As at {vintage.isoformat()}"]


def province_text(rng: random.Random, reference: Reference, state: CentreState,
                  layout: Layout) -> str:
    style = layout.province_style
    if layout.merge_province and style in ("mixed", "code6"):
        style = "full"  # one merged cell shows one value for every row below it
    elif style == "mixed":
        style = rng.choice(["full", "short", "en", "code2", "code6"])
    names = reference.provinces.filter(province_code=state.province_code).row(0, named=True)
    return {"full": names["name_zh"], "short": names["name_short_zh"], "en": names["name_en"],
            "code2": state.province_code, "code6": state.centre_id[2:8]}[style]


def hub_text(reference: Reference, hub_code: str, style: str) -> str:
    row = reference.hubs.filter(hub_code=hub_code).row(0, named=True)
    return {"zh": row["name_zh"], "en": row["name_en"], "code": hub_code}[style]


def cluster_text(reference: Reference, cluster_code: str, style: str) -> str:
    row = reference.clusters.filter(cluster_code=cluster_code).row(0, named=True)
    return {"zh": row["name_zh"], "en": row["name_en"], "code": cluster_code}[style]


def real_row(rng: random.Random, state: CentreState, city_en: str, layout: Layout,
             reference: Reference, vintage: dt.date) -> PlannedRow:
    """A centre's row rendered as this province writes it."""
    row = PlannedRow(cells={}, truth=state)
    lang = layout.language
    hub_code = reference.hub_of_province.get(state.province_code)
    written = {
        "province": province_text(rng, reference, state, layout),
        "city": state.city if lang == "zh" else city_en,
        "hub": hub_text(reference, hub_code, layout.hub_style) if hub_code else None,
        "cluster": (cluster_text(reference, state.cluster_code, layout.hub_style)
                    if state.cluster_code else None),
    }
    row.written = {k: (v if k in layout.columns else None) for k, v in written.items()}
    kw = state.design_it_kw
    row.cells = {
        "centre_id": state.centre_id, "centre_name": state.centre_name,
        "operator_name": state.operator_name, "operator_uscc": state.operator_uscc,
        **written,
        "design_racks": render_number(rng, state.design_racks),
        "design_it_kw": render_number(rng, kw if layout.unit == "kW" else kw / 1000),
        "design_pue": render_number(rng, state.design_pue),
        "centre_type": ("" if state.centre_type == "general" and rng.random() < 0.3
                        else TYPE_WORDS[lang][state.centre_type]),
        "design_pflops": (None if state.design_pflops is None
                          else render_number(rng, state.design_pflops)),
        "licence_no": state.licence_no,
        "status": rng.choice(STATUS_WORDS[lang][state.status]),
    }
    dates = {"licence_issued": state.licence_issued, "licence_expires": state.licence_expires,
             "commissioned": state.commissioned, "as_of": vintage}
    for column, day in dates.items():
        if day is None:
            continue
        row.cells[column], number_format = render_date(rng, day)
        if number_format:
            row.formats[column] = number_format
    return row


# Row faults (contract §1.1): (column, rule, value to write instead; None = left empty).
Fault = tuple[str, str, Callable[[random.Random, CentreState, Reference, Layout], object]]


def _other_hub(state: CentreState, reference: Reference, layout: Layout) -> str:
    own = reference.hub_of_province[state.province_code]
    return hub_text(reference, "GZ" if own != "GZ" else "JJJ", layout.hub_style)


def _other_cluster(state: CentreState, reference: Reference, layout: Layout) -> str:
    own = reference.hub_of_province.get(state.province_code)
    return cluster_text(reference, "ZW" if own != "NX" else "ZJK", layout.hub_style)


ROW_FAULTS: list[Fault] = [
    ("centre_id", "missing", lambda rng, s, ref, lay: None),
    ("centre_id", "unparseable", lambda rng, s, ref, lay: s.centre_id.replace("-", "")),
    ("centre_id", "inconsistent", lambda rng, s, ref, lay:
        ("DC310100" if s.province_code != "31" else "DC110100") + s.centre_id[8:]),
    ("centre_name", "missing", lambda rng, s, ref, lay: None),
    ("operator_name", "missing", lambda rng, s, ref, lay: "  "),
    ("province", "unknown_code", lambda rng, s, ref, lay: "火星省"),
    ("province", "missing", lambda rng, s, ref, lay: None),
    ("hub", "inconsistent", lambda rng, s, ref, lay: _other_hub(s, ref, lay)),
    ("hub", "unknown_code", lambda rng, s, ref, lay: "火星枢纽"),
    ("cluster", "inconsistent", lambda rng, s, ref, lay: _other_cluster(s, ref, lay)),
    ("cluster", "unknown_code", lambda rng, s, ref, lay: "月球集群"),
    ("design_racks", "out_of_range", lambda rng, s, ref, lay: -120),
    ("design_racks", "unparseable", lambda rng, s, ref, lay: "约800"),
    ("design_racks", "missing", lambda rng, s, ref, lay: None),
    ("design_it_kw", "out_of_range", lambda rng, s, ref, lay: "-50"),
    ("design_it_kw", "unparseable", lambda rng, s, ref, lay: "n/a"),
    ("design_pue", "out_of_range", lambda rng, s, ref, lay: 0.85),
    ("design_pue", "missing", lambda rng, s, ref, lay: None),
    ("centre_type", "unknown_code", lambda rng, s, ref, lay: "边缘"),
    ("design_pflops", "out_of_range", lambda rng, s, ref, lay: -3),
    ("licence_issued", "unparseable", lambda rng, s, ref, lay: "2023-02-30"),
    ("licence_issued", "missing", lambda rng, s, ref, lay: None),
    ("licence_expires", "inconsistent", lambda rng, s, ref, lay:
        (s.licence_issued - dt.timedelta(days=400)).isoformat()),
    ("commissioned", "unparseable", lambda rng, s, ref, lay: "去年"),
    ("status", "unknown_code", lambda rng, s, ref, lay: "筹建"),
    ("status", "missing", lambda rng, s, ref, lay: None),
]


def _eligible(plans: list[WorkbookPlan], column: str, reference: Reference) -> list[WorkbookPlan]:
    found = [p for p in plans if column in p.layout.columns]
    if column == "hub":
        found = [p for p in found if p.province in reference.hub_of_province]
    return found


def plant_faults(rng: random.Random, plans: list[WorkbookPlan], reference: Reference,
                 centres: list[Centre]) -> None:
    """Add a faulty row for every row rule, warnings on real rows, one conflicting and
    one identical duplicate. Columns a layout lacks are planted where a layout has them."""
    city_en = {s.centre_id: c.city_en for c in centres for s in c.states if s}
    for k, (column, rule, value) in enumerate(ROW_FAULTS):
        candidates = _eligible(plans, column, reference)
        if not candidates:
            continue
        plan = rng.choice(candidates)
        base = rng.choice([r for s in plan.sheets for r in s.rows if r.truth]).truth
        fake = replace(base, centre_id=f"{base.centre_id[:9]}{9000 + k:04d}",
                       centre_name=f"{base.centre_name}（{k}）")
        row = real_row(rng, fake, city_en[base.centre_id], plan.layout, reference, plan.vintage)
        row.cells[column] = value(rng, fake, reference, plan.layout)
        row.formats.pop(column, None)
        row.truth, row.findings = None, [(column, rule, "error")]
        plan.sheets[-1].rows.append(row)

    def pick_real(column: str, candidates: list[WorkbookPlan] | None = None
                  ) -> tuple[WorkbookPlan, SheetPlan, int]:
        """A real row with no finding yet, in a file whose layout has `column`."""
        rows = [(plan, sheet, i) for plan in candidates or _eligible(plans, column, reference)
                for sheet in plan.sheets for i, r in enumerate(sheet.rows)
                if r.truth and not r.findings]
        return rng.choice(rows)

    warnings = [
        ("operator_uscc", "check_digit", lambda s: replace(
            s, operator_uscc=s.operator_uscc[:17] + ("0" if s.operator_uscc[17] != "0" else "1"))),
        ("design_pue", "implausible", lambda s: replace(s, design_pue=3.4)),
        ("design_it_kw", "implausible", lambda s: replace(
            s, design_it_kw=int(s.design_racks * 2.5 * 5))),
    ]
    for column, rule, change in warnings:
        plan, sheet, index = pick_real(column)
        old = sheet.rows[index]
        state = change(old.truth)
        row = real_row(rng, state, city_en[state.centre_id], plan.layout, reference, plan.vintage)
        row.cells.update({k: old.cells[k] for k in ("province", "city", "hub", "cluster")})
        row.written, row.findings = old.written, [(column, rule, "warning")]
        sheet.rows[index] = row

    # A conflicting duplicate, where a previous version can stand (not the first quarter).
    later = [p for p in plans if p.vintage != min(q.vintage for q in plans)] or plans
    plan, sheet, index = pick_real("centre_id", later)
    original = sheet.rows[index]
    state = original.truth
    per_rack = state.design_it_kw / state.design_racks
    other = replace(state, design_racks=state.design_racks + 100,
                    design_it_kw=int((state.design_racks + 100) * per_rack))
    twin = real_row(rng, other, city_en[state.centre_id], plan.layout, reference, plan.vintage)
    twin.cells["province"] = original.cells["province"]
    for row in (original, twin):
        row.truth, row.conflict = None, True
        row.findings = [("centre_id", "conflicting_duplicate", "error")]
    sheet.rows.insert(index + 1, twin)

    # An identical duplicate (written differently, same values): it collapses to one.
    plan, sheet, index = pick_real("centre_id")
    original = sheet.rows[index]
    copy = real_row(rng, original.truth, city_en[original.truth.centre_id], plan.layout,
                    reference, plan.vintage)
    copy.cells.update({k: original.cells[k] for k in ("province", "city", "hub", "cluster")})
    copy.truth = None
    sheet.rows.insert(index + 1, copy)

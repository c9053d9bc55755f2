"""Register workbooks as provinces send them: layouts, cell renderings, writing.

Each province keeps one layout across quarters (its language, units, title rows,
columns, file naming); cells vary row by row (numbers as text, full-width digits,
dates in every accepted form). xlsx is written with openpyxl; xls and ods are
converted from it by LibreOffice headless, as a province's office suite would."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from tenacity import Retrying, stop_after_attempt

from pipelines.generate.centres import CentreState
from pipelines.reference import Reference

EXCEL_EPOCH = dt.date(1899, 12, 30)
FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")

HEADERS_ZH = {
    "centre_id": ["数据中心编号"], "centre_name": ["数据中心名称"],
    "operator_name": ["运营主体", "运营单位"], "operator_uscc": ["统一社会信用代码"],
    "province": ["省份", "省(区、市)", "省（区、市）"], "city": ["城市", "地市"],
    "hub": ["枢纽节点"], "cluster": ["集群"],
    "design_racks": ["设计机架数", "设计机架数（标准机架）", "设计机架数(标准机架)"],
    "design_it_kw": ["设计IT负载（{unit}）", "设计IT负载({unit})"], "design_pue": ["设计PUE"],
    "centre_type": ["类型"], "design_pflops": ["设计算力（PFLOPS）", "设计算力(PFLOPS)"],
    "licence_no": ["许可证编号"], "licence_issued": ["发证日期"], "licence_expires": ["有效期至"],
    "commissioned": ["投产日期"], "status": ["状态"], "as_of": ["报送日期"],
}
HEADERS_EN = {
    "centre_id": ["Centre ID", "Data Centre ID", "DC ID"], "centre_name": ["Centre Name"],
    "operator_name": ["Operator"], "operator_uscc": ["USCC"], "province": ["Province"],
    "city": ["City"], "hub": ["Hub", "Hub Node"], "cluster": ["Cluster"],
    "design_racks": ["Design Racks"], "design_it_kw": ["Design IT Load ({unit})"],
    "design_pue": ["Design PUE"], "centre_type": ["Type"],
    "design_pflops": ["Design Compute (PFLOPS)"], "licence_no": ["Licence No"],
    "licence_issued": ["Issue Date"], "licence_expires": ["Expiry Date"],
    "commissioned": ["Commissioning Date"], "status": ["Status"], "as_of": ["as_of"],
}
STATUS_WORDS = {
    "zh": {"operating": ["运营", "运营中", "在用"], "construction": ["在建"],
           "suspended": ["暂停"], "revoked": ["吊销", "注销"], "closed": ["关停"]},
    "en": {s: [s, s.capitalize(), s.upper()] for s in
           ("operating", "construction", "suspended", "revoked", "closed")},
}
TYPE_WORDS = {"zh": {"general": "通用", "intelligent": "智算", "supercomputing": "超算"},
              "en": {"general": "General", "intelligent": "intelligent",
                     "supercomputing": "Supercomputing"}}
OPTIONAL = ("operator_uscc", "city", "centre_type", "design_pflops", "licence_no", "commissioned")
PERIOD_STYLES = ("{y}Q{q}", "{y}-Q{q}", "{y}-{m:02d}", "{y}{m:02d}", "{y}-{m:02d}-{d:02d}")


@dataclass(frozen=True)
class Layout:
    language: str  # zh or en
    unit: str  # kW or MW
    fmt: str  # xlsx, xls or ods
    title_rows: int
    seq_column: bool
    instructions: bool
    split_sheets: bool  # operating centres and the others on two sheets
    merge_province: bool
    columns: tuple[str, ...]
    headers: dict[str, str]
    period_style: str | None  # None: vintage in an as_of column
    chinese_file_name: bool
    province_style: str  # full, short, en, code2, code6, mixed
    hub_style: str  # zh, en, code


def choose_layout(rng: random.Random, province: str, reference: Reference) -> Layout:
    language = "en" if rng.random() < 0.3 else "zh"
    unit = "MW" if rng.random() < 0.35 else "kW"
    in_hub = province in reference.hub_of_province
    has_cluster = any(province in places for _, places in reference.cluster_places.values())
    columns = ["centre_id", "centre_name", "operator_name", "operator_uscc", "province", "city"]
    if in_hub and rng.random() < 0.7:
        columns.append("hub")
    if has_cluster and rng.random() < 0.7:
        columns.append("cluster")
    columns += ["design_racks", "design_it_kw", "design_pue", "centre_type", "design_pflops",
                "licence_no", "licence_issued", "licence_expires", "commissioned", "status"]
    columns = [c for c in columns if c not in OPTIONAL or rng.random() < 0.85]
    period_style = None if rng.random() < 0.12 else rng.choice(PERIOD_STYLES)
    if period_style is None:
        columns.insert(rng.randrange(len(columns) + 1), "as_of")
    names = HEADERS_ZH if language == "zh" else HEADERS_EN
    headers = {c: rng.choice(names[c]).format(unit=unit) for c in columns}
    if language == "en" and rng.random() < 0.4:  # other case and stray spaces
        headers = {c: f" {h.upper()} " if rng.random() < 0.5 else h.lower()
                   for c, h in headers.items()}
    return Layout(
        language=language, unit=unit,
        fmt=rng.choices(["xlsx", "xls", "ods"], [60, 20, 20])[0],
        title_rows=rng.randrange(0, 5), seq_column=rng.random() < 0.4,
        instructions=rng.random() < 0.7, split_sheets=rng.random() < 0.15,
        merge_province=rng.random() < 0.2, columns=tuple(columns), headers=headers,
        period_style=period_style, chinese_file_name=language == "zh" and rng.random() < 0.4,
        province_style=rng.choice(["full", "short", "en", "code2", "code6", "mixed"]),
        hub_style=rng.choice(["zh", "en", "code"]),
    )


@dataclass
class PlannedRow:
    cells: dict[str, object]  # canonical column -> cell value as written
    formats: dict[str, str] = field(default_factory=dict)  # number formats of date cells
    truth: CentreState | None = None  # a real centre row: what the register must hold
    written: dict[str, str | None] = field(default_factory=dict)  # province/hub/cluster text
    findings: list[tuple[str, str, str]] = field(default_factory=list)  # (column, rule, severity)
    conflict: bool = False
    sheet: str = ""
    source_row: int = 0


@dataclass
class SheetPlan:
    name: str
    rows: list[PlannedRow]


@dataclass
class WorkbookPlan:
    file_name: str  # under the landing folder, final extension
    province: str
    vintage: dt.date
    layout: Layout
    titles: list[str]
    sheets: list[SheetPlan]


def period_token(style: str, vintage: dt.date) -> str:
    return style.format(y=vintage.year, q=(vintage.month - 1) // 3 + 1, m=vintage.month,
                        d=vintage.day)


def render_number(rng: random.Random, value: float | int) -> object:
    """A number as a province types it: a number cell, or text with separators,
    full-width digits or stray spaces."""
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.4f}".rstrip("0").rstrip(".")
    style = rng.random()
    if style < 0.55:
        return value
    if style < 0.75:
        return text
    if style < 0.88:
        return text.replace(",", "").translate(FULL_WIDTH)
    return f" {text.replace(',', '')} "


def render_date(rng: random.Random, day: dt.date) -> tuple[object, str | None]:
    """A date in one of the accepted forms: a date cell, a bare Excel serial, or text."""
    style = rng.randrange(7)
    if style == 0:
        return day, rng.choice(["yyyy-mm-dd", "yyyy/m/d"])
    if style == 1:
        return (day - EXCEL_EPOCH).days, None
    return [f"{day:%Y-%m-%d}", f"{day.year}/{day.month}/{day.day}", f"{day:%Y.%m.%d}",
            f"{day:%Y%m%d}", f"{day.year}年{day.month}月{day.day}日"][style - 2], None


def write_xlsx(plan: WorkbookPlan, path: Path) -> None:
    """Write the plan and record each planned row's sheet and row number."""
    layout = plan.layout
    workbook = Workbook()
    workbook.remove(workbook.active)
    fixed = dt.datetime(2025, 1, 1)
    workbook.properties.created = workbook.properties.modified = fixed  # reproducible bytes
    if layout.instructions:
        sheet = workbook.create_sheet("填报说明" if layout.language == "zh" else "Instructions")
        for line in _instructions(layout.language):
            sheet.append([line])
    columns = (["seq"] if layout.seq_column else []) + list(layout.columns)
    for sheet_plan in plan.sheets:
        sheet = workbook.create_sheet(sheet_plan.name)
        for title in plan.titles:
            sheet.append([title])
            if len(columns) > 1:
                sheet.merge_cells(start_row=sheet.max_row, start_column=1,
                                  end_row=sheet.max_row, end_column=len(columns))
        if plan.titles:
            sheet.append([])
        seq_label = "序号" if layout.language == "zh" else "No."
        sheet.append([seq_label if c == "seq" else layout.headers[c] for c in columns])
        first_data = sheet.max_row + 1
        for n, row in enumerate(sheet_plan.rows, start=1):
            sheet.append([n if c == "seq" else row.cells.get(c) for c in columns])
            row.sheet, row.source_row = sheet_plan.name, sheet.max_row
            for column, number_format in row.formats.items():
                if column in columns:
                    cell = sheet.cell(sheet.max_row, columns.index(column) + 1)
                    cell.number_format = number_format
        _merge_province(sheet, sheet_plan, columns, first_data, layout)
        _footer(sheet, sheet_plan, columns, layout)
        for index in range(1, len(columns) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 16
    workbook.save(path)


def _merge_province(sheet, sheet_plan: SheetPlan, columns: list[str], first_data: int,
                    layout: Layout) -> None:
    """Provinces often merge the province cell down their real rows."""
    real = [r for r in sheet_plan.rows if r.truth is not None or r.conflict]
    if not (layout.merge_province and "province" in columns and len(real) > 1):
        return
    last = max(r.source_row for r in real)
    if last - first_data + 1 != len(real):
        return  # real rows are not contiguous: leave the cells as they are
    col = columns.index("province") + 1
    sheet.merge_cells(start_row=first_data, start_column=col, end_row=last, end_column=col)


def _footer(sheet, sheet_plan: SheetPlan, columns: list[str], layout: Layout) -> None:
    zh = layout.language == "zh"
    racks = sum(r.truth.design_racks for r in sheet_plan.rows if r.truth is not None)
    total = [None] * len(columns)
    total[0] = "合计" if zh else "Total"
    total[columns.index("design_racks")] = racks
    sheet.append(total)
    sheet.append(["注：机架数按2.5kW标准机架折算。" if zh
                  else "Note: racks are counted in 2.5 kW standard racks."])
    sheet.append(["说明：本表由省通信管理局汇总。" if zh
                  else "Notes: compiled by the provincial communications administration."])


def _instructions(language: str) -> list[str]:
    if language == "zh":
        return ["填报说明", "1. 每个数据中心填写一行。", "2. 日期格式为年-月-日。",
                "3. 设计IT负载单位见表头。"]
    return ["Instructions", "1. One row per data centre.", "2. Dates as year-month-day.",
            "3. The unit of the design IT load is in the header."]


def convert_with_libreoffice(sources: list[Path], fmt: str, out_dir: Path) -> None:
    """Convert xlsx files to xls or ods with LibreOffice headless (one batch)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is needed to write .xls and .ods: "
                           "apt-get install -y libreoffice-calc-nogui")
    target = {"xls": "xls:MS Excel 97", "ods": "ods"}[fmt]
    # A second attempt: the first start of a freshly installed LibreOffice has been seen
    # to fail once and then never again.
    for attempt in Retrying(stop=stop_after_attempt(2), reraise=True):
        with attempt, tempfile.TemporaryDirectory() as profile:
            done = subprocess.run(
                [soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                 "--convert-to", target, "--outdir", str(out_dir), *map(str, sources)],
                capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"LibreOffice failed to write .{fmt} (exit "
                                   f"{done.returncode}): {done.stderr.strip()}")
    missing = [s for s in sources if not (out_dir / f"{s.stem}.{fmt}").exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not convert {[m.name for m in missing]}")

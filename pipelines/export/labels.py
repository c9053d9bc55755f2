"""Bilingual labels and number formats of the export's columns (contract §2.2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Format(Enum):
    """How a column is shown in the workbook (Excel number formats)."""

    TEXT = "@"
    INT = "#,##0"
    ONE = "#,##0.0"
    TWO = "#,##0.00"
    SCORE = "0.000"
    PCT = "0.0%"
    BOOL = "General"
    DATE = "yyyy-mm-dd"


@dataclass(frozen=True)
class Label:
    zh: str
    en: str
    format: Format
    width: int  # characters, for the column width


LABELS: dict[str, Label] = {
    "indicator": Label("代码", "Key", Format.TEXT, 26),
    "indicator_zh": Label("指标", "Indicator (Chinese)", Format.TEXT, 30),
    "indicator_en": Label("英文指标", "Indicator", Format.TEXT, 44),
    "value": Label("数值", "Value", Format.TEXT, 18),
    "region_code": Label("代码", "Code", Format.TEXT, 8),
    "region_name_zh": Label("名称", "Name (Chinese)", Format.TEXT, 16),
    "region_name_en": Label("英文名称", "Name", Format.TEXT, 24),
    "hub_code": Label("枢纽", "Hub", Format.TEXT, 8),
    "nbs_region": Label("地区", "NBS region", Format.TEXT, 11),
    "side": Label("东/西", "Side", Format.TEXT, 7),
    "centres_operating": Label("运营中数据中心", "Centres operating", Format.INT, 12),
    "centres_reporting": Label("报送数据中心", "Centres reporting", Format.INT, 12),
    "reporting_share": Label("报送比例", "Reporting share", Format.PCT, 11),
    "design_racks": Label("设计机架数", "Design racks", Format.INT, 12),
    "racks_in_use": Label("在用机架数", "Racks in use", Format.ONE, 12),
    "rack_utilisation": Label("机架利用率", "Rack utilisation", Format.PCT, 11),
    "vacancy_rate": Label("空置率", "Vacancy rate", Format.PCT, 10),
    "power_utilisation": Label("电力利用率", "Power utilisation", Format.PCT, 11),
    "pue": Label("电能利用效率", "PUE", Format.TWO, 8),
    "compute_utilisation": Label("算力利用率", "Compute utilisation", Format.PCT, 11),
    "idle_share": Label("闲置中心占比", "Idle share", Format.PCT, 10),
    "pipeline_racks": Label("在建机架数", "Pipeline racks", Format.INT, 12),
    "pipeline_ratio": Label("在建/在用比", "Pipeline ratio", Format.PCT, 10),
    "racks_growth_12m": Label("机架同比增长", "Racks growth 12m", Format.PCT, 11),
    "demand_growth_12m": Label("需求同比增长", "Demand growth 12m", Format.PCT, 11),
    "threshold": Label("利用率阈值", "Threshold", Format.PCT, 11),
    "glut_flag": Label("过剩预警", "Glut flag", Format.BOOL, 9),
    "glut_signals": Label("过剩信号", "Glut signals", Format.TEXT, 52),
    "glut_score": Label("过剩评分", "Glut score", Format.SCORE, 9),
    "province_code": Label("省份代码", "Province code", Format.TEXT, 9),
    "province_name_zh": Label("省份", "Province (Chinese)", Format.TEXT, 16),
    "province_name_en": Label("省份英文名", "Province", Format.TEXT, 16),
    "centre_id": Label("数据中心编号", "Centre ID", Format.TEXT, 15),
    "centre_name": Label("数据中心名称", "Centre name", Format.TEXT, 30),
    "operator_name": Label("运营主体", "Operator", Format.TEXT, 30),
    "status": Label("状态", "Status", Format.TEXT, 11),
    "racks_in_use_avg": Label("平均在用机架", "Racks in use (mean)", Format.ONE, 12),
    "coverage": Label("数据覆盖率", "Coverage", Format.PCT, 10),
    "is_idle": Label("闲置", "Idle", Format.BOOL, 7),
    "centres_with_compute": Label("有算力数据的中心", "Centres with compute", Format.INT, 12),
    "sellable_pflops": Label("可售算力(PFLOPS)", "Sellable PFLOPS", Format.TWO, 12),
    "rtt_ms_to_JJJ": Label("至京津冀时延(ms)", "RTT to JJJ (ms)", Format.ONE, 11),
    "rtt_ms_to_YRD": Label("至长三角时延(ms)", "RTT to YRD (ms)", Format.ONE, 11),
    "rtt_ms_to_GBA": Label("至粤港澳时延(ms)", "RTT to GBA (ms)", Format.ONE, 11),
    "rtt_ms_to_CY": Label("至成渝时延(ms)", "RTT to CY (ms)", Format.ONE, 11),
    "reachable_east_hubs": Label("20毫秒可达东部枢纽", "Eastern hubs within 20 ms",
                                 Format.TEXT, 18),
    "level": Label("层级", "Level", Format.TEXT, 9),
    "months_to_threshold": Label("达阈值月数", "Months to threshold", Format.INT, 11),
    "clears_by": Label("预计消化月份", "Clears by", Format.DATE, 11),
    "utilisation_with_pipeline": Label("含在建利用率", "Utilisation with pipeline",
                                       Format.PCT, 12),
    "months_to_absorb_pipeline": Label("消化在建月数", "Months to absorb pipeline",
                                       Format.INT, 12),
    "finding": Label("问题", "Finding", Format.TEXT, 32),
    "licence_no": Label("许可证编号", "Licence No", Format.TEXT, 15),
    "licence_expires": Label("有效期至", "Licence expires", Format.DATE, 11),
    "hours_reported": Label("报送小时数", "Hours reported", Format.INT, 10),
    "missing": Label("缺失", "Missing", Format.INT, 9),
    "unparseable": Label("无法解析", "Unparseable", Format.INT, 9),
    "out_of_range": Label("超出范围", "Out of range", Format.INT, 9),
    "inconsistent": Label("不一致", "Inconsistent", Format.INT, 9),
    "unknown_code": Label("未知代码", "Unknown code", Format.INT, 9),
    "unknown_centre": Label("未登记中心", "Unknown centre", Format.INT, 9),
    "conflicting_duplicate": Label("冲突重复", "Conflicting duplicate", Format.INT, 10),
    "check_digit": Label("校验位(警告)", "Check digit (warning)", Format.INT, 10),
    "implausible": Label("不合理(警告)", "Implausible (warning)", Format.INT, 10),
    "findings": Label("问题合计", "Findings", Format.INT, 9),
    "file_name": Label("文件", "File", Format.TEXT, 40),
    "kind": Label("类别", "Kind", Format.TEXT, 10),
    "sha256": Label("SHA-256", "SHA-256", Format.TEXT, 66),
    "rows_loaded": Label("载入行数", "Rows loaded", Format.INT, 11),
    "loaded_at": Label("载入时间(UTC)", "Loaded at (UTC)", Format.TEXT, 20),
}

# The national figures of the Summary sheet, in order: (key, Chinese, English, format).
SUMMARY_ROWS: tuple[tuple[str, str, str, Format], ...] = (
    ("centres_operating", "运营中数据中心", "Centres operating", Format.INT),
    ("centres_reporting", "报送数据中心", "Centres reporting", Format.INT),
    ("reporting_share", "报送比例", "Reporting share", Format.PCT),
    ("design_racks", "设计机架数", "Design racks", Format.INT),
    ("racks_in_use", "在用机架数", "Racks in use", Format.ONE),
    ("rack_utilisation", "机架利用率", "Rack utilisation", Format.PCT),
    ("vacancy_rate", "空置率", "Vacancy rate", Format.PCT),
    ("power_utilisation", "电力利用率", "Power utilisation", Format.PCT),
    ("pue", "电能利用效率", "PUE", Format.TWO),
    ("compute_utilisation", "算力利用率", "Compute utilisation", Format.PCT),
    ("idle_share", "闲置中心占比", "Idle share", Format.PCT),
    ("pipeline_racks", "在建机架数", "Pipeline racks", Format.INT),
    ("pipeline_ratio", "在建/在用比", "Pipeline ratio", Format.PCT),
    ("racks_growth_12m", "机架同比增长", "Racks growth 12m", Format.PCT),
    ("demand_growth_12m", "需求同比增长", "Demand growth 12m", Format.PCT),
    ("glut_flag", "全国过剩预警", "National glut flag", Format.BOOL),
    ("glut_signals", "全国过剩信号", "National glut signals", Format.TEXT),
    ("glut_score", "全国过剩评分", "National glut score", Format.SCORE),
    ("provinces_glut", "过剩预警省份数", "Provinces with a glut flag", Format.INT),
    ("hubs_glut", "过剩预警枢纽数", "Hubs with a glut flag", Format.INT),
    ("sellable_pflops_west", "西部枢纽可售算力(PFLOPS)", "Sellable PFLOPS, western hubs",
     Format.TWO),
    ("sellable_pflops_reachable", "20毫秒内可售给东部的算力(PFLOPS)",
     "Sellable PFLOPS within 20 ms of an eastern hub", Format.TWO),
)

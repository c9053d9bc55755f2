"""The licensing register (contract §1.1): its canonical columns with their header
aliases, and the pandera schemas for the row rules that follow parsing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandera.polars as pa
import polars as pl

from schemas.rules import Rule
from schemas.uscc import uscc_valid

Kind = Literal["centre_id", "text", "uscc", "province", "hub", "cluster", "integer", "number",
               "centre_type", "date", "status"]


@dataclass(frozen=True)
class RegisterColumn:
    name: str
    kind: Kind
    required: bool
    aliases: tuple[str, ...]
    # Header aliases that carry a unit, mapped to the factor that converts to the stored unit.
    unit_aliases: tuple[tuple[str, float], ...] = ()


REGISTER_COLUMNS: tuple[RegisterColumn, ...] = (
    RegisterColumn("centre_id", "centre_id", True,
                   ("centre_id", "数据中心编号", "Centre ID", "Data Centre ID", "DC ID",
                    "Center ID", "Data Center ID")),
    RegisterColumn("centre_name", "text", True,
                   ("centre_name", "数据中心名称", "Centre Name", "Center Name",
                    "Data Centre Name", "Data Center Name")),
    RegisterColumn("operator_name", "text", True,
                   ("operator_name", "运营主体", "运营单位", "Operator", "Operator Name")),
    RegisterColumn("operator_uscc", "uscc", False,
                   ("operator_uscc", "统一社会信用代码", "USCC", "Operator USCC")),
    RegisterColumn("province", "province", True,
                   ("province", "省份", "省(区、市)", "省(区,市)", "省区市", "Province")),
    RegisterColumn("city", "text", False, ("city", "城市", "地市", "City")),
    RegisterColumn("hub", "hub", False, ("hub", "枢纽节点", "枢纽", "Hub", "Hub Node")),
    RegisterColumn("cluster", "cluster", False, ("cluster", "集群", "Cluster")),
    RegisterColumn("design_racks", "integer", True,
                   ("design_racks", "设计机架数", "设计机架数(标准机架)", "Design Racks")),
    RegisterColumn("design_it_kw", "number", True, ("design_it_kw",),
                   unit_aliases=(("设计IT负载(kW)", 1.0), ("设计IT负载(MW)", 1000.0),
                                 ("Design IT Load (kW)", 1.0), ("Design IT Load (MW)", 1000.0),
                                 ("design_it_mw", 1000.0))),
    RegisterColumn("design_pue", "number", True, ("design_pue", "设计PUE", "Design PUE")),
    RegisterColumn("centre_type", "centre_type", False,
                   ("centre_type", "类型", "Type", "数据中心类型", "Centre Type")),
    RegisterColumn("design_pflops", "number", False,
                   ("design_pflops", "设计算力(PFLOPS)", "Design Compute (PFLOPS)")),
    RegisterColumn("licence_no", "text", False,
                   ("licence_no", "许可证编号", "Licence No", "License No", "Licence Number")),
    RegisterColumn("licence_issued", "date", True,
                   ("licence_issued", "发证日期", "Issue Date", "Licence Issued")),
    RegisterColumn("licence_expires", "date", True,
                   ("licence_expires", "有效期至", "Expiry Date", "Licence Expires")),
    RegisterColumn("commissioned", "date", False,
                   ("commissioned", "投产日期", "Commissioning Date")),
    RegisterColumn("status", "status", True, ("status", "状态", "Status")),
    # Not a register column: the vintage, when the workbook carries it per row.
    RegisterColumn("as_of", "date", False, ("as_of", "报送日期", "As Of", "As-of Date")),
)

CENTRE_TYPES = {"通用": "general", "general": "general", "智算": "intelligent",
                "intelligent": "intelligent", "超算": "supercomputing",
                "supercomputing": "supercomputing"}
STATUSES = {"运营": "operating", "运营中": "operating", "在用": "operating",
            "operating": "operating", "在建": "construction", "construction": "construction",
            "暂停": "suspended", "suspended": "suspended", "吊销": "revoked", "注销": "revoked",
            "revoked": "revoked", "关停": "closed", "closed": "closed"}

STANDARD_RACK_KW = 2.5
PUE_MIN, PUE_WARN_ABOVE = 1.0, 3.0
KW_PER_RACK_PLAUSIBLE = (0.5, 4.0)  # × 2.5 kW


def _column_check(rule: Rule, expr: pl.Expr) -> pa.Check:
    """A row rule on one column (that may read others); nulls pass, other rules own them."""
    return pa.Check(lambda data: data.lazyframe.select(expr.fill_null(True)), name=str(rule))


_col = pl.col
_kw_per_rack = _col("design_it_kw") / (_col("design_racks") * STANDARD_RACK_KW)

# Errors: a failing row is rejected.
REGISTER_ROW_RULES = pa.DataFrameSchema(
    {
        "centre_id": pa.Column(str, nullable=True, checks=_column_check(
            Rule.INCONSISTENT, _col("centre_id").str.slice(2, 2) == _col("province_code"))),
        # An unknown or missing province is its own finding, not the hub's or cluster's.
        "hub": pa.Column(str, nullable=True, checks=_column_check(
            Rule.INCONSISTENT, _col("province_code").is_null() | _col("hub_given_code").is_null()
            | (_col("hub_given_code") == _col("hub_code")).fill_null(False))),
        "cluster": pa.Column(str, nullable=True, checks=_column_check(
            Rule.INCONSISTENT, _col("province_code").is_null() | _col("cluster_code").is_null()
            | ((_col("cluster_hub_code") == _col("hub_code")).fill_null(False)
               & _col("cluster_province_codes").list.contains(_col("province_code"))))),
        "design_racks": pa.Column(pl.Int64, nullable=True, checks=_column_check(
            Rule.OUT_OF_RANGE, _col("design_racks") >= 0)),
        "design_it_kw": pa.Column(pl.Float64, nullable=True, checks=_column_check(
            Rule.OUT_OF_RANGE, _col("design_it_kw") >= 0)),
        "design_pue": pa.Column(pl.Float64, nullable=True, checks=_column_check(
            Rule.OUT_OF_RANGE, _col("design_pue") >= PUE_MIN)),
        "design_pflops": pa.Column(pl.Float64, nullable=True, checks=_column_check(
            Rule.OUT_OF_RANGE, _col("design_pflops") >= 0)),
        "licence_expires": pa.Column(pl.Date, nullable=True, checks=_column_check(
            Rule.INCONSISTENT, _col("licence_expires") >= _col("licence_issued"))),
    },
    name="register_row_rules",
)

# Warnings: the row is kept and the finding recorded.
REGISTER_ROW_WARNINGS = pa.DataFrameSchema(
    {
        "operator_uscc": pa.Column(str, nullable=True, checks=_column_check(
            Rule.CHECK_DIGIT,
            _col("operator_uscc").is_null() | uscc_valid(_col("operator_uscc")))),
        "design_pue": pa.Column(pl.Float64, nullable=True, checks=_column_check(
            Rule.IMPLAUSIBLE, _col("design_pue") <= PUE_WARN_ABOVE)),
        "design_it_kw": pa.Column(pl.Float64, nullable=True, checks=_column_check(
            Rule.IMPLAUSIBLE,
            ((_col("design_it_kw") == 0) & (_col("design_racks") == 0))
            | _kw_per_rack.is_between(*KW_PER_RACK_PLAUSIBLE))),
    },
    name="register_row_warnings",
)

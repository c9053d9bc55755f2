"""The trend chart: national and per-hub rack utilisation over the last twelve months,
against the glut thresholds."""

from __future__ import annotations

import datetime as dt

import matplotlib.pyplot as plt
from matplotlib.dates import DateFormatter
from matplotlib.ticker import PercentFormatter

from pipelines.export.chart_data import TrendPoint
from pipelines.export.figures import chart_style, png_bytes


def draw_trend(month: dt.date, points: list[TrendPoint]) -> bytes:
    """The PNG: one line per region (the nation thick and black), months on the x axis."""
    with plt.rc_context(chart_style()):
        return png_bytes(trend_figure(month, points))


def trend_figure(month: dt.date, points: list[TrendPoint]) -> plt.Figure:
    """The figure, drawn within chart_style() (its text resolves to the CJK font)."""
    figure, axes = plt.subplots(figsize=(11, 6), dpi=100)
    regions = list(dict.fromkeys((p.region_code, p.name_zh, p.name_en) for p in points))
    for code, name_zh, name_en in regions:
        mine = [p for p in points if p.region_code == code]
        national = code == "CN"
        axes.plot([p.month for p in mine], [p.rack_utilisation for p in mine],
                  marker="o", markersize=3, linewidth=3 if national else 1.5,
                  color="black" if national else None,
                  label=f"{name_zh} {name_en if national else code}")
    for national, style, name in ((False, "--", "枢纽过剩阈值 Hub threshold"),
                                  (True, ":", "全国过剩阈值 National threshold")):
        for threshold in sorted({p.threshold for p in points
                                 if (p.region_code == "CN") == national}):
            axes.axhline(threshold, color="#c0392b", linestyle=style, linewidth=1,
                         label=f"{name} {threshold:.0%}")
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_ylim(0, 1)
    axes.xaxis.set_major_formatter(DateFormatter("%Y-%m"))
    axes.set_ylabel("机架利用率 Rack utilisation")
    axes.set_title(f"全国及枢纽机架利用率（近12个月） National and hub rack utilisation, "
                   f"12 months to {month:%Y-%m}", fontsize=13)
    axes.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False)
    figure.tight_layout()
    return figure

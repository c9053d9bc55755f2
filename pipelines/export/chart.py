"""The PNG of rack utilisation by province, for people who will not open the workbook."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers

import matplotlib.pyplot as plt

from pipelines.export.figures import chart_style
from pipelines.export.sheets import Table


def write_chart(path: Path, month: dt.date, provinces: Table) -> None:
    """Bars per province (red where below its threshold), the threshold as a line."""
    with plt.rc_context(chart_style()):
        _draw(path, month, provinces)


def _draw(path: Path, month: dt.date, provinces: Table) -> None:
    column = {name: i for i, name in enumerate(provinces.columns)}
    names = [row[column["region_name_en"]] for row in provinces.rows]
    utilisation = [row[column["rack_utilisation"]] for row in provinces.rows]
    thresholds = [row[column["threshold"]] for row in provinces.rows]
    colours = ["#c0392b" if u is not None and u < t else "#2e75b6"
               for u, t in zip(utilisation, thresholds, strict=True)]
    figure, axes = plt.subplots(figsize=(12, 5), dpi=100)
    positions = range(len(names))
    axes.bar(positions, [u or 0.0 for u in utilisation], color=colours,
             label="机架利用率 Rack utilisation (red: below threshold)")
    axes.step(positions, thresholds, where="mid", color="black", linewidth=1.5,
              label="过剩阈值 Glut threshold")
    axes.set_xticks(list(positions), names, rotation=60, ha="right", fontsize=8)
    axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes.set_ylim(0, max([1.0, *(u or 0 for u in utilisation)]))
    axes.set_title(f"各省机架利用率 Rack utilisation by province, {month:%Y-%m}")
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    # No "Software" stamp: the same figures give the same bytes.
    figure.savefig(path, format="png", metadata={"Software": None})
    plt.close(figure)

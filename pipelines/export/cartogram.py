"""The tile-grid cartogram: one square per province at its approximate place on the map,
coloured by rack utilisation against the province's glut threshold, glut-flagged
provinces outlined and marked."""

from __future__ import annotations

import datetime as dt

import matplotlib.pyplot as plt
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Patch, Rectangle

from pipelines.export.chart_data import Tile
from pipelines.export.figures import chart_style, png_bytes

# (column, row) of each province, row 0 at the top: roughly where it lies.
TILES: dict[str, tuple[int, int]] = {
    "23": (8, 0),
    "15": (5, 1), "11": (6, 1), "21": (7, 1), "22": (8, 1),
    "65": (1, 2), "64": (4, 2), "14": (5, 2), "13": (6, 2), "12": (7, 2),
    "63": (2, 3), "62": (3, 3), "61": (4, 3), "41": (5, 3), "37": (6, 3),
    "54": (1, 4), "51": (3, 4), "50": (4, 4), "42": (5, 4), "34": (6, 4), "32": (7, 4),
    "31": (8, 4),
    "52": (4, 5), "43": (5, 5), "36": (6, 5), "33": (7, 5),
    "53": (3, 6), "45": (4, 6), "44": (5, 6), "35": (6, 6),
    "46": (4, 7),
}
_NORM = TwoSlopeNorm(vmin=0.0, vcenter=1.0, vmax=1.5)  # utilisation / threshold
_COLOURS = plt.get_cmap("RdBu")
_NO_DATA = "#d9d9d9"


def draw_cartogram(month: dt.date, tiles: list[Tile]) -> bytes:
    """The PNG: red tiles below their threshold, blue above, grey without data."""
    with plt.rc_context(chart_style()):
        return png_bytes(cartogram_figure(month, tiles))


def cartogram_figure(month: dt.date, tiles: list[Tile]) -> plt.Figure:
    """The figure, drawn within chart_style() (its text resolves to the CJK font)."""
    figure, axes = plt.subplots(figsize=(11, 8.5), dpi=100)
    for tile in tiles:
        column, row = TILES[tile.province_code]
        ratio = (None if tile.rack_utilisation is None or not tile.threshold
                 else tile.rack_utilisation / tile.threshold)
        colour = _NO_DATA if ratio is None else _COLOURS(_NORM(ratio))
        axes.add_patch(Rectangle((column + 0.04, -row - 0.96), 0.92, 0.92,
                                 facecolor=colour, hatch="//" if tile.glut_flag else None,
                                 edgecolor="black" if tile.glut_flag else "white",
                                 linewidth=3 if tile.glut_flag else 1))
        reading = ("无数据\nno data" if tile.rack_utilisation is None
                       else f"{tile.rack_utilisation:.0%}")
        axes.text(column + 0.5, -row - 0.28, tile.name_zh, ha="center", va="center",
                  fontsize=12, fontweight="bold")
        axes.text(column + 0.5, -row - 0.5, tile.name_en, ha="center", va="center",
                  fontsize=6.5)
        axes.text(column + 0.5, -row - 0.74, reading, ha="center", va="center",
                  fontsize=9 if tile.rack_utilisation is not None else 6.5)
    axes.set_xlim(0, 9)
    axes.set_ylim(-8, 0)
    axes.set_aspect("equal")
    axes.axis("off")
    bar = figure.colorbar(plt.cm.ScalarMappable(norm=_NORM, cmap=_COLOURS), ax=axes,
                          shrink=0.6, pad=0.02)
    bar.set_label("机架利用率 ÷ 过剩阈值  Rack utilisation ÷ glut threshold")
    axes.legend(handles=[
        Patch(facecolor="white", edgecolor="black", hatch="//", linewidth=3,
              label="过剩预警 Glut flag"),
        Patch(facecolor=_NO_DATA, label="无运营中数据中心 No operating centre")],
        loc="lower left", fontsize=9, frameon=False)
    axes.set_title(f"各省机架利用率与过剩阈值 Rack utilisation against the glut threshold, "
                   f"{month:%Y-%m}", fontsize=13)
    figure.tight_layout()
    return figure

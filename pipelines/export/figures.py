"""What the export's charts share: the font they draw Chinese with (Noto Sans CJK from
Debian's fonts-noto-cjk, which `make setup` installs) and reproducible PNG bytes.
matplotlib's font cache may predate the font package, so the font files are registered
by path rather than looked up by name."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers

import matplotlib.pyplot as plt
from matplotlib import font_manager

CJK_FAMILY = "Noto Sans CJK SC"  # simplified Chinese glyph forms
_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc")


class MissingCjkFont(RuntimeError):
    """The CJK font is not installed: Chinese labels would be drawn as boxes."""


@cache
def cjk_font_file() -> str:
    """The regular face's file, after registering the installed faces with matplotlib."""
    found = {Path(f).name: f for f in font_manager.findSystemFonts() if Path(f).name in _FILES}
    if _FILES[0] not in found:
        raise MissingCjkFont(f"{CJK_FAMILY} is not installed (Debian package fonts-noto-cjk; "
                             "`make setup` installs it)")
    for path in sorted(found.values()):
        font_manager.fontManager.addfont(path)
    return found[_FILES[0]]


def chart_style() -> dict[str, object]:
    """matplotlib settings for a chart with Chinese text (rc_context)."""
    cjk_font_file()
    return {"font.family": "sans-serif", "font.sans-serif": [CJK_FAMILY]}


def png_bytes(figure: plt.Figure) -> bytes:
    """The figure as PNG, closed. No "Software" stamp: the same figures give the same
    bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()

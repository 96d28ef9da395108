"""Matplotlib figures as PNG bytes, with a CJK font so Chinese labels render.

Needs a CJK font: Debian's `fonts-wqy-microhei` (WenQuanYi Micro Hei); Noto CJK is a fallback.
"""

from __future__ import annotations

import io
import threading
from typing import Any

# Tried in order; DejaVu Sans last so Latin text still renders when no CJK font is installed.
CJK_FONTS = ["WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "DejaVu Sans"]
# pyplot is not thread-safe: a server renders one figure at a time.
PLOT_LOCK = threading.Lock()
CJK_FONT_FILES = ("/usr/share/fonts/truetype/wqy/*.tt[cf]", "/usr/share/fonts/opentype/noto/*CJK*")


def pyplot() -> Any:
    """`matplotlib.pyplot` on the Agg backend with a CJK sans-serif font."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    register_cjk_fonts()
    plt.rcParams["font.sans-serif"] = CJK_FONTS
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False  # the CJK font lacks U+2212
    return plt


def png_bytes(figure: Any, dpi: int = 120) -> bytes:
    """The figure as PNG; the figure is closed."""
    plt = pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return buffer.getvalue()


def register_cjk_fonts() -> None:
    """Matplotlib's font cache may predate a CJK font installed later; add its files directly."""
    from pathlib import Path

    from matplotlib import font_manager

    known = {entry.name for entry in font_manager.fontManager.ttflist}
    if known.intersection(CJK_FONTS[:-1]):
        return
    for pattern in CJK_FONT_FILES:
        for file in Path("/").glob(pattern.lstrip("/")):
            font_manager.fontManager.addfont(str(file))

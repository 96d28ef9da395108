"""Matplotlib figures with a CJK font, as PNG: the one plotting leaf of the project.

`eval/` (reports, calibration plots) and `service/export/` (landscape, roadmap) both draw with
it; it sits in `corpus/`, the layer every other one may import, and imports nothing of the
project. Figures are `matplotlib.figure.Figure` objects drawn inside `figure_style()`
(`rc_context`), never through pyplot, so no global figure state is left behind. `rc_context`
changes matplotlib's process-wide settings while it is open, so `figure_style` holds a lock:
a server draws one figure at a time.

Needs a CJK font: Debian's `fonts-wqy-microhei` (WenQuanYi Micro Hei); Noto CJK is a fallback.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Tried in order; DejaVu Sans last so Latin text still renders when no CJK font is installed.
CJK_FONTS = ["WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "DejaVu Sans"]
CJK_FONT_FILES = ("/usr/share/fonts/truetype/wqy/*.tt[cf]", "/usr/share/fonts/opentype/noto/*CJK*")
_STYLE_LOCK = threading.Lock()


@contextmanager
def figure_style() -> Iterator[None]:
    """Settings for drawing one figure: a CJK-capable sans-serif first, an ASCII minus (the CJK
    font lacks U+2212); without a CJK font, Chinese glyphs fall back silently."""
    from matplotlib import rc_context

    with _STYLE_LOCK:
        register_cjk_fonts()
        with (
            rc_context(
                {
                    "font.family": "sans-serif",
                    "font.sans-serif": CJK_FONTS,
                    "axes.unicode_minus": False,
                }
            ),
            warnings.catch_warnings(),
        ):
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            yield


def png_bytes(figure: Figure, dpi: int = 120) -> bytes:
    """The figure as PNG (call it inside the `figure_style` it was drawn in)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def register_cjk_fonts() -> None:
    """Matplotlib's font cache may predate a CJK font installed later; add its files directly."""
    from matplotlib import font_manager

    known = {entry.name for entry in font_manager.fontManager.ttflist}
    if known.intersection(CJK_FONTS[:-1]):
        return
    for pattern in CJK_FONT_FILES:
        for file in Path("/").glob(pattern.lstrip("/")):
            font_manager.fontManager.addfont(str(file))

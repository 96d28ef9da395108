"""Matplotlib set up for headless PNGs with Chinese labels.

Needs a CJK font: Debian's `fonts-wqy-microhei` (WenQuanYi Micro Hei); Noto CJK is a fallback.
"""

from __future__ import annotations

from typing import Any

CJK_FONTS = ["WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "DejaVu Sans"]


def pyplot() -> Any:
    """`matplotlib.pyplot` on the Agg backend with a CJK sans-serif font."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["font.sans-serif"] = CJK_FONTS
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False  # the CJK font lacks U+2212
    return plt

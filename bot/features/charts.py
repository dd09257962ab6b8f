"""The trend chart sent with /stats and the weekly report: a PNG drawn with matplotlib (Agg).

Only the object-oriented API is used (no pyplot), so drawing in a worker thread is safe. Texts
are drawn with Noto Sans CJK (installed from the lock file), so Chinese titles and group names
never turn into boxes; Latin text falls back to matplotlib's own DejaVu Sans.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CHART_WIDTH, CHART_HEIGHT = 800, 450
"""Pixels: wide enough to read on a phone, small enough to upload quickly."""
DPI = 100
FONT_PACKAGE, FONT_FILE = "noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc"
CJK_FAMILY = "Noto Sans CJK SC"
FONT_FAMILIES = [CJK_FAMILY, "DejaVu Sans"]


@dataclass(frozen=True, slots=True)
class Trend:
    """Per-day series of one group; None for days before qunbot was in the group."""

    days: Sequence[dt.date]
    messages: Sequence[int | None]
    active: Sequence[int | None]
    ads_removed: Sequence[int | None]


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """The chart's texts, in the language of the chat it goes to."""

    title: str
    messages: str
    active: str
    ads_removed: str
    not_there_yet: str


def cjk_font_path() -> Path:
    """The Noto Sans CJK collection the `noto-cjk-sans-otc` package ships."""
    return Path(str(resources.files(FONT_PACKAGE) / FONT_FILE))


@cache
def _register_fonts() -> None:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(cjk_font_path()))


@cache
def _font_files() -> tuple[Any, ...]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    _register_fonts()
    paths = [font_manager.findfont(family, fallback_to_default=False) for family in FONT_FAMILIES]
    return tuple(FT2Font(path) for path in paths)


def has_glyph(char: str) -> bool:
    """Whether one of the chart's fonts draws this character (not a box)."""
    return char.isspace() or any(font.get_char_index(ord(char)) for font in _font_files())


def drawable(text: str) -> str:
    """The text without what no font of the chart can draw (colour emoji in a group's title):
    a gap reads better than a box."""
    kept = "".join(char for char in text if has_glyph(char))
    return " ".join(kept.split())


def trend_png(trend: Trend, labels: ChartLabels) -> bytes:
    """Messages and active members per day (lines) over ads removed (bars), as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    _register_fonts()
    figure = Figure(figsize=(CHART_WIDTH / DPI, CHART_HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    positions = list(range(len(trend.days)))
    messages, active = drawable(labels.messages), drawable(labels.active)
    top.plot(positions, _gaps(trend.messages), marker="o", color="#1f77b4", label=messages)
    top.plot(positions, _gaps(trend.active), marker="o", color="#2ca02c", label=active)
    top.set_ylim(bottom=0)
    top.set_title(drawable(labels.title), fontsize=11, fontfamily=FONT_FAMILIES)
    top.grid(alpha=0.3)
    ads = [0 if value is None else value for value in trend.ads_removed]
    bottom.bar(positions, ads, color="#d62728", label=drawable(labels.ads_removed))
    bottom.set_ylim(bottom=0, top=max([*ads, 1]) * 1.2)
    bottom.grid(alpha=0.3, axis="y")
    _shade_absence(trend, labels, (top, bottom))
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))
    for axes in (top, bottom):
        axes.legend(loc="upper left", fontsize=9, prop={"family": FONT_FAMILIES, "size": 9})
    step = max(1, len(positions) // 10)
    bottom.set_xticks(positions[::step], [f"{day:%m-%d}" for day in trend.days][::step])
    figure.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=0.08, hspace=0.08)
    output = io.BytesIO()
    figure.savefig(output, format="png", dpi=DPI)
    return output.getvalue()


def _gaps(values: Sequence[int | None]) -> list[float]:
    """Days without data are gaps in the line, not zeros."""
    return [float("nan") if value is None else float(value) for value in values]


def _shade_absence(trend: Trend, labels: ChartLabels, axes: Sequence[Axes]) -> None:
    """Grey out the days before qunbot was in the group, and say so."""
    absent = sum(1 for value in trend.messages if value is None)
    if absent == 0:
        return
    top = axes[0]
    for each in axes:
        each.axvspan(-0.5, absent - 0.5, color="#dddddd", alpha=0.6, linewidth=0)
    top.text(
        (absent - 1) / 2,
        0.5,
        drawable(labels.not_there_yet),
        transform=top.get_xaxis_transform(),
        ha="center",
        va="center",
        fontsize=9,
        color="#555555",
        fontfamily=FONT_FAMILIES,
    )

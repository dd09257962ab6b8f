"""The trend chart sent with /stats and the weekly report: a PNG drawn with matplotlib (Agg).

Only the object-oriented API is used (no pyplot), so drawing in a worker thread is safe.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

CHART_WIDTH, CHART_HEIGHT = 800, 450
"""Pixels: wide enough to read on a phone, small enough to upload quickly."""
DPI = 100


@dataclass(frozen=True, slots=True)
class Trend:
    """Per-day series of one group."""

    days: Sequence[dt.date]
    messages: Sequence[int]
    active: Sequence[int]
    ads_removed: Sequence[int]


def trend_png(trend: Trend, title: str) -> bytes:
    """Messages and active members per day (lines) over ads removed (bars), as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(CHART_WIDTH / DPI, CHART_HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    positions = list(range(len(trend.days)))
    top.plot(positions, trend.messages, marker="o", color="#1f77b4", label="messages")
    top.plot(positions, trend.active, marker="o", color="#2ca02c", label="active members")
    top.set_ylim(bottom=0)
    top.legend(loc="upper left", fontsize=9)
    top.set_title(title, fontsize=11)
    top.grid(alpha=0.3)
    bottom.bar(positions, trend.ads_removed, color="#d62728", label="ads removed")
    bottom.set_ylim(bottom=0, top=max([*trend.ads_removed, 1]) * 1.2)
    bottom.legend(loc="upper left", fontsize=9)
    bottom.grid(alpha=0.3, axis="y")
    for axes in (top, bottom):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    step = max(1, len(positions) // 10)
    bottom.set_xticks(positions[::step], [f"{day:%m-%d}" for day in trend.days][::step])
    figure.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=0.08, hspace=0.08)
    output = io.BytesIO()
    figure.savefig(output, format="png", dpi=DPI)
    return output.getvalue()

"""Charts that read in Chinese: every glyph of a Chinese title is in the installed CJK font, a
chart draws without a missing glyph, and days before qunbot was in the group are gaps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from matplotlib.ft2font import FT2Font

from bot.core.i18n import Messages
from bot.features.charts import ChartLabels, Trend, cjk_font_path, drawable, trend_png
from bot.features.stats import flush_stats, summarize
from tests.harness import GROUP
from tests.test_flows_stats import play_a_week, png_size, started

ZH = Messages("zh")
MONDAY = dt.date(2026, 5, 11)


def chinese_labels(group: str) -> ChartLabels:
    title = ZH.tnp(
        "{group}: {first} to {last} ({count} day)",
        "{group}: {first} to {last} ({count} days)",
        7,
        group=group,
        first="2026-05-08",
        last="2026-05-14",
    )
    return ChartLabels(
        title=title,
        messages=ZH.tp("messages"),
        active=ZH.tp("active members"),
        ads_removed=ZH.tp("ads removed"),
        not_there_yet=ZH.tp("qunbot not in the group yet"),
    )


def test_every_glyph_of_a_chinese_title_is_in_the_font() -> None:
    font = FT2Font(str(cjk_font_path()))
    labels = chinese_labels("阳光零食顾客群・抹茶饼干铺")
    texts = (labels.title, labels.messages, labels.active, labels.ads_removed)
    for char in "".join((*texts, labels.not_there_yet)):
        if not char.isspace():
            assert font.get_char_index(ord(char)) != 0, f"{char!r} would be a box"


def test_a_chinese_chart_draws_without_a_missing_glyph() -> None:
    """Matplotlib warns about each glyph it cannot draw, and the suite turns warnings into
    errors: a box in the chart fails here. What no font draws (🍪) is left out."""
    days = [MONDAY + dt.timedelta(days=n) for n in range(7)]
    trend = Trend(days, [None, None, 3, 5, 2, 0, 4], [None, None, 2, 3, 1, 0, 2], [None] * 7)
    labels = chinese_labels("阳光零食 🍪 顾客群")
    png = trend_png(trend, labels)
    assert png_size(png) == (800, 450)
    assert drawable("阳光零食 🍪 顾客群") == "阳光零食 顾客群"
    plain = chinese_labels("阳光零食顾客群")
    for text in (plain.title, plain.messages, plain.active, plain.not_there_yet):
        assert drawable(text) == text, "every Chinese character is drawn"


async def test_days_before_the_bot_was_in_the_group_are_gaps_not_zeros(tmp_path: Path) -> None:
    harness = await started(tmp_path)
    try:
        await play_a_week(harness)
        await flush_stats(harness.services)
        before = MONDAY - dt.timedelta(days=3)
        summary = await summarize(
            harness.services.store, GROUP, before, MONDAY + dt.timedelta(days=3), ZH, MONDAY
        )
        assert list(summary.trend.messages[:3]) == [None, None, None]
        assert summary.trend.messages[3] == 3
        rows = summary.table.splitlines()
        assert rows[0].split()[0] == "日期"
        assert rows[1].split() == ["周五", "05-08", *["–"] * 7]
        assert rows[4].split()[:3] == ["周一", "05-11", "3"]
        assert rows[-1].split()[0] == "合计"
    finally:
        await harness.stop()

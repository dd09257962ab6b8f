"""Statistics shell: writing the batched counters, the /stats answer and the weekly report
(a table and a PNG chart), group-size alerts, and the terminal table of `qunbot stats`."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from loguru import logger
from telegram import Bot
from telegram.error import TelegramError

from bot.core.counters import QUARTER_HOUR, PendingCounts, PendingSpeakers
from bot.core.i18n import N_, Messages
from bot.core.services import Services
from bot.features.charts import ChartLabels, Trend, trend_png
from bot.store import Store
from bot.telegram.staff import StaffNote
from policies.rhythm import local_date
from policies.stats import (
    ACTIVE,
    COUNTERS,
    DayCounts,
    period_label,
    periods,
    report_days,
    size_crossing,
    stats_table,
)

SIZE_CHECK_INTERVAL = 60.0
"""At most one getChatMemberCount per group per minute, however fast people join."""
MAX_CAPTION = 1024
SPEAKERS_KEPT_DAYS = 400
"""Who spoke on which day is kept this long; the daily counters are kept for good."""


async def zone_of(rt: Services, chat_id: int) -> ZoneInfo:
    return (await rt.policies.policy_for(chat_id)).policy.rhythm.zone


# ---------------------------------------------------------------------- batched counters


async def flush_stats(rt: Services) -> None:
    """Write what was counted since the last flush, in each group's local days."""
    counts, speakers = rt.stats.take()
    if not counts and not speakers:
        return
    try:
        chats = {key[0] for key in counts} | {key[0] for key in speakers}
        zones = {chat_id: await zone_of(rt, chat_id) for chat_id in chats}
        count_rows, speaker_rows = _daily_rows(counts, speakers, zones)
        await rt.store.stats.add(count_rows, speaker_rows)
    except BaseException:
        rt.stats.give_back(counts, speakers)
        raise


def _daily_rows(
    counts: PendingCounts, speakers: PendingSpeakers, zones: dict[int, ZoneInfo]
) -> tuple[list[tuple[int, str, str, int]], list[tuple[int, str, int]]]:
    def day(chat_id: int, quarter: int) -> str:
        return local_date(zones[chat_id], quarter * QUARTER_HOUR).isoformat()

    daily: Counter[tuple[int, str, str]] = Counter()
    for (chat_id, counter, quarter), n in counts.items():
        daily[(chat_id, day(chat_id, quarter), counter)] += n
    people = {(chat_id, day(chat_id, quarter), user) for chat_id, user, quarter in speakers}
    return [(*key, n) for key, n in daily.items()], sorted(people)


async def forget_old_speakers(rt: Services) -> None:
    first_kept = dt.date.fromtimestamp(rt.now()) - dt.timedelta(days=SPEAKERS_KEPT_DAYS)
    await rt.store.stats.forget_speakers_before(first_kept.isoformat())


# ---------------------------------------------------------------------- tables and charts


@dataclass(frozen=True, slots=True)
class Summary:
    first: dt.date
    last: dt.date
    table: str
    trend: Trend


COLUMN_NAMES = {
    "messages": N_("msgs"),
    ACTIVE: N_("active"),
    "joins": N_("joins"),
    "leaves": N_("left"),
    "ads_removed": N_("ads"),
    "complaints_opened": N_("compl"),
    "gifts_claimed": N_("gifts"),
}
"""The table's column headings, short so seven fit a phone's width."""
WEEKDAY_NAMES = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


async def summarize(
    store: Store, chat_id: int, first: dt.date, last: dt.date, say: Messages, since: dt.date
) -> Summary:
    """The table (a row per day, or per week for long spans) and the per-day trend, with the
    headings in the reader's language. Days before `since` (qunbot not in the group yet) are
    gaps in the trend and dashes in the table, never zeros."""
    by_day = await store.stats.by_day(chat_id, first.isoformat(), last.isoformat())
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    weekdays = [say.tp(name) for name in WEEKDAY_NAMES]

    async def counts(start: dt.date, end: dt.date, label: str) -> DayCounts:
        values: Counter[str] = Counter()
        for day in days:
            if start <= day <= end:
                values.update(
                    {name: by_day.get(day.isoformat(), {}).get(name, 0) for name in COUNTERS}
                )
        values[ACTIVE] = await store.stats.active_between(
            chat_id, start.isoformat(), end.isoformat()
        )
        return DayCounts(label, dict(values))

    rows = [
        await counts(start, end, period_label(start, end, weekdays))
        if end >= since
        else DayCounts(period_label(start, end, weekdays), {})
        for start, end in periods(first, last)
    ]
    headings = {name: say.tp(title) for name, title in COLUMN_NAMES.items()}
    total = await counts(max(first, since), last, say.tp("total"))
    table = stats_table(rows, total, headings, say.tp("day"))

    def series(name: str) -> list[int | None]:
        return [
            None if day < since else by_day.get(day.isoformat(), {}).get(name, 0) for day in days
        ]

    trend = Trend(days, series("messages"), series(ACTIVE), series("ads_removed"))
    return Summary(first, last, table, trend)


async def send_summary(
    rt: Services,
    chat_id: int,
    heading: str,
    first: dt.date,
    last: dt.date,
    *,
    to: int,
    say: Messages,
    group: str,
) -> None:
    """The table and its chart, as one photo with the table as caption when it fits."""
    await flush_stats(rt)
    since = await _first_day(rt, chat_id)
    summary = await summarize(rt.store, chat_id, first, last, say, since)
    text = f"📊 {html.escape(heading)}\n<pre>{html.escape(summary.table)}</pre>"
    span = (last - first).days + 1
    labels = ChartLabels(
        title=say.tnp(
            "{group}: {first} to {last} ({count} day)",
            "{group}: {first} to {last} ({count} days)",
            span,
            group=group,
            first=first.isoformat(),
            last=last.isoformat(),
        ),
        messages=say.tp("messages"),
        active=say.tp("active members"),
        ads_removed=say.tp("ads removed"),
        not_there_yet=say.tp("qunbot not in the group yet"),
    )
    png = await asyncio.to_thread(trend_png, summary.trend, labels)
    if len(text) <= MAX_CAPTION:
        await rt.door.post_photo(to, png, caption=text)
        return
    await rt.door.post(to, text)
    await rt.door.post_photo(to, png)


async def _first_day(rt: Services, chat_id: int) -> dt.date:
    return await first_day(rt.store, chat_id, await zone_of(rt, chat_id))


async def first_day(store: Store, chat_id: int, zone: ZoneInfo) -> dt.date:
    """The local day qunbot first saw the group: the chart has no data before it, the table
    dashes."""
    seen = (await store.groups.titles_and_first_seen()).get(chat_id)
    if seen is None:
        return dt.date.min
    return local_date(zone, seen[1])


async def send_recent_stats(rt: Services, chat_id: int, title: str, days: int) -> None:
    """/stats: the last `days` days, today included, answered in the group in its language."""
    today = local_date(await zone_of(rt, chat_id), rt.now())
    first = today - dt.timedelta(days=days - 1)
    say = await rt.messages_for(chat_id)
    heading = (
        say.tnp(
            "{group}: the last {count} day", "{group}: the last {count} days", days, group=title
        )
        if title
        else say.tnp("The last {count} day", "The last {count} days", days)
    )
    group = title or str(chat_id)
    await send_summary(rt, chat_id, heading, first, today, to=chat_id, say=say, group=group)


async def send_weekly_report(rt: Services, chat_id: int, title: str) -> bool:
    """The weekly review of one group, to the staff chat (in its language); false if there is
    none."""
    staff = rt.staff.staff_chat
    if staff is None:
        return False
    first, last = report_days(await zone_of(rt, chat_id), rt.now())
    say = rt.staff.messages
    group = title or str(chat_id)
    heading = say.tp("Weekly report for {group}", group=group)
    await send_summary(rt, chat_id, heading, first, last, to=staff, say=say, group=group)
    return True


# --------------------------------------------------------------------------- group size


async def watch_size(rt: Services, bot: Bot, chat_id: int, title: str) -> None:
    """On a join: tell the staff once when the group grows past a configured size."""
    thresholds = (await rt.policies.policy_for(chat_id)).policy.stats.size_alerts
    if not thresholds:
        return
    reached, checked_at = await rt.store.sizes.last_check(chat_id)
    if rt.now() - checked_at < SIZE_CHECK_INTERVAL:
        return
    try:
        members = await bot.get_chat_member_count(chat_id)
    except TelegramError as error:
        logger.warning("cannot count the members of {}: {}", chat_id, error.message)
        return
    level, crossed = size_crossing(thresholds, members, reached)
    await rt.store.sizes.record(chat_id, members, level, rt.now())
    if crossed is not None:
        note = rt.staff.messages.t(
            "👥 {group} now has {members} members: past {size}. 200-300 is a healthy size.",
            group=title or chat_id,
            members=members,
            size=crossed,
        )
        rt.staff.add(StaffNote(note))
        logger.info("group {} has {} members, past {}", chat_id, members, crossed)

"""soak: resident memory while ever more distinct members join and speak.

One group; each member joins (a `chat_member` update) and says one ordinary thing, through the
real application and the fake Telegram. Resident memory is read after every 10,000 members,
once the member cache was written back and garbage collected. Every per-member cache has a
cap, so memory must level off: `growth_per_10k_second_half_mb` is the slope over the second
half of the run, which should be about 0.

The updates are built here rather than by the fake, and the fake's transcripts are dropped
as we go, so that the figures measure the bot and not the fake's own records of everyone.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
from pathlib import Path
from typing import Any

from telegram import Update

from bench.common import current_rss_mb
from tests.harness import GROUP, START, Harness, TestClock, make_config

FULL_MEMBERS, QUICK_MEMBERS = 80_000, 20_000
STEP = 10_000
FIRST_MEMBER = 50_000_000
POLICY = "extends: default\nwelcome:\n  enabled: false\n"
"""Welcomes off: one welcome per wave would be a fake message per join; the join itself is
still seen (newcomer bookkeeping, statistics, the admin cache)."""
CHAT = {"id": GROUP, "type": "supergroup", "title": "Sunny Snacks"}
HAM = ("好的，谢谢！", "几点发货？", "ok thanks", "今天有优惠吗", "good morning", "收到了 👍")


def user(user_id: int) -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": f"Member{user_id}",
        "username": f"member{user_id}",
    }


def join(update_id: int, user_id: int, at: int) -> dict[str, Any]:
    member = user(user_id)
    return {
        "update_id": update_id,
        "chat_member": {
            "chat": CHAT,
            "from": member,
            "date": at,
            "old_chat_member": {"status": "left", "user": member},
            "new_chat_member": {"status": "member", "user": member},
        },
    }


def message(update_id: int, user_id: int, message_id: int, at: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": at,
            "chat": CHAT,
            "from": user(user_id),
            "text": HAM[user_id % len(HAM)],
        },
    }


async def member_wave(harness: Harness, first: int, count: int) -> None:
    app, clock = harness.app, harness.clock
    for n in range(first, first + count):
        user_id, at = FIRST_MEMBER + n, int(clock.now())
        await app.process_update(Update.de_json(join(2 * n + 1, user_id, at), app.bot))
        await app.process_update(Update.de_json(message(2 * n + 2, user_id, n + 1, at), app.bot))
        clock.advance(0.05)
    await harness.services.store.members.flush()
    await harness.settle()
    fake = harness.fake
    fake.pending.clear()
    fake.updates.clear()
    fake.events.clear()
    fake.calls.clear()


async def measure(quick: bool) -> dict[str, Any]:
    total = QUICK_MEMBERS if quick else FULL_MEMBERS
    rss: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        clock = TestClock(START)
        harness = await Harness.start(make_config(Path(directory), policy=POLICY), clock=clock)
        gc.collect()
        rss["0"] = current_rss_mb()
        for first in range(0, total, STEP):
            await member_wave(harness, first, STEP)
            gc.collect()
            rss[str(first + STEP)] = current_rss_mb()
        await harness.stop()
    half = total // 2
    slope = (rss[str(total)] - rss[str(half)]) / (half / STEP)
    return {
        "members": total,
        "rss_mb_by_members": {key: round(value, 1) for key, value in rss.items()},
        "growth_per_10k_first_half_mb": round((rss[str(half)] - rss["0"]) / (half / STEP), 2),
        "growth_per_10k_second_half_mb": round(slope, 2),
        "target": "growth per 10,000 members in the second half <= 1 MB (a plateau)",
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    return asyncio.run(measure(quick))

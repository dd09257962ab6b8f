"""raid: 200 accounts post 2,000 ads within 60 simulated seconds into a group of 5,000 members.

The real bot (soft mode, the real SendOnlyRateLimiter) runs against the in-process fake. Every
raid message is posted in the fake, over 60 simulated seconds, before the bot sees any; the
bot then works through the backlog at the same pace, as it does after a polling gap or when a
raid outruns it. So most of an account's ads reach the bot after the account was removed:
they must still be deleted, without another ban call each.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update

from bench.common import SimulatedJobs, add_members, sliding_max
from bot.core.ratelimit import SEND_METHODS, SendOnlyRateLimiter
from bot.fake import FakeTelegram
from bot.fake.models import JSON
from tests.harness import GROUP, OWNER, STAFF, Harness, TestClock, make_config

MEMBERS = 5000
FIRST_MEMBER = 100_000
RAID_SECONDS = 60.0
CALLOUT_INTERVAL = 30.0
ROUND_TRIP = 0.02
"""A second run answers every call after this many seconds, as a nearby Telegram would: the
bot handles updates one at a time, so each blocking call slows the whole raid's removal."""
FULL_SIZE = (200, 2000)
QUICK_SIZE = (100, 1000)
"""(accounts, messages): half the accounts, each posting as often, over the same 60 s."""
POLICY = (
    "extends: shop-zh\n"
    "moderation:\n"
    "  mode: soft\n"
    "  ladder: [soft, neutral, hard]\n"
    f"  callout_interval: {int(CALLOUT_INTERVAL)}s\n"
)
ENFORCEMENT_METHODS = frozenset(
    {"deleteMessage", "deleteMessages", "banChatMember", "unbanChatMember", "restrictChatMember"}
)
RAID_TEXTS = (
    "加我微信 wx_fuli{n}88 每天领红包，兼职日结{pay}元",
    "有需要的加V：vip{n}666 低价代购正品，{pay}元包邮",
    "扣扣 {qq} 免费领取福利，名额有限，先到先得",
    "加QQ {qq} 进群领取{pay}元优惠券",
    "进群领红包 https://t.me/+Fuli{n}Qun{pay} 快来",
    "t.me/joinchat/Deal{n}Free{pay} 内部优惠群，每天秒杀",
    "帮我砍一刀！复制口令 ￥Pdd{n}Kx{pay}￥ 打开拼多多",
    "拼多多助力 https://mobile.yangkeduo.com/goods{n}.html?share={pay} 帮我点一下",
    "【拼多多】{pay}元抢购，复制这段话 #{n}XyZ{pay}# 打开pinduoduo",
)
"""Written for this bench: contact offers, invite links and share codes, varied per account."""


def raid_text(account: int, sequence: int, rng: random.Random) -> str:
    """Each account sticks to two templates and varies its numbers, as raid scripts do."""
    template = RAID_TEXTS[(account + sequence % 2) % len(RAID_TEXTS)]
    return template.format(n=account, qq=100_000_000 + account * 7919, pay=rng.randint(10, 999))


@dataclass(frozen=True, slots=True)
class RaidMessage:
    user_id: int
    message_id: int
    update: dict[str, Any]


def create_raid(
    fake: FakeTelegram, clock: TestClock, accounts: int, count: int
) -> list[RaidMessage]:
    """Every raid message, created in the fake with its date spread over the raid."""
    rng = random.Random(8)
    raiders = list(range(FIRST_MEMBER, FIRST_MEMBER + accounts))
    senders = [raiders[n % accounts] for n in range(count)]
    rng.shuffle(senders)
    sent: Counter[int] = Counter()
    raid = []
    for user_id in senders:
        text = raid_text(user_id - FIRST_MEMBER, sent[user_id], rng)
        sent[user_id] += 1
        update = fake.user_message(GROUP, user_id, text)
        raid.append(RaidMessage(user_id, update["message"]["message_id"], update))
        clock.advance(RAID_SECONDS / count)
    fake.pending.clear()
    return raid


@dataclass
class FeedResult:
    late: int = 0
    """Messages that reached the bot after their account had already been removed."""
    wall_s: float = 0.0


async def feed_raid(harness: Harness, raid: list[RaidMessage], jobs: SimulatedJobs) -> FeedResult:
    """Hand the raid to the bot at its pace in simulated time, running due jobs on the way."""
    result = FeedResult()
    step = RAID_SECONDS / len(raid)
    started = time.perf_counter()
    for message in raid:
        if harness.fake.status_of(GROUP, message.user_id) in {"left", "kicked"}:
            result.late += 1
        await harness.app.process_update(Update.de_json(message.update, harness.app.bot))
        harness.clock.advance(step)
        await jobs.run_due()
    for _ in range(int(CALLOUT_INTERVAL) + 1):
        harness.clock.advance(1.0)
        await jobs.run_due()
    await harness.settle()
    result.wall_s = time.perf_counter() - started
    return result


async def offenders_by_step(harness: Harness, limit: int) -> dict[str, int]:
    """How many accounts reached each ladder step, read back from the audit log."""
    entries = await harness.services.store.audit.recent(GROUP, limit=limit)
    accounts: dict[str, set[int]] = {}
    for entry in entries:
        if entry.action != "notice" and entry.target_id is not None:
            accounts.setdefault(entry.action, set()).add(entry.target_id)
    return {step: len(users) for step, users in sorted(accounts.items())}


def throttling(limiter: SendOnlyRateLimiter) -> dict[str, Any]:
    waited = limiter.throttled_calls + limiter.retried_calls
    enforcement = sum(n for method, n in waited.items() if method in ENFORCEMENT_METHODS)
    sends = sum(n for method, n in waited.items() if method in SEND_METHODS)
    return {
        "deletes_throttled": enforcement > 0,
        "enforcement_calls_throttled": enforcement,
        "sends_throttled": sends,
        "throttled_seconds": round(limiter.throttled_seconds, 3),
        "throttled_by_method": dict(waited),
    }


def group_posts(harness: Harness) -> list[int]:
    """Dates of every message the bot posted to the group, deleted ones included."""
    bot_id = harness.fake.bot.id
    return [
        int(m.data["date"])
        for m in harness.fake.messages(GROUP, include_deleted=True)
        if m.sender_id == bot_id
    ]


class DistantTelegram(FakeTelegram):
    """The fake, answering each Bot API call after a network round trip."""

    round_trip = 0.0

    async def handle_async(self, method: str, params: Mapping[str, Any]) -> tuple[int, JSON]:
        if self.round_trip and method != "getUpdates":
            await asyncio.sleep(self.round_trip)
        return await super().handle_async(method, params)


def distant_world(clock: TestClock, round_trip: float) -> FakeTelegram:
    """The harness's world (the group, the staff chat, an owner) behind a round trip."""
    fake = DistantTelegram(clock=clock.now)
    fake.round_trip = round_trip
    for chat_id, title in ((GROUP, "Sunny Snacks"), (STAFF, "Staff")):
        fake.add_chat(chat_id, "supergroup", title)
        fake.bot_is_admin(chat_id)
    fake.add_user(OWNER, "Olga")
    fake.add_member(GROUP, OWNER, status="creator")
    add_members(fake, GROUP, range(FIRST_MEMBER, FIRST_MEMBER + MEMBERS))
    return fake


@dataclass
class RaidRun:
    harness: Harness
    raid: list[RaidMessage]
    feed: FeedResult

    @property
    def removed_fraction(self) -> float:
        fake = self.harness.fake
        return round(
            sum(fake.is_deleted(GROUP, m.message_id) for m in self.raid) / len(self.raid), 4
        )


async def play(workdir: Path, size: tuple[int, int], round_trip: float) -> RaidRun:
    """A started bot that has worked through the whole raid; the caller stops it."""
    clock = TestClock()
    fake = distant_world(clock, round_trip)
    harness = await Harness.start(make_config(workdir, policy=POLICY), fake=fake, clock=clock)
    raid = create_raid(fake, clock, *size)
    feed = await feed_raid(harness, raid, SimulatedJobs(harness.app, clock))
    return RaidRun(harness, raid, feed)


async def report(run: RaidRun) -> dict[str, Any]:
    harness, calls = run.harness, run.harness.fake.calls
    limiter = harness.app.bot.rate_limiter
    assert isinstance(limiter, SendOnlyRateLimiter)
    posts = group_posts(harness)
    return {
        "spam_removed_fraction": run.removed_fraction,
        "late_messages": run.feed.late,
        "bot_group_messages": len(posts),
        "max_callouts_per_10s": sliding_max(posts, 10),
        **throttling(limiter),
        "offenders_by_step": await offenders_by_step(harness, limit=10 * len(run.raid)),
        "api_calls_by_method": dict(Counter(call.method for call in calls).most_common()),
        "failed_calls": dict(Counter(f"{c.method}: {c.description}" for c in calls if not c.ok)),
        "wall_s": round(run.feed.wall_s, 2),
    }


async def measure(quick: bool) -> dict[str, Any]:
    size = QUICK_SIZE if quick else FULL_SIZE
    with tempfile.TemporaryDirectory() as near, tempfile.TemporaryDirectory() as far:
        local = await play(Path(near), size, 0.0)
        result = await report(local)
        await local.harness.stop()
        distant = await play(Path(far), size, ROUND_TRIP)
        result["at_20ms_round_trip"] = {
            "spam_removed_fraction": distant.removed_fraction,
            "wall_s": round(distant.feed.wall_s, 2),
            "ban_calls": len(distant.harness.fake.calls_to("banChatMember")),
        }
        await distant.harness.stop()
    return {
        "accounts": size[0],
        "messages": size[1],
        "members": MEMBERS,
        "simulated_s": RAID_SECONDS,
        **result,
        "target": "removed 1.0, <= 1 call-out per 10 s, no delete/ban waits on the send budget",
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    return asyncio.run(measure(quick))

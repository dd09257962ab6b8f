"""raid: 200 accounts post 2,000 ads within 60 simulated seconds into a group of 5,000 members.

The real bot (soft mode, the real SendOnlyRateLimiter) runs against the in-process fake. Every
raid message is posted in the fake, over 60 simulated seconds, before the bot sees any.

- The paced run hands the backlog to the bot at the raid's pace in simulated time, running the
  call-out jobs on the way: how many messages the bot posts, and that no delete or ban waits
  for the send budget.
- The backlog runs hand the whole raid to the bot at once, through the chat lanes, as a poll
  after a gap would, with every Bot API call answered after 0, 20 or 100 ms (Telegram from a
  real server): `clear_s` is the time from the bot seeing the backlog to the last delete and
  removal confirmed.
- Isolation: with 100 ms per call, while the group is raided, a quiet second group gets an ad
  every 100 ms; `isolation_p95_s` is the 95th percentile from one arriving to its deletion.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update

from bench.common import SimulatedJobs, add_members, percentile, sliding_max
from bot.core.ratelimit import SEND_METHODS, SendOnlyRateLimiter
from bot.core.updates import LedgerBot
from bot.fake import FakeTelegram
from bot.fake.models import JSON
from tests.harness import GROUP, OWNER, STAFF, Harness, TestClock, make_config

MEMBERS = 5000
FIRST_MEMBER = 100_000
RAID_SECONDS = 60.0
CALLOUT_INTERVAL = 30.0
ROUND_TRIPS = (0.0, 0.02, 0.1)
"""Seconds before the fake answers each call in the backlog runs."""
QUIET_GROUP = -1001000000555
QUIET_ADS = 30
QUIET_EVERY = 0.1
"""An ad in the quiet group this often (real seconds) while the raid is cleared."""
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


REMOVAL_METHODS = frozenset({"banChatMember", "unbanChatMember", "restrictChatMember"})


class DistantTelegram(FakeTelegram):
    """The fake, answering each Bot API call after a network round trip, and noting when each
    delete and removal was confirmed (real monotonic time)."""

    round_trip = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deleted_at: dict[tuple[int, int], float] = {}
        self.last_removal_at = 0.0

    async def handle_async(self, method: str, params: Mapping[str, Any]) -> tuple[int, JSON]:
        if self.round_trip and method != "getUpdates":
            await asyncio.sleep(self.round_trip)
        status, body = await super().handle_async(method, params)
        now = time.monotonic()
        if method in {"deleteMessage", "deleteMessages"} and status == 200:
            ids = params.get("message_ids") or [params.get("message_id")]
            for message_id in ids:
                self.deleted_at[(int(params["chat_id"]), int(message_id))] = now
        elif method in REMOVAL_METHODS:
            self.last_removal_at = now
        return status, body


def distant_world(clock: TestClock, round_trip: float) -> DistantTelegram:
    """The harness's world (the group, the staff chat, an owner, a quiet second group) behind
    a round trip."""
    fake = DistantTelegram(clock=clock.now)
    fake.round_trip = round_trip
    for chat_id, title in ((GROUP, "Sunny Snacks"), (STAFF, "Staff"), (QUIET_GROUP, "Quiet")):
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
    config = make_config(workdir, policy=POLICY, extra_groups=(QUIET_GROUP,))
    harness = await Harness.start(config, fake=fake, clock=clock)
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


@dataclass
class Backlog:
    """One backlog run: the raid handed over at once, at one round trip."""

    round_trip: float
    removed_fraction: float
    clear_s: float
    ban_calls: int
    isolation_s: list[float]

    def summary(self) -> dict[str, Any]:
        return {
            "spam_removed_fraction": self.removed_fraction,
            "clear_s": round(self.clear_s, 2),
            "ban_calls": self.ban_calls,
        }


async def clear_backlog(workdir: Path, size: tuple[int, int], round_trip: float) -> Backlog:
    """Hand the whole raid over at once (and, at a distance, a quiet group's ads meanwhile);
    returns how long the raid took to clear."""
    clock = TestClock()
    fake = distant_world(clock, round_trip)
    add_members(fake, QUIET_GROUP, range(700_000, 700_000 + QUIET_ADS))
    config = make_config(workdir, policy=POLICY, extra_groups=(QUIET_GROUP,))
    harness = await Harness.start(config, fake=fake, clock=clock)
    raid = create_raid(fake, clock, *size)
    bot = harness.app.bot
    assert isinstance(bot, LedgerBot)
    flow, app = bot.flow, harness.app
    updates = [Update.de_json(message.update, bot) for message in raid]
    started = time.monotonic()
    for update in updates:
        await flow.hand_over(app, update)
    isolation = await feed_quiet_group(harness, fake) if round_trip else []
    while flow.open:
        await flow.wait_for_progress(0.05)
    await harness.settle()
    deleted = [fake.deleted_at.get((GROUP, m.message_id)) for m in raid]
    last = max([at for at in deleted if at is not None] + [fake.last_removal_at, started])
    backlog = Backlog(
        round_trip,
        round(sum(at is not None for at in deleted) / len(raid), 4),
        last - started,
        len(fake.calls_to("banChatMember")),
        isolation,
    )
    for job in harness.app.job_queue.jobs() if harness.app.job_queue else ():
        job.schedule_removal()
    with contextlib.suppress(Exception):
        await harness.stop()
    return backlog


async def feed_quiet_group(harness: Harness, fake: DistantTelegram) -> list[float]:
    """An ad in the quiet group every QUIET_EVERY seconds; seconds from each to its deletion."""
    bot = harness.app.bot
    assert isinstance(bot, LedgerBot)
    arrived: dict[int, float] = {}
    for n in range(QUIET_ADS):
        update = fake.user_message(QUIET_GROUP, 700_000 + n, raid_text(n, 0, random.Random(n)))
        fake.pending.clear()
        arrived[update["message"]["message_id"]] = time.monotonic()
        await bot.flow.hand_over(harness.app, Update.de_json(update, bot))
        await asyncio.sleep(QUIET_EVERY)
    for _ in range(3000):  # 30 s at most
        if all((QUIET_GROUP, m) in fake.deleted_at for m in arrived):
            break
        await asyncio.sleep(0.01)
    return [fake.deleted_at.get((QUIET_GROUP, m), float("inf")) - at for m, at in arrived.items()]


async def measure(quick: bool) -> dict[str, Any]:
    size = QUICK_SIZE if quick else FULL_SIZE
    with tempfile.TemporaryDirectory() as near:
        local = await play(Path(near), size, 0.0)
        result = await report(local)
        await local.harness.stop()
    backlogs = []
    for round_trip in ROUND_TRIPS:
        with tempfile.TemporaryDirectory() as workdir:
            backlogs.append(await clear_backlog(Path(workdir), size, round_trip))
    at_100ms = backlogs[-1]
    return {
        "accounts": size[0],
        "messages": size[1],
        "members": MEMBERS,
        "simulated_s": RAID_SECONDS,
        **result,
        **{f"at_{round(b.round_trip * 1000)}ms_round_trip": b.summary() for b in backlogs},
        "isolation_p95_s": round(percentile(at_100ms.isolation_s, 0.95), 3),
        "isolation_never_deleted": sum(math.isinf(s) for s in at_100ms.isolation_s),
        "isolation_max_s": round(max(at_100ms.isolation_s), 3),
        "target": "removed 1.0, <= 1 call-out per 10 s, no delete/ban waits on the send budget; "
        "at 100 ms: clear_s <= 5, isolation_p95_s <= 1",
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    return asyncio.run(measure(quick))

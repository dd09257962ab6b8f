"""scale: 10,000 groups configured, with their state in SQLite, served by one bot process.

Start-up (config file, `build_application`, `post_init`), resident memory, and the median
latency of a message when messages are spread over every group versus all in one group. The
two layouts run interleaved in chunks in the same process, so machine noise hits both alike.
First messages (cold: the member's state, and in the spread layout the group's row, are read
from SQLite) and second messages (warm: all cached) are reported apart; `latency_ratio` is
the warm one, the steady state of a running bot.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update

from bench.common import add_members, current_rss_mb, median, rss_mb
from bot.app import build_application
from bot.core.config import LoadedConfig, load_config
from bot.fake import FakeRequest, FakeTelegram
from bot.store import Store
from tests.harness import STAFF, START, Harness, TestClock

FULL_GROUPS, QUICK_GROUPS = 10_000, 2_000
MEMBERS_PER_GROUP = 5
CHUNK = 50
"""Posts per turn when the two layouts alternate: small, so bursts of machine noise hit both."""
FIRST_GROUP = -1_002_000_000_000
FIRST_MEMBER = 10_000_000
SINGLE_GROUP_POSTERS = 30_000_000
POLICIES = {
    "shop-soft": "extends: shop-zh\nmoderation:\n  mode: soft\n",
    "shop-neutral": "extends: shop-zh\n",
    "shop-hard": "extends: default\nmoderation:\n  mode: hard\n",
    "vip": "extends: default\nmoderation:\n  mode: soft\n  callout_interval: 1m\n",
}
HAM = (
    "好的，谢谢！",
    "收到了 👍",
    "几点发货？",
    "今天有优惠吗",
    "ok thanks",
    "good morning",
    "已下单",
    "明天见～",
    "真好吃",
    "哈哈哈哈",
    "什么时候上新？",
    "see you",
    "库存还有吗",
    "包邮吗？",
    "谢谢老板",
    "早上好",
    "新品好看",
    "买了两盒",
    "味道不错",
    "孩子很喜欢",
    "价格多少",
    "周末有活动吗",
)
"""Short everyday chat, under the wave detector's 12 letters: one group hearing the same text
from many members must not look like a spam wave, or the two layouts would do different work."""


@dataclass
class World:
    workdir: Path
    group_ids: list[int]
    fake: FakeTelegram
    clock: TestClock
    timings: dict[str, float] = field(default_factory=dict)
    rss: dict[str, float] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)


def write_config(workdir: Path, group_ids: list[int]) -> Path:
    """A config file naming every group, each with one of a handful of policies."""
    policies = workdir / "policies"
    policies.mkdir()
    for name, text in POLICIES.items():
        (policies / f"{name}.yaml").write_text(text, encoding="utf-8")
    names = list(POLICIES)
    lines = [
        "database: ./qunbot.db",
        "policies_dir: ./policies",
        f"default_policy: {names[0]}",
        f"staff_chat: {STAFF}",
        "groups:",
    ]
    lines += [
        f"  - {{chat_id: {chat_id}, policy: {names[index % len(names)]}}}"
        for index, chat_id in enumerate(group_ids)
    ]
    path = workdir / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def group_members(index: int) -> range:
    start = FIRST_MEMBER + index * MEMBERS_PER_GROUP
    return range(start, start + MEMBERS_PER_GROUP)


def single_posters(count: int) -> range:
    return range(SINGLE_GROUP_POSTERS, SINGLE_GROUP_POSTERS + count)


async def prefill(loaded: LoadedConfig, group_ids: list[int]) -> None:
    """Groups and members from an earlier life of the bot, written as one transaction.

    A fixture, so it writes SQL itself: going through the repositories would take longer
    than the benchmark."""
    store = await Store.open(loaded.database_path)
    then = START - 90 * 86400
    groups = [(chat_id, f"Shop {n}", then, then) for n, chat_id in enumerate(group_ids)]
    members = [
        (chat_id, user_id, then, then, 20)
        for n, chat_id in enumerate(group_ids)
        for user_id in group_members(n)
    ]
    members += [(group_ids[0], user, then, then, 20) for user in single_posters(len(group_ids))]
    await store.db.execute("BEGIN")
    await store.db.executemany(
        "INSERT INTO groups (chat_id, title, created_at, updated_at) VALUES (?, ?, ?, ?)", groups
    )
    await store.db.executemany(
        "INSERT INTO members (chat_id, user_id, first_seen, last_seen, message_count)"
        " VALUES (?, ?, ?, ?, ?)",
        members,
    )
    await store.db.execute("COMMIT")
    await store.close()


def build_fake(clock: TestClock, group_ids: list[int]) -> FakeTelegram:
    """Every group with the bot as admin, its first member, and the one busy group's posters."""
    fake = FakeTelegram(clock=clock.now)
    fake.add_chat(STAFF, "supergroup", "Staff")
    fake.bot_is_admin(STAFF)
    for index, chat_id in enumerate(group_ids):
        fake.add_chat(chat_id, "supergroup", f"Shop {index}")
        fake.bot_is_admin(chat_id)
        add_members(fake, chat_id, group_members(index)[:1])
    add_members(fake, group_ids[0], single_posters(len(group_ids)))
    return fake


def chunk_updates(fake: FakeTelegram, posts: list[tuple[int, int]], first: int) -> list[Any]:
    """The fake's updates for (chat, user) posts; its transcripts are dropped as we go, so
    that resident memory measures the bot rather than the fake's logs."""
    updates = [
        fake.user_message(chat_id, user_id, HAM[(first + n) % len(HAM)])
        for n, (chat_id, user_id) in enumerate(posts)
    ]
    fake.pending.clear()
    fake.updates.clear()
    fake.events.clear()
    return updates


async def timed(harness: Harness, updates: list[Any], latencies: list[float]) -> None:
    """Per-message latency of `process_update`, parsing included, in microseconds."""
    app, clock = harness.app, time.perf_counter_ns
    for data in updates:
        before = clock()
        await app.process_update(Update.de_json(data, app.bot))
        latencies.append((clock() - before) / 1000)


def layouts(group_ids: list[int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The same number of posts: one in every group, or all in the first group; each post
    by a different member, who has a row in the database."""
    spread = [(chat_id, group_members(n)[0]) for n, chat_id in enumerate(group_ids)]
    single = [(group_ids[0], user) for user in single_posters(len(group_ids))]
    return spread, single


def chunks(posts: list[tuple[int, int]]) -> Iterator[tuple[int, list[tuple[int, int]]]]:
    for start in range(0, len(posts), CHUNK):
        yield start, posts[start : start + CHUNK]


async def one_round(harness: Harness, world: World) -> tuple[list[float], list[float]]:
    """Every post of both layouts once, alternating chunks of the two."""
    spread, single = layouts(world.group_ids)
    spread_us: list[float] = []
    single_us: list[float] = []
    for (start, spread_part), (_, single_part) in zip(chunks(spread), chunks(single), strict=True):
        await timed(harness, chunk_updates(world.fake, spread_part, start), spread_us)
        await timed(harness, chunk_updates(world.fake, single_part, start), single_us)
        world.calls.update(call.method for call in world.fake.calls)
        world.fake.calls.clear()
        harness.clock.advance(1.0)
    await harness.settle()
    return spread_us, single_us


def latency_report(prefix: str, spread: list[float], single: list[float]) -> dict[str, float]:
    spread_median, single_median = median(spread), median(single)
    return {
        f"{prefix}spread_median_us": round(spread_median, 1),
        f"{prefix}single_median_us": round(single_median, 1),
        f"{prefix}latency_ratio": round(spread_median / single_median, 3),
    }


async def prepare(workdir: Path, groups: int) -> tuple[LoadedConfig, World]:
    group_ids = [FIRST_GROUP - n for n in range(groups)]
    path = write_config(workdir, group_ids)
    started = time.perf_counter()
    loaded = load_config(path)
    config_s = time.perf_counter() - started
    await prefill(loaded, group_ids)
    clock = TestClock()
    world = World(workdir, group_ids, build_fake(clock, group_ids), clock)
    world.timings["config_load_s"] = config_s
    world.rss["rss_before_bot_mb"] = current_rss_mb()
    return loaded, world


async def start_bot(loaded: LoadedConfig, world: World) -> Harness:
    """`build_application`, then what `run_polling` does before the first update."""
    started = time.perf_counter()
    app = build_application(loaded, request=FakeRequest(world.fake), clock=world.clock)
    built = time.perf_counter()
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    ready = time.perf_counter()
    world.timings.update(startup_s=ready - started, build_s=built - started, init_s=ready - built)
    return Harness(world.fake, app, world.clock, loaded)


async def measure(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        loaded, world = await prepare(Path(directory), QUICK_GROUPS if quick else FULL_GROUPS)
        harness = await start_bot(loaded, world)
        world.rss["rss_after_startup_mb"] = current_rss_mb()
        cold = await one_round(harness, world)
        world.rss["rss_mb"] = current_rss_mb()
        warm = await one_round(harness, world)
        await harness.stop()
    return {
        "groups": len(world.group_ids),
        "policies": len(POLICIES),
        "messages_per_layout": len(world.group_ids),
        **{key: round(value, 1) for key, value in world.rss.items()},
        "peak_rss_mb": round(rss_mb(), 1),
        **{key: round(value, 2) for key, value in world.timings.items()},
        **latency_report("", *warm),
        **latency_report("cold_", *cold),
        "api_calls_by_method": dict(world.calls.most_common()),
        "target": "rss <= 300 MB, startup <= 3 s, latency ratio <= 1.2",
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    return asyncio.run(measure(quick))

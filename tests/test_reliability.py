"""Telegram faults (429s, 5xx, dropped connections) and the retention of stored texts."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from telegram.error import NetworkError, TimedOut

from bot.app import build_application
from bot.core import ratelimit
from bot.core.ratelimit import SendOnlyRateLimiter
from bot.fake import FakeRequest, FakeTelegram
from tests.harness import GROUP, Harness, TestClock, make_config, make_world

AD = "加我微信 vx：abc{n:05d} 领取内部优惠券"
SEED = 9
ROUNDS = 80
FAULTY = ("deleteMessage", "deleteMessages", "banChatMember", "unbanChatMember", "sendMessage")


class FlakyRequest(FakeRequest):
    """Drops a seeded share of connections before the fake sees them, as a network would."""

    def __init__(self, telegram: FakeTelegram, rng: random.Random, rate: float) -> None:
        super().__init__(telegram)
        self.rng, self.rate, self.dropped = rng, rate, 0
        self.streak: dict[str, int] = {}

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        api = url.rsplit("/", 1)[-1]
        # Never more drops in a row than the limiter retries, so every call gets through.
        if api in FAULTY and self.streak.get(api, 0) < 2 and self.rng.random() < self.rate:
            self.streak[api] = self.streak.get(api, 0) + 1
            self.dropped += 1
            raise NetworkError("connection reset") if self.rng.random() < 0.5 else TimedOut()
        self.streak[api] = 0
        return await super().do_request(url, method, *args, **kwargs)


async def test_a_raid_under_faults_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "TRANSIENT_BACKOFF", 0.001)
    rng = random.Random(SEED)
    clock = TestClock()
    fake = make_world(clock)
    request = FlakyRequest(fake, rng, rate=0.15)
    loaded = make_config(tmp_path)
    app = build_application(loaded, request=request, clock=clock)
    harness = Harness(fake, app, clock, loaded)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    injected = 0
    ads: list[int] = []
    try:
        for n in range(ROUNDS):
            for method in FAULTY:
                if rng.random() < 0.1 and not fake.failures_pending(method):
                    status = rng.choice((429, 500, 502))
                    fake.fail_next(method, status=status, retry_after=0 if status == 429 else None)
                    injected += 1
            ads.append(await harness.say(harness.member(f"raider{n}"), AD.format(n=n)))
            clock.advance(1)
    finally:
        await harness.stop()
    print(
        f"soak: {ROUNDS} ads, {len(fake.calls)} calls, {injected} scripted faults, "
        f"{request.dropped} dropped connections"
    )
    assert injected + request.dropped > 20, "the soak injected too few faults to mean anything"
    assert all(fake.is_deleted(GROUP, ad) for ad in ads), "an ad survived the faults"
    assert all(
        fake.status_of(GROUP, harness.users[f"raider{n}"]) != "member" for n in range(ROUNDS)
    )
    limiter = app.bot.rate_limiter
    assert isinstance(limiter, SendOnlyRateLimiter) and sum(limiter.retried_calls.values()) > 0
    reopened = build_application(loaded, request=FakeRequest(fake), clock=clock)
    await reopened.initialize()
    assert reopened.post_init is not None and reopened.post_shutdown is not None
    await reopened.post_init(reopened)
    rt = reopened.bot_data.services
    try:
        assert await rt.store.integrity_ok()
        async with rt.store.db.execute("SELECT COUNT(*) FROM offences") as cursor:
            assert await cursor.fetchone() == (ROUNDS,)
    finally:
        await reopened.post_shutdown(reopened)
        await reopened.shutdown()


async def test_stored_texts_are_cleared_after_the_retention(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        old = await harness.say(harness.member("dave"), AD.format(n=1))
        harness.clock.advance(31 * 86400)
        new = await harness.say(harness.member("erin"), AD.format(n=2))
        assert harness.app.job_queue is not None
        (purge,) = harness.app.job_queue.get_jobs_by_name("qunbot.purge")
        await purge.run(harness.app)
        audit = harness.services.store.audit
        old_entry, new_entry = (
            await audit.for_message(GROUP, old),
            await audit.for_message(GROUP, new),
        )
        assert old_entry is not None and old_entry.text is None
        assert old_entry.verdict, "the record itself stays"
        assert new_entry is not None and new_entry.text == AD.format(n=2)
    finally:
        await harness.stop()

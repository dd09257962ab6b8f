"""The engine under load: chats handled side by side, the send budget never holding a
handler, errors by kind, and an update_id numbering restart."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden

from bot.core.ratelimit import SendOnlyRateLimiter
from bot.core.updates import ChatLanes, UpdateFlow, detach_current_handler, note_storage_error
from bot.telegram.staff import MAX_DIGESTS_PER_FLUSH
from tests.harness import GROUP, OWNER, STAFF, Harness, make_config

OTHER_GROUP = -1001000000077
AD = "加我微信 vx：abc{n:05d} 领取内部优惠券"
RAIDERS = 45
"""More notes than one flush sends: the rest must wait for the next."""
PROMPT = 3.0
"""Real seconds within which a delete counts as not held up by anything."""


async def eventually(condition: Callable[[], bool], what: str, within: float = PROMPT) -> float:
    """Seconds until `condition` held; fails after `within`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within}s: {what}")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture
async def polling(tmp_path: Path) -> AsyncIterator[Harness]:
    """The real bot polling the in-process fake, updates going through the chat lanes."""
    harness = await Harness.start(make_config(tmp_path, extra_groups=(OTHER_GROUP,)))
    harness.fake.add_chat(OTHER_GROUP, "supergroup", "Branch")
    harness.fake.bot_is_admin(OTHER_GROUP)
    assert harness.app.updater is not None
    await harness.app.updater.start_polling(
        allowed_updates=Update.ALL_TYPES, poll_interval=0, timeout=1
    )
    try:
        yield harness
    finally:
        await harness.app.updater.stop()
        await harness.stop()


def limiter_of(harness: Harness) -> SendOnlyRateLimiter:
    limiter = harness.app.bot.rate_limiter
    assert isinstance(limiter, SendOnlyRateLimiter)
    return limiter


async def test_a_group_over_its_budget_does_not_delay_deletes_anywhere(polling: Harness) -> None:
    fake = polling.fake
    askers = [polling.member(f"asker{n}") for n in range(25)]
    for user in askers:
        fake.user_message(GROUP, user, "/rules")
    sends = limiter_of(polling).queue
    await eventually(lambda: len(fake.bot_messages(GROUP)) == 20, "the group's budget spent")
    spammer = polling.member("spammer")
    fake.add_user(777_001, "Branch Spammer")
    fake.add_member(OTHER_GROUP, 777_001)
    here = fake.user_message(GROUP, spammer, AD.format(n=1))["message"]["message_id"]
    there = fake.user_message(OTHER_GROUP, 777_001, AD.format(n=2))["message"]["message_id"]
    await eventually(lambda: fake.is_deleted(OTHER_GROUP, there), "the other group's ad deleted")
    await eventually(lambda: fake.is_deleted(GROUP, here), "the busy group's own ad deleted")
    assert sends.queued(GROUP) == 6, "the answers and the announcement wait for the budget"
    assert not limiter_of(polling).throttled_calls.get("deleteMessage")
    polling.clock.advance(61)
    await eventually(
        lambda: len(fake.bot_messages(GROUP)) == 26,
        "the waiting messages sent once budget is back",
    )
    posted = [message.text for message in fake.bot_messages(GROUP)]
    assert "Spammer" in posted[20], "the announcement went before the answers queued earlier"


async def test_an_update_id_restart_loses_nothing(polling: Harness, tmp_path: Path) -> None:
    fake = polling.fake
    first = [polling.member(f"early{n}") for n in range(12)]
    early = [fake.user_message(GROUP, u, AD.format(n=n))["message"] for n, u in enumerate(first)]
    await eventually(lambda: all(fake.is_deleted(GROUP, m["message_id"]) for m in early), "early")
    # Telegram numbers afresh only after a week without updates: all were confirmed by then.
    await eventually(lambda: not fake.pending, "every update confirmed")
    polling.clock.advance(8 * 86400)
    fake.restart_update_ids(start=1)
    later = [polling.member(f"late{n}") for n in range(4)]
    ads = [fake.user_message(GROUP, u, AD.format(n=n))["message"] for n, u in enumerate(later)]
    await eventually(
        lambda: all(fake.is_deleted(GROUP, m["message_id"]) for m in ads),
        "ads numbered from 1 again after a quiet week are handled",
    )


async def test_an_update_id_restart_across_a_restart_loses_nothing(tmp_path: Path) -> None:
    loaded = make_config(tmp_path)
    first = await Harness.start(loaded)
    fake = first.fake
    assert first.app.updater is not None
    await first.app.updater.start_polling(poll_interval=0, timeout=1)
    ads = [fake.user_message(GROUP, first.member(f"a{n}"), AD.format(n=n)) for n in range(10)]
    await eventually(
        lambda: all(fake.is_deleted(GROUP, u["message"]["message_id"]) for u in ads), "first"
    )
    await first.app.updater.stop()
    await first.stop()
    first.clock.advance(8 * 86400)
    fake.restart_update_ids(start=1)
    second = await Harness.start(loaded, fake=fake, clock=first.clock)
    assert second.app.updater is not None
    try:
        await second.app.updater.start_polling(poll_interval=0, timeout=1)
        new = [fake.user_message(GROUP, first.member(f"b{n}"), AD.format(n=n)) for n in range(3)]
        await eventually(
            lambda: all(fake.is_deleted(GROUP, u["message"]["message_id"]) for u in new),
            "ads numbered from 1 again after a restart are handled",
        )
    finally:
        await second.app.updater.stop()
        await second.stop()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequest),
        (403, Forbidden),
    ],
)
async def test_a_400_or_403_is_called_once(
    tmp_path: Path, status: int, error: type[Exception]
) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        harness.fake.fail_next(
            "banChatMember", status=status, description="Bad Request: can't remove chat owner"
        )
        with pytest.raises(error):
            await harness.app.bot.ban_chat_member(GROUP, OWNER)
        assert len(harness.fake.calls_to("banChatMember")) == 1
    finally:
        await harness.stop()


async def test_a_5xx_is_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.core import ratelimit

    monkeypatch.setattr(ratelimit, "TRANSIENT_BACKOFF", 0.001)
    harness = await Harness.start(make_config(tmp_path))
    try:
        harness.fake.fail_next("banChatMember", status=502)
        await harness.app.bot.ban_chat_member(GROUP, harness.member("victim"))
        assert [c.status for c in harness.fake.calls_to("banChatMember")] == [502, 200]
    finally:
        await harness.stop()


async def test_a_storage_failure_that_persists_gives_up_without_confirming() -> None:
    flow = UpdateFlow()
    gave_up: list[BaseException] = []
    lanes = ChatLanes(flow, on_storage_failure=gave_up.append, retry_delays=(0.01, 0.01))
    attempts = 0

    class LockedApplication:
        async def process_update(self, update: object) -> None:
            nonlocal attempts
            attempts += 1
            note_storage_error(sqlite3.OperationalError("database is locked"))

    lanes.application = LockedApplication()
    update = Update(update_id=7)
    assert flow.take(update) is not None
    await lanes.process_update(update, lanes.application.process_update(update))
    assert attempts == 3, "tried once, then again after each pause"
    assert [str(error) for error in gave_up] == ["database is locked"]
    assert flow.offset() == 7, "the failed update is never confirmed"


async def test_a_background_send_waiting_for_the_budget_never_holds_back_confirmation() -> None:
    """A task the handler starts (a batched delete, a notice) inherits the handler's context;
    when it waits for the send budget, it must neither detach the handler (which may still be
    running) nor, as the handler finishes in the same moment, leave the update unconfirmed."""
    flow = UpdateFlow()
    lanes = ChatLanes(flow)
    background: list[asyncio.Task[None]] = []

    async def waits_for_the_budget() -> None:
        detach_current_handler()
        await asyncio.sleep(0.05)

    class Handler:
        async def process_update(self, update: object) -> None:
            background.append(asyncio.get_running_loop().create_task(waits_for_the_budget()))
            await asyncio.sleep(0)  # the background task runs, then the handler ends

    lanes.application = Handler()
    update = Update(update_id=7)
    ticket = flow.take(update)
    assert ticket is not None
    await lanes.process_update(update, lanes.application.process_update(update))
    await asyncio.gather(*background)
    assert flow.offset() == 8, "handled, so confirmed"
    assert not ticket.detached, "a background wait is not the handler's"


async def test_a_handler_waiting_for_the_budget_lets_its_update_be_confirmed() -> None:
    flow = UpdateFlow()
    lanes = ChatLanes(flow)
    sent = asyncio.Event()

    class Handler:
        async def process_update(self, update: object) -> None:
            detach_current_handler()
            await sent.wait()

    class CountingHeartbeat:
        handled = 0

        def beat(self, *, handled: bool = True) -> None:
            self.handled += handled

    flow.heartbeat = CountingHeartbeat()  # type: ignore[assignment]
    lanes.application = Handler()
    update = Update(update_id=7)
    assert flow.take(update) is not None
    processing = lanes.process_update(update, lanes.application.process_update(update))
    await asyncio.wait_for(processing, PROMPT)
    assert flow.offset() == 8, "confirmed while its send waits"
    assert flow.heartbeat.handled == 1, "counted once in `qunbot status`"
    sent.set()
    await lanes.shutdown()


async def test_a_delete_failing_for_a_while_is_retried_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core import ratelimit

    monkeypatch.setattr(ratelimit, "TRANSIENT_BACKOFF", 0.001)
    harness = await Harness.start(make_config(tmp_path))
    try:
        harness.services.doors.live.deletes.retry_delays = (0.05, 0.05)
        # Four 502s: the first call and the rate limiter's three retries all fail.
        harness.fake.fail_next("deleteMessage", status=502, times=4)
        ad = await harness.say(harness.member("spammer"), AD.format(n=1))
        assert not harness.fake.is_deleted(GROUP, ad)
        await eventually(lambda: harness.fake.is_deleted(GROUP, ad), "deleted without a restart")
        owed = await harness.services.store.enforced.deletes_pending(0)
        assert owed == [], "no longer owed"
    finally:
        await harness.stop()


async def test_a_raids_staff_notes_all_keep_their_buttons_over_several_flushes(
    tmp_path: Path,
) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        for n in range(RAIDERS):
            update = harness.fake.user_message(GROUP, harness.member(f"r{n}"), AD.format(n=n))
            await harness.app.process_update(Update.de_json(update, harness.app.bot))
        harness.fake.pending.clear()
        await harness.settle()
        staff = harness.services.staff
        first = len(harness.fake.bot_messages(STAFF))  # the first note goes out at once
        await staff.flush(STAFF)
        sent = len(harness.fake.bot_messages(STAFF)) - first
        assert sent == MAX_DIGESTS_PER_FLUSH and staff.pending, "the rest waits, not dropped"
        await staff.alarm(GROUP, "a right went missing")
        await staff.flush(STAFF)
        after_raid = harness.fake.bot_messages(STAFF)[first + sent]
        assert after_raid.text.startswith("⚠️"), "an alarm goes ahead of the raid's backlog"
        await staff.flush(STAFF)
        assert not staff.pending
        undo = undo_buttons_by_action(harness)
        db = harness.services.store.db
        enforced = await db.execute_fetchall("SELECT audit_id FROM enforced_messages")
        assert len(enforced) == RAIDERS
        assert sorted(undo) == sorted(int(row[0]) for row in enforced)
        assert all(count == 1 for count in undo.values()), "each action's note sent once"
        owed = await harness.services.store.enforced.notes_owed(0)
        assert owed == [], "every note recorded as delivered"
    finally:
        await harness.stop()


def undo_buttons_by_action(harness: Harness) -> Counter[int]:
    """How many staff messages show each action id with its own Undo button under it."""
    signer, found = harness.services.signer, Counter[int]()
    for message in harness.fake.bot_messages(STAFF):
        rows = (message.data.get("reply_markup") or {}).get("inline_keyboard", [])
        shown = [int(part.split(",", 1)[0]) for part in message.text.split("(#")[1:]]
        undone = [signer.verify(str(row[0].get("callback_data")), "undo") for row in rows]
        assert [numbers[0] for numbers in undone if numbers] == shown
        found.update(shown)
    return found

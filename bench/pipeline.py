"""pipeline: real Updates through the whole bot (handlers, decide, store, enforcement) against
the in-process fake, compared in the same run with a bare python-telegram-bot Application on the
same fake: once with a no-op handler (for ham), once with a handler deleting every message."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bench.common import labelled_messages
from bot.fake import FakeRequest, FakeTelegram
from tests.harness import GROUP, Harness, TestClock, make_config, make_world

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
USERS = 200
SECONDS_BETWEEN_MESSAGES = 2.0
QUICK_MESSAGES, FULL_MESSAGES = 600, 3000
POLICY = "extends: shop-zh\nmoderation:\n  mode: soft\n  callout_interval: 30s\n"


def member_updates(fake: FakeTelegram, texts: list[str], first_user: int) -> list[dict[str, Any]]:
    """Messages from a pool of members, created in the fake so deletes find them."""
    updates = []
    for index, text in enumerate(texts):
        user = first_user + index % USERS
        if user not in fake.users:
            fake.add_user(user, f"Member{user}")
            fake.add_member(GROUP, user)
        updates.append(fake.user_message(GROUP, user, text))
    fake.pending.clear()
    return updates


async def timed(
    app: Application,  # type: ignore[type-arg]
    updates: list[dict[str, Any]],
    clock: TestClock,
) -> float:
    """Updates per second through `process_update`, parsing included. The clock moves as in
    a lively group, so members are not all posting in the same instant (that is a flood)."""
    started = time.perf_counter()
    for data in updates:
        clock.advance(SECONDS_BETWEEN_MESSAGES)
        await app.process_update(Update.de_json(data, app.bot))
    return len(updates) / (time.perf_counter() - started)


async def bare_rate(texts: list[str], handler: Handler) -> float:
    clock = TestClock()
    fake = make_world(clock)
    app = ApplicationBuilder().token("1:bench").request(FakeRequest(fake)).build()
    app.add_handler(MessageHandler(filters.ALL, handler))
    updates = member_updates(fake, texts, 50_000)
    async with app:
        return await timed(app, updates, clock)


async def noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    return None


async def delete_every_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None:
        await message.delete()


async def qunbot_rate(texts: list[str]) -> tuple[float, dict[str, int]]:
    with tempfile.TemporaryDirectory() as workdir:
        harness = await Harness.start(make_config(Path(workdir), policy=POLICY))
        updates = member_updates(harness.fake, texts, 60_000)
        await harness.say(harness.member("warmup"), "hello")
        rate = await timed(harness.app, updates, harness.clock)
        await harness.settle()
        deleted = sum(
            1 for u in updates if harness.fake.is_deleted(GROUP, u["message"]["message_id"])
        )
        await harness.stop()
    return rate, {"messages": len(updates), "deleted": deleted}


async def measure(quick: bool) -> dict[str, Any]:
    spam, ham = labelled_messages(None)
    size = QUICK_MESSAGES if quick else FULL_MESSAGES
    ham_texts, spam_texts = ham[:size], [t for t in spam if len(t) > 20][:size]
    bare_noop = await bare_rate(ham_texts, noop)
    ham_rate, ham_counts = await qunbot_rate(ham_texts)
    bare_delete = await bare_rate(spam_texts, delete_every_message)
    spam_rate, spam_counts = await qunbot_rate(spam_texts)
    return {
        "bare_noop_per_s": round(bare_noop),
        "qunbot_ham_per_s": round(ham_rate),
        "ham_ratio_vs_bare_noop": round(ham_rate / bare_noop, 3),
        "bare_delete_per_s": round(bare_delete),
        "qunbot_spam_per_s": round(spam_rate),
        "spam_ratio_vs_bare_delete": round(spam_rate / bare_delete, 3),
        "ham": ham_counts,
        "spam": spam_counts,
        "target": "ham >= 0.6x bare no-op, spam >= 0.5x bare delete",
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    return asyncio.run(measure(quick))

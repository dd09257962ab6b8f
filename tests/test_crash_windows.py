"""Crash windows of the multi-step actions: `qunbot run` as a real process against the HTTP
fake, SIGKILLed while it waits on a welcome, a gift code or a ticket's reply or card.

Which call the bot dies on is drawn at random (the seed is in the failure message). The
fake holds that call and never carries it out: the bot dies just before Telegram would have
had it, which is where a step recorded too early or too late shows. A kill in the few
milliseconds after Telegram carried a call out and before the bot recorded it is the one
window left (the README says so); it cannot be aimed at from outside, so it is not drawn.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.fake import FakeTelegram, FakeTelegramServer
from tests.harness import GROUP, STAFF, make_world
from tests.test_crash_safety import WallClock, mentioned, start_bot, until

JOINERS = 16
CLAIMERS = 8
COMPLAINERS = 6
"""One per complaint text: the same text from several accounts would be a spam wave."""
CODES = [f"CODE-{n:03d}" for n in range(1, 41)]
COMPLAINTS = (
    "My cookie box arrived broken and nobody answers my messages!!!",
    "The tea tin came damaged, the lid is broken",
    "Order 5521 never arrived and support ignores me",
    "收到的饼干都碎了，客服也不回复",
    "The mooncakes were broken when they arrived, very disappointed",
    "My parcel is damaged and nobody answers my messages",
)
POLICY = f"""extends: default
welcome:
  wave_window: 1s
  max_per_minute: 20
  newcomer_check:
    enabled: true
    timeout: 10m
gifts:
  welcome_pool: welcome
  pools:
    welcome:
      codes: [{", ".join(CODES)}]
"""

Params = Mapping[str, Any]


class Tripwire:
    """Holds the nth `sendMessage` that matches, and never carries it out: the bot is
    killed while it waits for Telegram's answer."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.original = fake.handle_async
        self.matches: Callable[[Params], bool] | None = None
        self.nth = self.seen = 0
        self.tripped = asyncio.Event()
        self.released = asyncio.Event()
        fake.handle_async = self.handle  # type: ignore[method-assign]

    def arm(self, matches: Callable[[Params], bool], nth: int) -> None:
        self.matches, self.nth, self.seen = matches, nth, 0
        self.tripped.clear()

    async def handle(self, method: str, params: Params) -> tuple[int, dict[str, Any]]:
        if self.matches is not None and method == "sendMessage" and self.matches(params):
            self.seen += 1
            if self.seen == self.nth:
                self.matches = None
                self.tripped.set()
                await self.released.wait()
                return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return await self.original(method, params)


def sent_to(chat_id: int, marker: str) -> Callable[[Params], bool]:
    def matches(params: Params) -> bool:
        said = json.dumps(dict(params), ensure_ascii=False, default=str)
        return str(params.get("chat_id")) == str(chat_id) and marker in said

    return matches


class Run:
    """The bot process, killed and started again on the same database."""

    def __init__(self, workdir: Path, server: FakeTelegramServer, seed: int) -> None:
        self.config, self.log = write_config(workdir), workdir / "bot.log"
        self.server, self.seed, self.kills = server, seed, 0
        self.bot = start_bot(self.config, server, self.log)

    async def wait(self, condition: Callable[[], bool], what: str) -> None:
        await until(condition, f"{what} (seed {self.seed})", self.log)

    async def kill_when_tripped(self, wire: Tripwire, what: str) -> None:
        await self.wait(wire.tripped.is_set, what)
        self.bot.send_signal(signal.SIGKILL)
        self.bot.wait(10)
        self.kills += 1
        self.bot = start_bot(self.config, self.server, self.log)

    def stop(self) -> None:
        self.bot.send_signal(signal.SIGKILL)
        self.bot.wait(10)


def write_config(workdir: Path) -> Path:
    config = workdir / "config.yaml"
    if config.exists():
        return config
    (workdir / "policies").mkdir()
    (workdir / "policies" / "shop.yaml").write_text(POLICY, encoding="utf-8")
    config.write_text(
        f"database: ./qunbot.db\npolicies_dir: ./policies\ndefault_policy: shop\n"
        f"groups: [{{chat_id: {GROUP}, policy: shop}}]\nstaff_chat: {STAFF}\n",
        encoding="utf-8",
    )
    return config


def people(fake: FakeTelegram, first: int, count: int, *, members: bool) -> list[int]:
    users = list(range(first, first + count))
    for user in users:
        fake.add_user(user, f"Person{user}")
        if members:
            fake.add_member(GROUP, user)
    return users


def welcomed(fake: FakeTelegram) -> Counter[int]:
    """How many welcomes named each member (replaced welcomes included)."""
    posted = fake.messages(GROUP, include_deleted=True)
    welcomes = [m for m in posted if m.sender_id == fake.bot.id and m.text.startswith("👋")]
    return Counter(user for m in welcomes for user in set(mentioned(m)))


def codes_received(fake: FakeTelegram, user: int) -> set[str]:
    if user not in fake.chats:
        return set()
    texts = [m.text for m in fake.bot_messages(user)]
    return {code for code in CODES if any(code in text for text in texts)}


def gift_button(fake: FakeTelegram) -> tuple[int, str]:
    for message in reversed(fake.bot_messages(GROUP)):
        markup = message.data.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if str(button.get("callback_data", "")).startswith("gft_"):
                    return message.message_id, str(button["callback_data"])
    raise AssertionError("no welcome with a gift button")


def public_replies(fake: FakeTelegram, complaints: dict[int, int]) -> Counter[int]:
    by_message = {message_id: user for user, message_id in complaints.items()}
    replies = Counter()
    for message in fake.bot_messages(GROUP):
        replied = (message.data.get("reply_to_message") or {}).get("message_id")
        if replied in by_message and "tkt_" in json.dumps(message.data.get("reply_markup")):
            replies[by_message[replied]] += 1
    return replies


def cards(fake: FakeTelegram) -> Counter[str]:
    """Staff cards (the messages with a Take button), by the ticket number they show."""
    found: Counter[str] = Counter()
    for message in fake.bot_messages(STAFF):
        if "tkd_" in json.dumps(message.data.get("reply_markup")):
            found[message.text.split("#", 1)[1].split()[0].strip(":,")] += 1
    return found


async def joins(run: Run, fake: FakeTelegram, wire: Tripwire, joiners: list[int]) -> None:
    """Two bursts of joins, each killed on a welcome: the first burst's first or second
    (drawn at random), and the second burst's first, which may share its wave with the
    newcomers the restart found waiting."""
    half = len(joiners) // 2
    bursts = ((joiners[:half], random.Random(run.seed).randint(1, 2)), (joiners[half:], 1))
    for burst, nth in bursts:
        await run.wait(lambda: fake.pollers_waiting > 0, "a polling bot")
        wire.arm(sent_to(GROUP, "👋"), nth)
        for user in burst:
            fake.join(GROUP, user)
        await run.kill_when_tripped(wire, "a welcome to die on")
    await run.wait(lambda: set(welcomed(fake)) >= set(joiners), "every newcomer welcomed")


async def claims(run: Run, fake: FakeTelegram, wire: Tripwire, claimers: list[int]) -> None:
    """Every claimer presses the gift button and opens their link; killed on one delivery."""
    await run.wait(lambda: fake.pollers_waiting > 0, "a polling bot")
    message_id, data = gift_button(fake)
    queries = [
        fake.press_button(GROUP, message_id, u, data)["callback_query"]["id"] for u in claimers
    ]
    await run.wait(
        lambda: all(fake.callback_queries[q].answer for q in queries), "every gift link"
    )
    wire.arm(lambda p: "Your gift" in str(p.get("text")), random.Random(run.seed).randint(1, 4))
    for user, query in zip(claimers, queries, strict=True):
        answer = fake.callback_queries[query].answer or {}
        fake.start_private(user, parse_qs(urlparse(answer["url"]).query)["start"][0])
    await run.kill_when_tripped(wire, "a gift delivery to die on")
    await run.wait(lambda: all(codes_received(fake, u) for u in claimers), "every code")


async def tickets(
    run: Run, fake: FakeTelegram, wire: Tripwire, complainers: list[int]
) -> dict[int, int]:
    """Every complainer complains once; killed on a public reply, then on a staff card."""
    rng = random.Random(run.seed)
    await run.wait(lambda: fake.pollers_waiting > 0, "a polling bot")
    wire.arm(sent_to(GROUP, "tkt_"), rng.randint(1, 3))
    complaints = {
        user: int(fake.user_message(GROUP, user, text)["message"]["message_id"])
        for user, text in zip(complainers, COMPLAINTS, strict=True)
    }
    await run.kill_when_tripped(wire, "a public reply to die on")
    wire.arm(sent_to(STAFF, "tkd_"), rng.randint(1, 3))
    await run.kill_when_tripped(wire, "a staff card to die on")
    await run.wait(
        lambda: (
            len(public_replies(fake, complaints)) == len(complainers)
            and len(cards(fake)) == len(complainers)
        ),
        "every reply and card",
    )
    return complaints


def check_database(path: Path, claimers: list[int], complainers: list[int]) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        waiting = db.execute("SELECT COUNT(*) FROM welcome_queue WHERE welcomed_at IS NULL")
        assert waiting.fetchone() == (0,), "nobody is left waiting for a welcome"
        claims = dict(db.execute("SELECT user_id, code FROM gift_claims").fetchall())
        given = Counter(code for (code,) in db.execute("SELECT code FROM gift_codes"))
        tickets = db.execute(
            "SELECT user_id, reply_message_id IS NOT NULL, card_message_id IS NOT NULL"
            " FROM tickets"
        ).fetchall()
    assert sorted(claims) == sorted(claimers) and None not in claims.values()
    assert max(given.values()) == 1 and sorted(given) == sorted(claims.values())
    assert sorted(tickets) == sorted((user, 1, 1) for user in complainers)


async def test_kills_during_joins_claims_and_tickets_lose_and_double_nothing(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("QUNBOT_CRASH_SEED", random.randrange(1_000_000)))
    fake = make_world(WallClock())
    fake.add_user(3001, "Sara")
    fake.add_member(STAFF, 3001)
    joiners = people(fake, 910_001, JOINERS, members=False)
    claimers = joiners[:CLAIMERS]  # the welcome's gift is for newcomers
    complainers = people(fake, 930_001, COMPLAINERS, members=True)
    wire = Tripwire(fake)
    async with FakeTelegramServer(fake) as server:
        run = Run(tmp_path, server, seed)
        try:
            await joins(run, fake, wire, joiners)
            await claims(run, fake, wire, claimers)
            complaints = await tickets(run, fake, wire, complainers)
            await run.wait(lambda: fake.pollers_waiting > 0 and not fake.pending, "a quiet bot")
            await asyncio.sleep(0.3)
        finally:
            wire.released.set()
            run.stop()
    assert run.kills == 5
    names = welcomed(fake)
    lost = [user for user in joiners if user not in names]
    doubled = [user for user, times in names.items() if times > 1]
    assert (lost, doubled) == ([], []), f"welcomed: lost {lost}, doubled {doubled} (seed {seed})"
    assert all(fake.status_of(GROUP, user) == "restricted" for user in joiners)
    codes = {user: codes_received(fake, user) for user in claimers}
    assert all(len(got) == 1 for got in codes.values()), f"claimed: {codes} (seed {seed})"
    assert len(set().union(*codes.values())) == CLAIMERS, "no code went to two members"
    replies, shown = public_replies(fake, complaints), cards(fake)
    assert sorted(replies.values()) == [1] * COMPLAINERS, f"replies: {replies} (seed {seed})"
    assert sorted(shown.values()) == [1] * COMPLAINERS, f"carded: {shown} (seed {seed})"
    check_database(tmp_path / "qunbot.db", claimers, complainers)

"""A crash while a raid's staff notes wait for their digest: `qunbot run` as a real process
against the HTTP fake, SIGKILLed after a few bans and started again on the same database.

The updates delivered again are recognised as enforced already, so nothing is punished twice;
the staff notes the crash took with it must still reach the staff chat, each with its Undo."""

from __future__ import annotations

import signal
import sqlite3
from collections import Counter
from pathlib import Path

from bot.core.signing import Signer
from bot.fake import FakeTelegram, FakeTelegramServer
from bot.fake.models import StoredMessage
from bot.features.moderation import AFTER_RESTART, NOTES_OWED_FOR
from bot.store import Store
from bot.store.database import connect
from tests.harness import GROUP, STAFF, Harness, make_config, make_world
from tests.test_crash_safety import AD, DEADLINE, WallClock, mentioned, start_bot, until

RAIDERS = 30
KILL_AFTER_BANS = 5
DIGEST_WAIT = 10.0
"""The staff channel's interval: the notes of the ads handled after the restart wait for it."""


def write_config(workdir: Path) -> Path:
    (workdir / "policies").mkdir()
    (workdir / "policies" / "shop.yaml").write_text(
        "extends: default\nmoderation:\n  mode: neutral\n", encoding="utf-8"
    )
    config = workdir / "config.yaml"
    config.write_text(
        f"database: ./qunbot.db\npolicies_dir: ./policies\ndefault_policy: shop\n"
        f"groups: [{{chat_id: {GROUP}, policy: shop}}]\nstaff_chat: {STAFF}\n",
        encoding="utf-8",
    )
    return config


def enforced_actions(database: Path) -> set[int]:
    with sqlite3.connect(database) as db:
        return {int(row[0]) for row in db.execute("SELECT audit_id FROM enforced_messages")}


def notes_owed(database: Path) -> int:
    with sqlite3.connect(database) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM enforced_messages WHERE note_owed = 1"
        ).fetchone()
    return int(count)


def signer_of(database: Path) -> Signer:
    with sqlite3.connect(database) as db:
        (secret,) = db.execute("SELECT value FROM meta WHERE key = 'signing_secret'").fetchone()
    return Signer(str(secret))


def actions_with_undo(message: StoredMessage, signer: Signer) -> list[int]:
    """The action ids a staff message shows, each checked to have its own Undo button."""
    shown = [int(part.split(",", 1)[0]) for part in message.text.split("(#")[1:]]
    rows = (message.data.get("reply_markup") or {}).get("inline_keyboard", [])
    undone = [signer.verify(str(row[0].get("callback_data")), "undo") for row in rows]
    assert [numbers[0] for numbers in undone if numbers] == shown, message.text
    return shown


def announced(fake: FakeTelegram, signer: Signer, messages: slice = slice(None)) -> Counter[int]:
    return Counter(
        action
        for message in fake.bot_messages(STAFF)[messages]
        for action in actions_with_undo(message, signer)
    )


async def test_removals_waiting_for_the_digest_at_a_crash_reach_the_staff(tmp_path: Path) -> None:
    config, log, database = write_config(tmp_path), tmp_path / "bot.log", tmp_path / "qunbot.db"
    fake = make_world(WallClock())
    raiders = list(range(910_001, 910_001 + RAIDERS))
    for user in raiders:
        fake.add_user(user, f"Raider{user}")
        fake.add_member(GROUP, user)
    async with FakeTelegramServer(fake) as server:
        bot = start_bot(config, server, log)
        try:
            await until(lambda: fake.pollers_waiting > 0, "the first poll", log)
            for user in raiders:
                fake.user_message(GROUP, user, AD.format(n=user))
            await until(
                lambda: len(fake.calls_to("banChatMember")) >= KILL_AFTER_BANS, "5 bans", log
            )
            bot.send_signal(signal.SIGKILL)
            bot.wait(10)
            before_crash = len(fake.bot_messages(STAFF))
            assert notes_owed(database) > 0, "the crash took waiting notes with it"
            bot = start_bot(config, server, log)
            await until(lambda: len(enforced_actions(database)) == RAIDERS, "every ad", log)
            signer, actions = signer_of(database), enforced_actions(database)
            await until(
                lambda: set(announced(fake, signer)) >= actions,
                "every removal announced to the staff",
                log,
                within=DEADLINE + DIGEST_WAIT,
            )
            await until(lambda: notes_owed(database) == 0, "every note recorded as sent", log)
        finally:
            bot.send_signal(signal.SIGKILL)
            bot.wait(10)
    after = announced(fake, signer, slice(before_crash, None))
    sent_before = announced(fake, signer, slice(None, before_crash))
    # A note Telegram took in the crash's last milliseconds, before it was recorded, is sent
    # again (doubled, never lost); every other one exactly once.
    assert all(count == 1 for count in after.values()), after
    assert all(count == 1 for count in sent_before.values()), sent_before
    callouts = Counter(user for m in fake.bot_messages(GROUP) for user in mentioned(m))
    assert callouts and max(callouts.values()) == 1, "no member called out twice"


async def test_an_upgraded_database_owes_no_note_for_what_it_enforced_before(
    tmp_path: Path,
) -> None:
    old = await connect(tmp_path / "q.db", up_to=8)
    await old.execute(
        "INSERT INTO audit (id, chat_id, at, target_id, message_id, action) VALUES"
        " (1, -1, 0, 7, 1, 'neutral')"
    )
    await old.execute(
        "INSERT INTO enforced_messages (chat_id, message_id, audit_id, at) VALUES (-1, 1, 1, 0)"
    )
    await old.close()
    store = await Store.open(tmp_path / "q.db")
    try:
        assert await store.enforced.notes_owed(0) == []
    finally:
        await store.close()


async def test_only_a_days_owed_notes_are_sent_again_and_say_they_are_late(
    tmp_path: Path,
) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        await harness.say(harness.member("early"), AD.format(n=1))
        harness.clock.advance(NOTES_OWED_FOR + 60)
        recent_ad = await harness.say(harness.member("recent"), AD.format(n=2))
        rt = harness.services
        await rt.staff.flush(STAFF)
        # As after a crash: nothing pending in memory, every note still owed in the file.
        await rt.store.db.execute("UPDATE enforced_messages SET note_owed = 1")
        assert rt.staff.pending == []
        assert await harness.app.bot_data.moderation.enforcer.resume_staff_notes() == 1
        (note,) = rt.staff.pending
        recent = await rt.store.enforced.audit_id_for(GROUP, recent_ad)
        assert note.audit_id == recent and note.buttons
        assert note.html.endswith(rt.staff.messages.t(AFTER_RESTART))
    finally:
        await harness.stop()


async def test_a_channels_resumed_note_tells_a_ban_as_the_live_one_does(tmp_path: Path) -> None:
    policy = "extends: default\nmoderation:\n  mode: neutral\n"
    harness = await Harness.start(make_config(tmp_path, policy=policy))
    try:
        channel = -1009999
        harness.fake.add_chat(channel, "channel", "Deals Daily")
        await harness.say(harness.member("poster"), AD.format(n=3), sender_chat=channel)
        rt = harness.services
        await rt.staff.flush(STAFF)
        (live,) = [text for text in harness.texts_in(STAFF) if "Deals Daily" in text]
        await rt.store.db.execute("UPDATE enforced_messages SET note_owed = 1")
        assert await harness.app.bot_data.moderation.enforcer.resume_staff_notes() == 1
        (note,) = rt.staff.pending
        assert "Banned" in live and "Banned" in note.html, (live, note.html)
        assert "re-invited" not in note.html, note.html
    finally:
        await harness.stop()


async def test_without_a_staff_chat_no_note_is_owed_for_a_staff_chat_added_later(
    tmp_path: Path,
) -> None:
    harness = await Harness.start(make_config(tmp_path, staff=False))
    try:
        await harness.say(harness.member("early"), AD.format(n=4))
        assert await harness.app.bot_data.moderation.enforcer.resume_staff_notes() == 0
        assert await harness.services.store.enforced.notes_owed(float("-inf")) == []
    finally:
        await harness.stop()

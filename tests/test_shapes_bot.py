"""Every update shape of ``bot.fake.shapes`` played through the real bot, in each mode: one
table row per shape with the actions expected in soft, neutral and hard mode.

An action is written as ``verb:who`` where who is a scene name: ``spammer``, ``channel`` (the
first foreign channel), ``channel2``, ``bot`` (another bot), ``group``/``topic`` for notices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.config import Config, GroupConfig, LoadedConfig, loaded_from
from bot.fake import FakeTelegram, RecordedCall
from bot.fake.shapes import (
    SHAPES,
    Scene,
    anonymous_admin_message,
    automatic_forward,
    build_scene,
    shape,
)
from policies.facts import CHANNEL_BOT_ID, PSEUDO_USER_IDS
from policies.yamlsource import Located
from tests.harness import STAFF, Harness, TestClock

AD = "加我微信 vx：abc12345 领取内部优惠券"
NEW_GROUP = -1004000000104
"""The id the scene's basic group gets when it becomes a supergroup."""
MODES = ("soft", "neutral", "hard")

PERSON = {
    "soft": {"delete", "notice"},
    "neutral": {"delete", "notice", "kick:spammer"},
    "hard": {"delete", "ban:spammer"},
}
"""An ad by a person, the spammer of the scene: the first rung of each mode."""
# The default welcome removes the "X added Y" service message: the "delete" of a foreign bot.


def channel(name: str) -> dict[str, set[str]]:
    """An ad sent as a channel: the channel answers for it, banned as a sender chat where a
    person would be removed; never the Channel_Bot pseudo-user."""
    return {
        "soft": {"delete", "notice"},
        "neutral": {"delete", "notice", f"ban_sender_chat:{name}"},
        "hard": {"delete", f"ban_sender_chat:{name}"},
    }


NOTHING: dict[str, set[str]] = {mode: set() for mode in MODES}
TOPIC = {mode: {a.replace("notice", "notice:topic") for a in PERSON[mode]} for mode in MODES}

EXPECTED: dict[str, dict[str, set[str]]] = {
    "channel_post_in_group": channel("channel"),
    "second_channel_post_in_group": channel("channel2"),
    "anonymous_admin": NOTHING,
    "automatic_forward": NOTHING,
    "topic_message_implicit_reply": TOPIC,
    "album": {mode: {"delete:3" if a == "delete" else a for a in PERSON[mode]} for mode in MODES},
    "poll_question": PERSON,
    "poll_option": PERSON,
    "checklist": PERSON,
    "story_share": PERSON,
    "external_reply_with_quote": PERSON,
    "external_reply_without_quote": NOTHING,
    "bot_added_by_member": {mode: {"kick:bot", "delete"} for mode in MODES},
    "other_bot_message": NOTHING,
    "migration": {mode: {a.replace("spammer", "member") for a in PERSON[mode]} for mode in MODES},
}


def mode_policy(mode: str) -> str:
    return f"extends: default\nmoderation:\n  mode: {mode}\n  callout_interval: 1s\n"


LENIENT = (
    "extends: default\n"
    "moderation:\n"
    "  detectors:\n    spam_threshold: 1000\n"
    "  probation:\n    spam_threshold: 1000\n"
)
"""The default policy of unlisted groups: acts on nothing, so a group that lost its configured
policy (a migration not followed) shows as no action at all."""


def scene_config(workdir: Path, mode: str, s: Scene) -> LoadedConfig:
    policies = workdir / "policies"
    policies.mkdir(exist_ok=True)
    (policies / "shop.yaml").write_text(mode_policy(mode), encoding="utf-8")
    (policies / "lenient.yaml").write_text(LENIENT, encoding="utf-8")
    groups = tuple(
        GroupConfig(chat_id=c, policy="shop") for c in (s.group, s.forum, s.basic_group)
    )
    config = Config(
        database=str(workdir / "qunbot.db"),
        policies_dir=str(policies),
        default_policy="lenient",
        groups=groups,
        staff_chat=STAFF,
    )
    return loaded_from(Located(config.model_dump(mode="json"), {}, {}, "(test)"), workdir)


def scene_world(clock: TestClock) -> tuple[FakeTelegram, Scene]:
    tg = FakeTelegram(clock=clock.now)
    scene = build_scene(tg)
    tg.add_chat(STAFF, "supergroup", "Staff")
    tg.bot_is_admin(STAFF)
    tg.pending.clear()
    return tg, scene


def names(s: Scene) -> dict[int, str]:
    return {
        s.spammer: "spammer",
        s.member: "member",
        s.foreign_channel: "channel",
        s.second_foreign_channel: "channel2",
        s.other_bot: "bot",
        CHANNEL_BOT_ID: "Channel_Bot",
    }


def actions(calls: list[RecordedCall], s: Scene) -> set[str]:
    """What the bot did to the scene's chats (the staff chat left out)."""
    who = names(s)
    done: set[str] = set()
    deleted: set[tuple[int, int]] = set()
    unbanned = {
        (c.params["chat_id"], c.params["user_id"]) for c in calls if c.method == "unbanChatMember"
    }
    for call in calls:
        p = call.params
        if call.method == "deleteMessage":
            deleted.add((p["chat_id"], p["message_id"]))
        elif call.method == "deleteMessages":
            deleted.update((p["chat_id"], i) for i in p["message_ids"])
        elif call.method == "banChatMember":
            kicked = (p["chat_id"], p["user_id"]) in unbanned
            done.add(f"{'kick' if kicked else 'ban'}:{who.get(p['user_id'], p['user_id'])}")
        elif call.method == "banChatSenderChat":
            done.add(f"ban_sender_chat:{who.get(p['sender_chat_id'], p['sender_chat_id'])}")
        elif call.method == "restrictChatMember":
            done.add(f"mute:{who.get(p['user_id'], p['user_id'])}")
        elif call.method == "sendMessage" and p["chat_id"] != STAFF:
            done.add("notice:topic" if p.get("message_thread_id") else "notice")
    if deleted:
        done.add("delete" if len(deleted) == 1 else f"delete:{len(deleted)}")
    return done


def delivered(tg: FakeTelegram, built: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The updates of a scene Telegram would deliver to the bot."""
    pending = {u["update_id"] for u in tg.pending}
    return [u for u in built if u["update_id"] in pending]


async def play(tmp_path: Path, name: str, mode: str) -> tuple[set[str], Harness, Scene]:
    """Build the shape in a fresh scene, feed what Telegram delivers, and let every collapsed
    notice go out (one due later waits in a job: it is run at once)."""
    clock = TestClock()
    tg, scene = scene_world(clock)
    harness = await Harness.start(scene_config(tmp_path, mode, scene), fake=tg, clock=clock)
    tg.calls.clear()
    await harness.feed(delivered(tg, shape(name).build(tg, scene, AD)))
    clock.advance(5)
    await harness.app.bot_data.moderation.enforcer.notices.drain()
    for job in harness.app.job_queue.jobs() if harness.app.job_queue else ():
        if job.name and "PublicNotices" in job.name:
            await job.run(harness.app)
    await harness.settle()
    return actions(tg.calls, scene), harness, scene


def test_the_table_has_a_row_per_shape() -> None:
    assert list(EXPECTED) == [row.name for row in SHAPES]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", [row.name for row in SHAPES])
async def test_each_shape_gets_the_actions_of_its_row(
    tmp_path: Path, name: str, mode: str
) -> None:
    done, harness, scene = await play(tmp_path, name, mode)
    try:
        assert done == EXPECTED[name][mode]
        bans = harness.fake.calls_to("banChatMember")
        assert not [c for c in bans if c.params["user_id"] in PSEUDO_USER_IDS]
        assert not harness.fake.is_deleted(scene.forum, scene.topic)
    finally:
        await harness.stop()


# ------------------------------------------------------------------ flows around the shapes


async def started(tmp_path: Path, mode: str) -> tuple[Harness, Scene]:
    clock = TestClock()
    tg, scene = scene_world(clock)
    tg.add_member(STAFF, scene.admin)
    harness = await Harness.start(scene_config(tmp_path, mode, scene), fake=tg, clock=clock)
    tg.calls.clear()
    return harness, scene


async def test_two_foreign_channels_each_start_at_the_bottom_of_the_ladder(
    tmp_path: Path,
) -> None:
    # Soft mode: a shared ladder would make the second channel's first ad offence 2, which
    # removes it (banChatSenderChat); each channel's own ladder only calls it out.
    harness, s = await started(tmp_path, "soft")
    try:
        tg = harness.fake
        for channel_id in (s.foreign_channel, s.second_foreign_channel):
            await harness.feed(tg.user_message(s.group, s.spammer, AD, sender_chat=channel_id))
            harness.clock.advance(60)
        assert tg.calls_to("banChatSenderChat") == []
        assert tg.calls_to("banChatMember") == []
        offences = await harness.services.store.offences.count_within(s.group, s.spammer, 0)
        assert offences == 0
        for channel_id in (s.foreign_channel, s.second_foreign_channel):
            count = await harness.services.store.offences.count_within(s.group, channel_id, 0)
            assert count == 1
    finally:
        await harness.stop()


async def test_a_channels_second_ad_climbs_its_own_ladder_and_undo_lifts_the_ban(
    tmp_path: Path,
) -> None:
    harness, s = await started(tmp_path, "soft")
    try:
        tg = harness.fake
        for _ in range(2):
            await harness.feed(
                tg.user_message(s.group, s.spammer, AD, sender_chat=s.foreign_channel)
            )
            harness.clock.advance(60)
        (ban,) = tg.calls_to("banChatSenderChat")
        assert ban.params["sender_chat_id"] == s.foreign_channel
        await harness.services.staff.drain()
        harness.clock.advance(30)
        for job in harness.app.job_queue.jobs() if harness.app.job_queue else ():
            await job.run(harness.app)
        await harness.services.staff.drain()
        notes = [m for m in tg.bot_messages(STAFF) if "Undo" in str(m.data.get("reply_markup"))]
        callout, ban_note = [m for m in notes if "Deals Daily" in m.text]
        assert "Banned" in ban_note.text and "re-invited" not in ban_note.text, ban_note.text
        for note in (callout, ban_note):
            rows = note.data["reply_markup"]["inline_keyboard"]
            undo = next(b for row in rows for b in row if b["text"].startswith("↩️ Undo #"))
            await harness.feed(
                tg.press_button(STAFF, note.message_id, s.admin, undo["callback_data"])
            )
            if note is callout:
                assert tg.calls_to("unbanChatSenderChat") == [], "a call-out lifts no later ban"
        (unban,) = tg.calls_to("unbanChatSenderChat")
        assert unban.params["sender_chat_id"] == s.foreign_channel
        assert tg.calls_to("banChatMember") == tg.calls_to("unbanChatMember") == []
    finally:
        await harness.stop()


async def test_the_call_out_names_the_channel(tmp_path: Path) -> None:
    harness, s = await started(tmp_path, "soft")
    try:
        tg = harness.fake
        await harness.feed(tg.user_message(s.group, s.spammer, AD, sender_chat=s.foreign_channel))
        await harness.app.bot_data.moderation.enforcer.notices.drain()
        (callout,) = tg.bot_messages(s.group)
        assert "Deals Daily" in callout.text
        assert "Channel" not in callout.text.replace("Deals Daily", "")
    finally:
        await harness.stop()


async def test_three_reports_in_a_topic_without_a_reply_touch_no_one(tmp_path: Path) -> None:
    harness, s = await started(tmp_path, "hard")
    try:
        tg = harness.fake
        for reporter in (s.member, s.spammer, s.owner):
            await harness.feed(tg.user_message(s.forum, reporter, "/report", thread=s.topic))
            harness.clock.advance(120)
        assert not tg.is_deleted(s.forum, s.topic)
        for method in ("banChatMember", "restrictChatMember", "deleteMessage", "deleteMessages"):
            assert tg.calls_to(method) == []
        answers = [c.params for c in tg.calls_to("sendMessage") if c.params["chat_id"] == s.forum]
        assert len(answers) == 3
        assert all(a["message_thread_id"] == s.topic for a in answers)
    finally:
        await harness.stop()


async def test_ban_by_id_in_a_topic_bans_the_named_user_not_the_topic_creator(
    tmp_path: Path,
) -> None:
    harness, s = await started(tmp_path, "soft")
    try:
        tg = harness.fake
        await harness.feed(tg.user_message(s.forum, s.owner, f"/ban {s.spammer}", thread=s.topic))
        (ban,) = tg.calls_to("banChatMember")
        assert ban.params["user_id"] == s.spammer
    finally:
        await harness.stop()


async def test_an_ad_in_a_topic_is_called_out_in_that_topic(tmp_path: Path) -> None:
    harness, s = await started(tmp_path, "soft")
    try:
        tg = harness.fake
        await harness.feed(tg.user_message(s.forum, s.spammer, AD, thread=s.topic))
        await harness.app.bot_data.moderation.enforcer.notices.drain()
        (callout,) = [
            c.params for c in tg.calls_to("sendMessage") if c.params["chat_id"] == s.forum
        ]
        assert callout["message_thread_id"] == s.topic
        assert not tg.is_deleted(s.forum, s.topic)
    finally:
        await harness.stop()


async def test_pseudo_senders_are_never_members(tmp_path: Path) -> None:
    harness, s = await started(tmp_path, "soft")
    try:
        tg = harness.fake
        await harness.feed(
            tg.user_message(s.group, s.spammer, "hi", sender_chat=s.foreign_channel)
        )
        await harness.feed(tg.user_message(s.group, s.admin, "hello all", sender_chat=s.group))
        await harness.feed(tg.channel_post(s.channel, s.admin, "New cookies in stock"))
        await harness.feed(tg.user_message(s.group, s.member, "hello"))
        store = harness.services.store
        await store.members.flush()
        async with store.db.execute("SELECT DISTINCT user_id FROM members") as cursor:
            stored = {row[0] for row in await cursor.fetchall()}
        assert stored == {s.member}
        # A database from an older version may hold them as members: never offered either.
        for old_row in (*PSEUDO_USER_IDS, s.foreign_channel):
            await store.db.execute(
                "INSERT INTO members (chat_id, user_id, first_seen, last_seen, message_count,"
                " trusted) VALUES (?, ?, 0, 0, 1, 0)",
                (s.group, old_row),
            )
        silent = await store.members.silent_since(s.group, harness.clock.now() + 10, 100)
        assert {m.user_id for m in silent} == {s.member}
    finally:
        await harness.stop()


async def test_an_old_message_edited_into_an_ad_is_explained_not_blamed_on_rights(
    tmp_path: Path,
) -> None:
    harness, s = await started(tmp_path, "soft")
    try:
        tg = harness.fake
        first = tg.user_message(s.group, s.member, "Thanks for the cookies")
        await harness.feed(first)
        harness.clock.advance(49 * 3600)
        await harness.feed(tg.edit_message(s.group, first["message"]["message_id"], AD))
        await harness.services.staff.drain()
        harness.clock.advance(30)
        for job in harness.app.job_queue.jobs() if harness.app.job_queue else ():
            await job.run(harness.app)
        await harness.services.staff.drain()
        staff = "\n".join(m.text for m in tg.bot_messages(STAFF))
        assert "48 hours" in staff
        assert "Delete messages right" not in staff
        assert tg.calls_to("deleteMessage") == tg.calls_to("deleteMessages") == []
    finally:
        await harness.stop()


async def test_the_shops_own_channel_posting_in_the_group_is_exempt(tmp_path: Path) -> None:
    harness, s = await started(tmp_path, "hard")
    try:
        tg = harness.fake
        post = tg.user_message(s.group, s.admin, AD, sender_chat=s.channel)
        await harness.feed(post)
        assert not tg.is_deleted(s.group, post["message"]["message_id"])
        assert tg.calls_to("banChatSenderChat") == tg.calls_to("banChatMember") == []
    finally:
        await harness.stop()


async def test_a_complaint_in_a_topic_is_answered_in_that_topic(tmp_path: Path) -> None:
    harness, s = await started(tmp_path, "soft")
    try:
        tg = harness.fake
        complaint = "My cookie box arrived broken and nobody answers my messages!!!"
        await harness.feed(tg.user_message(s.forum, s.member, complaint, thread=s.topic))
        (answer,) = [
            c.params for c in tg.calls_to("sendMessage") if c.params["chat_id"] == s.forum
        ]
        assert answer["message_thread_id"] == s.topic
    finally:
        await harness.stop()


async def test_reports_never_reach_a_pseudo_user_or_the_shops_own_channel(tmp_path: Path) -> None:
    harness, s = await started(tmp_path, "hard")
    try:
        tg = harness.fake
        own = tg.user_message(s.group, s.admin, "New cookies in stock", sender_chat=s.channel)
        anonymous = anonymous_admin_message(tg, s.group, s.admin, "Rules updated")[0]
        forwarded = [
            u for u in automatic_forward(tg, s.channel, s.admin, "Sale") if "message" in u
        ]
        await harness.feed(own, anonymous, *forwarded)
        for post in (own, anonymous, forwarded[0]):
            for reporter in (s.member, s.spammer, s.owner):
                message_id = post["message"]["message_id"]
                await harness.feed(
                    tg.user_message(s.group, reporter, "/report", reply_to=message_id)
                )
                harness.clock.advance(120)
        answers = [c.params["text"] for c in tg.calls_to("sendMessage")]
        # The staff hear of reports of the channel's own post; an anonymous admin's message and
        # an automatic forward have nobody to report.
        assert sum("reported <b>Shop news</b>" in text for text in answers) == 3
        for method in ("banChatMember", "banChatSenderChat", "deleteMessage", "deleteMessages"):
            assert tg.calls_to(method) == []
        await harness.feed(tg.user_message(s.group, s.owner, f"/ban {CHANNEL_BOT_ID}"))
        assert tg.calls_to("banChatMember") == []
    finally:
        await harness.stop()


async def test_a_channel_named_by_id_is_banned_and_unbanned_as_a_sender_chat(
    tmp_path: Path,
) -> None:
    harness, s = await started(tmp_path, "soft")
    try:
        tg = harness.fake
        await harness.feed(tg.user_message(s.group, s.owner, f"/ban {s.foreign_channel}"))
        await harness.feed(tg.user_message(s.group, s.owner, f"/unban {s.foreign_channel}"))
        (ban,) = tg.calls_to("banChatSenderChat")
        (unban,) = tg.calls_to("unbanChatSenderChat")
        assert ban.params["sender_chat_id"] == unban.params["sender_chat_id"] == s.foreign_channel
        assert tg.calls_to("banChatMember") == tg.calls_to("unbanChatMember") == []
    finally:
        await harness.stop()


async def test_in_dry_run_a_channel_is_only_reported_as_would_be_banned(tmp_path: Path) -> None:
    harness, s = await started(tmp_path, "hard")
    try:
        tg = harness.fake
        await harness.feed(tg.user_message(s.group, s.owner, "/dryrun on"))
        ad = tg.user_message(s.group, s.spammer, AD, sender_chat=s.foreign_channel)
        await harness.feed(ad)
        assert not tg.is_deleted(s.group, ad["message"]["message_id"])
        assert tg.calls_to("banChatSenderChat") == tg.calls_to("banChatMember") == []
        effects = harness.services.doors.simulated.effects
        assert (s.group, f"ban channel {s.foreign_channel}") in effects
    finally:
        await harness.stop()


async def test_an_undo_telegram_refuses_may_be_tried_again(tmp_path: Path) -> None:
    harness, s = await started(tmp_path, "hard")
    try:
        tg = harness.fake
        await harness.feed(tg.user_message(s.group, s.spammer, AD, sender_chat=s.foreign_channel))
        entry = await harness.services.store.audit.last_automatic(s.group, s.foreign_channel)
        assert entry is not None
        actions = harness.app.bot_data.actions
        tg.fail_next("unbanChatSenderChat", status=400, description="Bad Request: try later")
        assert "could not undo" in await actions.undo(entry, s.admin)
        assert "may post again" in await actions.undo(entry, s.admin)
    finally:
        await harness.stop()

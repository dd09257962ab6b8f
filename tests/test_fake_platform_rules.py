"""Platform rules the fake enforces through the Bot API: sender chats, topics, limits, bots,
pseudo-users and migration, each answered with the error Telegram gives."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, ChatMigrated

from bot.fake import EventKind, FakeRequest, FakeTelegram, ManualClock, ScriptError
from bot.fake.models import CHANNEL_BOT_ID, GROUP_ANONYMOUS_BOT_ID, PSEUDO_USER_IDS
from bot.fake.shapes import (
    Scene,
    album,
    anonymous_admin_message,
    automatic_forward,
    bot_added_by_member,
    build_scene,
    channel_post_in_group,
    other_bot_message,
    topic_message,
)

T0 = 1_700_000_000.0
STRANGER_CHANNEL = -1001000000301
STRANGER = 1401


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def tg(clock: ManualClock) -> FakeTelegram:
    return FakeTelegram(clock=clock)


@pytest.fixture
def s(tg: FakeTelegram) -> Scene:
    scene = build_scene(tg)
    tg.add_user(STRANGER, "Stan")
    tg.add_chat(STRANGER_CHANNEL, "channel", "Stan's picks", bot_status="left")
    tg.add_member(STRANGER_CHANNEL, STRANGER, "creator")
    return scene


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot("123:ABC", request=FakeRequest(tg), get_updates_request=FakeRequest(tg)) as bot:
        yield bot


async def refused(tg: FakeTelegram, call: Awaitable[object], reason: str) -> None:
    """The call fails with 400 and Telegram's own description (PTB capitalises it)."""
    with pytest.raises(BadRequest, match=f"(?i){re.escape(reason)}"):
        await call
    assert (tg.calls[-1].status, tg.calls[-1].description) == (400, f"Bad Request: {reason}")


def message_id(update: dict[str, Any]) -> int:
    return int(update["message"]["message_id"])


# ------------------------------------------------------------------- sender chats


def can_post_as(tg: FakeTelegram, s: Scene, user_id: int, channel_id: int) -> bool:
    try:
        channel_post_in_group(tg, s.group, channel_id, user_id, "hello")
    except ScriptError:
        return False
    return True


async def test_a_banned_channel_and_its_owners_other_channels_cannot_post(
    bot: Bot, tg: FakeTelegram, s: Scene
) -> None:
    assert await bot.ban_chat_sender_chat(s.group, s.foreign_channel)
    assert tg.chats[s.group].banned_sender_chats == {s.foreign_channel}
    assert [
        can_post_as(tg, s, s.spammer, s.foreign_channel),
        can_post_as(tg, s, s.spammer, s.second_foreign_channel),
        can_post_as(tg, s, STRANGER, STRANGER_CHANNEL),
    ] == [False, False, True]
    assert await bot.unban_chat_sender_chat(s.group, s.foreign_channel)
    assert can_post_as(tg, s, s.spammer, s.second_foreign_channel)
    assert [e.kind for e in tg.events if e.target == s.foreign_channel] == [
        EventKind.BAN_SENDER_CHAT,
        EventKind.UNBAN_SENDER_CHAT,
    ]


@pytest.mark.parametrize(
    ("setup", "chat", "error"),
    [
        (
            lambda tg, s: None,
            "basic_group",
            "method is available for supergroup and channel chats only",
        ),
        (
            lambda tg, s: tg.set_bot_rights(s.group, can_delete_messages=True),
            "group",
            "not enough rights to restrict/unrestrict chat member",
        ),
    ],
    ids=["basic group", "no restrict right"],
)
async def test_ban_chat_sender_chat_refusals(
    bot: Bot,
    tg: FakeTelegram,
    s: Scene,
    setup: Callable[[FakeTelegram, Scene], object],
    chat: str,
    error: str,
) -> None:
    setup(tg, s)
    await refused(tg, bot.ban_chat_sender_chat(getattr(s, chat), s.foreign_channel), error)
    assert all(not c.banned_sender_chats for c in tg.chats.values())


async def test_pseudo_users_are_never_members(bot: Bot, tg: FakeTelegram, s: Scene) -> None:
    count = await bot.get_chat_member_count(s.group)
    admins = {m.user.id for m in await bot.get_chat_administrators(s.group)}
    channel_post_in_group(tg, s.group, s.foreign_channel, s.spammer, "as a channel")
    anonymous_admin_message(tg, s.group, s.admin, "as the group")
    automatic_forward(tg, s.channel, s.admin, "from the channel")
    assert await bot.get_chat_member_count(s.group) == count
    assert {m.user.id for m in await bot.get_chat_administrators(s.group)} == admins
    assert await bot.ban_chat_member(s.group, CHANNEL_BOT_ID)
    assert tg.calls_to("banChatMember")[-1].ok
    members = {int(u) for u in tg.summary()["chats"][str(s.group)]["members"]}
    assert not members & PSEUDO_USER_IDS
    senders = {u["message"]["from"]["id"] for u in tg.pending if "message" in u}
    assert {CHANNEL_BOT_ID, GROUP_ANONYMOUS_BOT_ID} <= senders


def test_an_automatic_forward_needs_a_linked_discussion_group(tg: FakeTelegram, s: Scene) -> None:
    updates = automatic_forward(tg, s.foreign_channel, s.spammer, "no discussion group")
    assert [next(k for k in u if k != "update_id") for u in updates] == ["channel_post"]
    assert tg.chats[s.channel].linked_chat_id == s.group


# ----------------------------------------------------------------------- topics


async def test_sending_with_message_thread_id_lands_in_the_topic(
    bot: Bot, tg: FakeTelegram, s: Scene
) -> None:
    sent = await bot.send_message(s.forum, "Welcome to orders", message_thread_id=s.topic)
    assert (sent.message_thread_id, sent.is_topic_message) == (s.topic, True)
    assert sent.reply_to_message is not None and sent.reply_to_message.message_id == s.topic
    stored = tg.chats[s.forum].messages[sent.message_id].data
    assert stored["message_thread_id"] == s.topic


async def test_a_reply_to_a_topic_message_stays_in_the_topic(
    bot: Bot, tg: FakeTelegram, s: Scene
) -> None:
    asked = message_id(topic_message(tg, s.forum, s.member, s.topic, "price?")[0])
    answer = await bot.send_message(s.forum, "10", reply_parameters=ReplyParameters(asked))
    assert answer.message_thread_id == s.topic
    assert answer.reply_to_message is not None and answer.reply_to_message.message_id == asked
    general = await bot.send_message(s.forum, "general")
    assert general.message_thread_id is None and general.reply_to_message is None


async def test_a_member_reply_inside_a_topic_points_at_the_replied_message(
    tg: FakeTelegram, s: Scene
) -> None:
    first = message_id(topic_message(tg, s.forum, s.member, s.topic, "hi")[0])
    reply = topic_message(tg, s.forum, s.spammer, s.topic, "hey", reply_to=first)[0]["message"]
    assert reply["reply_to_message"]["message_id"] == first
    assert reply["message_thread_id"] == s.topic
    implied = tg.user_message(s.forum, s.admin, "yes", reply_to=first)["message"]
    assert implied["message_thread_id"] == s.topic


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (
            lambda bot, s: bot.send_message(s.forum, "x", message_thread_id=999),
            "message thread not found",
        ),
        (
            lambda bot, s: bot.send_message(s.group, "x", message_thread_id=1),
            "message thread not found",
        ),
        (lambda bot, s: bot.delete_message(s.forum, s.topic), "message can't be deleted"),
        (lambda bot, s: bot.delete_messages(s.forum, [s.topic]), "message can't be deleted"),
        (lambda bot, s: bot.create_forum_topic(s.group, "x"), "the chat is not a forum"),
        (lambda bot, s: bot.create_forum_topic(s.forum, "x" * 129), "TOPIC_TITLE_TOO_LONG"),
    ],
    ids=["unknown topic", "not a forum", "root", "root in a batch", "topic in group", "long"],
)
async def test_topic_refusals(
    bot: Bot,
    tg: FakeTelegram,
    s: Scene,
    call: Callable[[Bot, Scene], Awaitable[object]],
    error: str,
) -> None:
    await refused(tg, call(bot, s), error)


async def test_create_forum_topic_needs_the_right_and_opens_a_topic(
    bot: Bot, tg: FakeTelegram, s: Scene
) -> None:
    tg.bot_is_admin(s.forum, can_manage_topics=False)
    await refused(
        tg, bot.create_forum_topic(s.forum, "Refunds"), "not enough rights to create a topic"
    )
    tg.bot_is_admin(s.forum, can_manage_topics=True)
    topic = await bot.create_forum_topic(s.forum, "Refunds")
    assert tg.chats[s.forum].topics[topic.message_thread_id].name == "Refunds"
    root = tg.pending[-1]["message"]
    assert root["forum_topic_created"]["name"] == "Refunds"
    assert root["message_id"] == root["message_thread_id"] == topic.message_thread_id
    message = topic_message(tg, s.forum, s.member, topic.message_thread_id, "hi")[0]
    assert message["message"]["reply_to_message"]["message_id"] == topic.message_thread_id


async def test_other_topic_messages_can_be_deleted(bot: Bot, tg: FakeTelegram, s: Scene) -> None:
    posted = message_id(topic_message(tg, s.forum, s.spammer, s.topic, "ad")[0])
    assert await bot.delete_message(s.forum, posted)
    assert tg.is_deleted(s.forum, posted) and not tg.is_deleted(s.forum, s.topic)


# ----------------------------------------------------------------------- limits


async def press(bot: Bot, tg: FakeTelegram, s: Scene) -> str:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(s.group, "Pick", reply_markup=keyboard)
    return str(tg.press_button(s.group, sent.message_id, s.member, "a")["callback_query"]["id"])


LIMITS: list[tuple[str, Callable[[Bot, FakeTelegram, Scene], Awaitable[object]], str | None]] = [
    ("text 4096", lambda b, tg, s: b.send_message(s.group, "x" * 4096), None),
    ("text 4097", lambda b, tg, s: b.send_message(s.group, "x" * 4097), "message is too long"),
    (
        "text 4096 after HTML",
        lambda b, tg, s: b.send_message(s.group, f"<b>{'x' * 4096}</b>", parse_mode="HTML"),
        None,
    ),
    (
        "text 4097 after HTML",
        lambda b, tg, s: b.send_message(s.group, f"<b>{'x' * 4097}</b>", parse_mode="HTML"),
        "message is too long",
    ),
    ("empty text", lambda b, tg, s: b.send_message(s.group, " "), "message text is empty"),
    (
        "edit 4097",
        lambda b, tg, s: edit_to(b, s, "x" * 4097),
        "message is too long",
    ),
    ("caption 1024", lambda b, tg, s: b.send_photo(s.group, "f", caption="x" * 1024), None),
    (
        "caption 1025",
        lambda b, tg, s: b.send_photo(s.group, "f", caption="x" * 1025),
        "message caption is too long",
    ),
    (
        "copy caption 1025",
        lambda b, tg, s: copy_with_caption(b, tg, s, "x" * 1025),
        "message caption is too long",
    ),
    (
        "callback text 200",
        lambda b, tg, s: answer(b, tg, s, "x" * 200),
        None,
    ),
    (
        "callback text 201",
        lambda b, tg, s: answer(b, tg, s, "x" * 201),
        "MESSAGE_TOO_LONG",
    ),
    (
        "delete 0 ids",
        lambda b, tg, s: b.delete_messages(s.group, []),
        "message identifiers are not specified",
    ),
    ("delete 100 ids", lambda b, tg, s: b.delete_messages(s.group, range(1, 101)), None),
    (
        "delete 101 ids",
        lambda b, tg, s: b.delete_messages(s.group, range(1, 102)),
        "too many message identifiers specified",
    ),
]


async def edit_to(bot: Bot, s: Scene, text: str) -> object:
    sent = await bot.send_message(s.group, "short")
    return await bot.edit_message_text(text, s.group, sent.message_id)


async def copy_with_caption(bot: Bot, tg: FakeTelegram, s: Scene, caption: str) -> object:
    photo = message_id(album(tg, s.group, s.member, "look")[0])
    return await bot.copy_message(s.group, s.group, photo, caption=caption)


async def answer(bot: Bot, tg: FakeTelegram, s: Scene, text: str) -> object:
    return await bot.answer_callback_query(await press(bot, tg, s), text=text)


@pytest.mark.parametrize(
    ("call", "error"), [row[1:] for row in LIMITS], ids=[r[0] for r in LIMITS]
)
async def test_limits(
    bot: Bot,
    tg: FakeTelegram,
    s: Scene,
    call: Callable[[Bot, FakeTelegram, Scene], Awaitable[object]],
    error: str | None,
) -> None:
    if error is None:
        assert await call(bot, tg, s)
        return
    await refused(tg, call(bot, tg, s), error)


@pytest.mark.parametrize(
    ("edited_after", "deleted_after", "deletable"),
    [(0, 47, True), (0, 49, False), (47, 49, False), (1, 48, True)],
)
async def test_the_48_hour_delete_window_counts_from_sending_not_editing(
    bot: Bot,
    tg: FakeTelegram,
    clock: ManualClock,
    s: Scene,
    edited_after: int,
    deleted_after: int,
    deletable: bool,
) -> None:
    posted = message_id(tg.user_message(s.group, s.spammer, "hello"))
    clock.advance(edited_after * 3600)
    tg.edit_message(s.group, posted, "now an ad")
    clock.advance((deleted_after - edited_after) * 3600)
    if deletable:
        assert await bot.delete_message(s.group, posted)
    else:
        await refused(tg, bot.delete_message(s.group, posted), "message can't be deleted")


# ------------------------------------------------------------------------- bots


def delivered(tg: FakeTelegram, updates: list[dict[str, Any]]) -> list[bool]:
    pending = {u["update_id"] for u in tg.pending}
    return [u["update_id"] in pending for u in updates]


@pytest.mark.parametrize("text", ["cheap likes", "/ban@qunbot_demo_bot", "@qunbot_demo_bot hi"])
def test_other_bots_messages_never_reach_the_bot(tg: FakeTelegram, s: Scene, text: str) -> None:
    tg.can_read_all_group_messages = True
    assert delivered(tg, other_bot_message(tg, s.group, s.other_bot, text)) == [False]
    assert delivered(tg, [tg.user_message(s.group, s.member, text)]) == [True]


def test_a_member_adding_a_bot_is_delivered(tg: FakeTelegram, s: Scene) -> None:
    tg.allowed_updates = ["message", "chat_member"]
    updates = bot_added_by_member(tg, s.group, s.other_bot, s.member)
    assert delivered(tg, updates) == [True, True]
    assert tg.status_of(s.group, s.other_bot) == "member"
    with pytest.raises(ScriptError, match="already in"):
        bot_added_by_member(tg, s.group, s.other_bot, s.member)


# -------------------------------------------------------------------- migration


@pytest.mark.parametrize(
    "call",
    [
        lambda bot, old: bot.send_message(old, "hello"),
        lambda bot, old: bot.delete_message(old, 1),
        lambda bot, old: bot.ban_chat_member(old, 1103),
        lambda bot, old: bot.get_chat(old),
        lambda bot, old: bot.get_chat_member(old, 1103),
    ],
    ids=["send", "delete", "ban", "getChat", "getChatMember"],
)
async def test_every_call_to_a_migrated_group_says_where_it_went(
    bot: Bot, tg: FakeTelegram, s: Scene, call: Callable[[Bot, int], Awaitable[object]]
) -> None:
    tg.user_message(s.basic_group, s.member, "before")
    tg.migrate_to_supergroup(s.basic_group, -1009)
    with pytest.raises(ChatMigrated) as caught:
        await call(bot, s.basic_group)
    assert caught.value.new_chat_id == -1009
    body = tg.handle("getChat", {"chat_id": s.basic_group})[1]
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": -1009},
    }


async def test_the_new_supergroup_numbers_its_messages_from_one(
    bot: Bot, tg: FakeTelegram, s: Scene
) -> None:
    for text in ("one", "two", "three"):
        tg.user_message(s.basic_group, s.member, text)
    old_notice = tg.migrate_to_supergroup(s.basic_group, by_user_id=s.admin)
    new_notice = tg.updates[-1]["message"]
    new_id = new_notice["chat"]["id"]
    assert old_notice["message"]["message_id"] == 4
    assert old_notice["message"]["from"]["id"] == s.admin
    assert new_notice["message_id"] == 1 and new_notice["migrate_from_chat_id"] == s.basic_group
    assert (await bot.send_message(new_id, "hello")).message_id == 2
    with pytest.raises(ScriptError, match="migrated"):
        tg.user_message(s.basic_group, s.member, "late")
    with pytest.raises(ScriptError, match="only basic groups"):
        tg.migrate_to_supergroup(new_id)

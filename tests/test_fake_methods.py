"""The fake Telegram answers the real PTB ``Bot`` as Telegram would, and keeps state."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatAdministratorRights,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberRestricted,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
)

from bot.fake import EventKind, FakeRequest, FakeTelegram, ManualClock, check_calls_against_spec
from bot.fake.methods import METHODS
from bot.fake.spec import SPEC_PATH, Upload

SHARED_SPEC = (
    Path(__file__).resolve().parents[2] / "shared" / "telegram-bot-api" / "api-botapi-10.0.json"
)
TOKEN = "123:ABC"
T0 = 1_700_000_000.0
OWNER, ALICE, SPAMMER, STRANGER = 1, 2, 3, 4
GROUP, BASIC, CHANNEL, FORUM = -1001, -5, -1002, -1003
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Accept", callback_data="accept")]])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def tg(clock: ManualClock) -> FakeTelegram:
    tg = FakeTelegram(clock=clock)
    tg.add_user(OWNER, "Olga", "olga")
    tg.add_user(ALICE, "Alice")
    tg.add_user(SPAMMER, "Spam", "spammer")
    tg.add_user(STRANGER, "Stranger")
    tg.add_chat(GROUP, "supergroup", "Shop", "shop_group", description="Deals")
    tg.add_member(GROUP, OWNER, "creator")
    tg.add_member(GROUP, ALICE)
    tg.add_member(GROUP, SPAMMER)
    tg.bot_is_admin(GROUP)
    tg.add_chat(BASIC, "group", "Old group")
    tg.add_member(BASIC, OWNER, "creator")
    tg.add_member(BASIC, SPAMMER)
    tg.bot_is_admin(BASIC)
    return tg


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, request=FakeRequest(tg), get_updates_request=FakeRequest(tg)) as bot:
        yield bot


def spam_message(tg: FakeTelegram, text: str = "cheap followers") -> int:
    return int(tg.user_message(GROUP, SPAMMER, text)["message"]["message_id"])


async def test_get_me_reports_the_bot_and_privacy_mode(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "qunbot_demo_bot"
    assert me.can_read_all_group_messages is False


async def test_bot_api_method_names_are_case_insensitive(tg: FakeTelegram) -> None:
    assert tg.handle("GETME", {})[0] == 200
    assert tg.calls[-1].method == "getMe"


async def test_send_message_parses_html_and_stores_the_message(bot: Bot, tg: FakeTelegram) -> None:
    sent = await bot.send_message(
        GROUP, "<b>Rules</b> &amp; <a href='https://t.me/shop'>shop</a>", parse_mode="HTML"
    )
    assert sent.text == "Rules & shop"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 5),
        ("text_link", 8, 4),
    ]
    assert sent.entities[1].url == "https://t.me/shop"
    assert [m.text for m in tg.bot_messages(GROUP)] == ["Rules & shop"]
    assert tg.events_of(EventKind.BOT_MESSAGE)[0].text == "Rules & shop"


@pytest.mark.parametrize(
    "html",
    ["<b>open", "<blink>x</blink>", "<b><i>x</b></i>", "x</b>", "a < b", "<span>x</span>"],
)
async def test_bad_html_is_a_bad_request(bot: Bot, html: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(GROUP, html, parse_mode="HTML")


async def test_send_message_checks_text_and_reply_target(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(GROUP, "  ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(GROUP, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)replied not found"):
        await bot.send_message(GROUP, "hi", reply_parameters=ReplyParameters(99))
    sent = await bot.send_message(
        GROUP, "hi", reply_parameters=ReplyParameters(99, allow_sending_without_reply=True)
    )
    assert sent.reply_to_message is None


async def test_reply_carries_the_original_and_the_keyboard(bot: Bot, tg: FakeTelegram) -> None:
    spam = spam_message(tg)
    sent = await bot.send_message(
        GROUP, "No ads", reply_parameters=ReplyParameters(spam), reply_markup=KEYBOARD
    )
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.from_user is not None
    assert sent.reply_to_message.from_user.id == SPAMMER
    assert sent.reply_markup == KEYBOARD
    assert tg.events[-1].buttons == ("Accept",)


async def test_private_messages_need_a_started_chat(bot: Bot, tg: FakeTelegram) -> None:
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(ALICE, "hello")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hello")
    tg.start_private(ALICE)
    sent = await bot.send_message(ALICE, "hello")
    assert sent.chat.type == "private"
    tg.block_bot(ALICE)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(ALICE, "hello again")


async def test_join_request_opens_a_five_minute_private_window(
    bot: Bot, tg: FakeTelegram, clock: ManualClock
) -> None:
    tg.join_request(GROUP, STRANGER)
    await bot.send_message(STRANGER, "Answer the captcha")
    clock.advance(301)
    with pytest.raises(Forbidden):
        await bot.send_message(STRANGER, "still there?")


async def test_send_photo_accepts_uploads_and_file_ids(bot: Bot, tg: FakeTelegram) -> None:
    uploaded = await bot.send_photo(GROUP, photo=b"\x89PNG fake", caption="<i>new</i>")
    assert uploaded.photo and uploaded.caption == "<i>new</i>"
    by_id = await bot.send_photo(
        GROUP, photo=InputFile(b"bytes", filename="a.png"), caption="<i>new</i>", parse_mode="HTML"
    )
    assert by_id.caption == "new" and by_id.caption_entities[0].type == "italic"
    await bot.send_photo(GROUP, photo="AgACAgIAAxk-file-id")
    photos = [c.params["photo"] for c in tg.calls_to("send_photo")]
    assert isinstance(photos[0], Upload) and photos[0].content == b"\x89PNG fake"
    assert photos[1] == Upload("a.png", b"bytes")
    assert photos[2] == "AgACAgIAAxk-file-id"


async def test_delete_needs_the_right_except_for_own_messages(bot: Bot, tg: FakeTelegram) -> None:
    spam = spam_message(tg)
    own = await bot.send_message(GROUP, "notice")
    tg.set_bot_rights(GROUP, can_restrict_members=True)
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
        await bot.delete_message(GROUP, spam)
    assert await bot.delete_message(GROUP, own.message_id)
    tg.bot_is_admin(GROUP)
    assert await bot.delete_message(GROUP, spam)
    assert tg.is_deleted(GROUP, spam)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(GROUP, spam)
    deleted = tg.events_of(EventKind.DELETE)
    assert [(e.target, e.text) for e in deleted] == [
        (tg.bot.id, "notice"),
        (SPAMMER, "cheap followers"),
    ]


async def test_messages_older_than_48_hours_cannot_be_deleted(
    bot: Bot, tg: FakeTelegram, clock: ManualClock
) -> None:
    spam = spam_message(tg)
    clock.advance(48 * 3600 + 1)
    with pytest.raises(BadRequest, match=r"(?i)can't be deleted"):
        await bot.delete_message(GROUP, spam)


async def test_delete_messages_skips_missing_ones(bot: Bot, tg: FakeTelegram) -> None:
    first, second = spam_message(tg, "a"), spam_message(tg, "b")
    assert await bot.delete_messages(GROUP, [first, second, 404])
    assert tg.messages(GROUP) == []


async def test_edits_replace_text_and_keyboard(bot: Bot, tg: FakeTelegram) -> None:
    sent = await bot.send_message(GROUP, "Pick", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Pick", GROUP, sent.message_id, reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("Picked", GROUP, sent.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "Picked" and edited.reply_markup is None and edited.edit_date
    again = await bot.edit_message_reply_markup(GROUP, sent.message_id, reply_markup=KEYBOARD)
    assert isinstance(again, Message) and again.reply_markup == KEYBOARD
    assert tg.events[-1].kind == EventKind.BOT_EDIT
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("mine now", GROUP, spam_message(tg))
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("gone", GROUP, 999)


async def test_forward_and_copy(bot: Bot, tg: FakeTelegram) -> None:
    spam = spam_message(tg)
    tg.make_admin(GROUP, ALICE)
    staff = -1003
    tg.add_chat(staff, "supergroup", "Staff")
    forwarded = await bot.forward_message(staff, GROUP, spam)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.sender_user.id == SPAMMER  # type: ignore[attr-defined]
    copied = await bot.copy_message(staff, GROUP, spam)
    assert tg.chats[staff].messages[copied.message_id].text == "cheap followers"
    with pytest.raises(BadRequest, match=r"(?i)message to forward not found"):
        await bot.forward_message(staff, GROUP, 999)
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(staff, GROUP, 999)


@pytest.mark.parametrize(
    ("ahead", "stored"),
    [(10, 0), (29, 0), (31, 31), (86400, 86400), (366 * 86400, 366 * 86400), (367 * 86400, 0)],
)
async def test_ban_until_date_under_30s_or_over_366_days_is_forever(
    bot: Bot, tg: FakeTelegram, ahead: int, stored: int
) -> None:
    until = dtm.datetime.fromtimestamp(T0 + ahead, tz=dtm.UTC)
    assert await bot.ban_chat_member(GROUP, SPAMMER, until_date=until)
    member = tg.member(GROUP, SPAMMER)
    assert member.status == "kicked"
    assert member.until_date == (int(T0) + stored if stored else 0)


async def test_a_timedelta_until_date_becomes_a_permanent_ban(bot: Bot, tg: FakeTelegram) -> None:
    """The pitfall TELEGRAM.md warns about: PTB sends a timedelta as bare seconds."""
    hour = dtm.timedelta(hours=1)
    await bot.ban_chat_member(GROUP, SPAMMER, until_date=hour)  # type: ignore[arg-type]
    assert tg.calls_to("banChatMember")[0].params["until_date"] == 3600
    assert tg.member(GROUP, SPAMMER).until_date == 0


async def test_temporary_ban_expires_with_the_clock(
    bot: Bot, tg: FakeTelegram, clock: ManualClock
) -> None:
    await bot.ban_chat_member(GROUP, SPAMMER, until_date=int(T0) + 3600)
    assert tg.pending[-1]["chat_member"]["new_chat_member"]["status"] == "kicked"
    banned = await bot.get_chat_member(GROUP, SPAMMER)
    assert isinstance(banned, ChatMemberBanned)
    assert banned.until_date == dtm.datetime.fromtimestamp(T0 + 3600, tz=dtm.UTC)
    clock.advance(3601)
    assert isinstance(await bot.get_chat_member(GROUP, SPAMMER), ChatMemberLeft)


async def test_ban_leaves_the_users_messages_for_others(bot: Bot, tg: FakeTelegram) -> None:
    spam = spam_message(tg)
    await bot.ban_chat_member(GROUP, SPAMMER, revoke_messages=True)
    assert not tg.is_deleted(GROUP, spam)
    assert tg.events_of(EventKind.BAN)[0].detail == "forever"


async def test_kick_is_ban_then_unban_only_if_banned(bot: Bot, tg: FakeTelegram) -> None:
    await bot.ban_chat_member(GROUP, SPAMMER)
    await bot.unban_chat_member(GROUP, SPAMMER, only_if_banned=True)
    assert tg.status_of(GROUP, SPAMMER) == "left"
    tg.join(GROUP, SPAMMER)
    assert tg.status_of(GROUP, SPAMMER) == "member"


async def test_unban_without_only_if_banned_removes_a_member(bot: Bot, tg: FakeTelegram) -> None:
    await bot.unban_chat_member(GROUP, ALICE, only_if_banned=True)
    assert tg.status_of(GROUP, ALICE) == "member"
    await bot.unban_chat_member(GROUP, ALICE)
    assert tg.status_of(GROUP, ALICE) == "left"
    assert tg.events[-1].kind == EventKind.KICK


async def test_unban_needs_a_supergroup(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)supergroup and channel chats only"):
        await bot.unban_chat_member(BASIC, SPAMMER)


async def test_restrict_works_only_in_supergroups(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)only for supergroups"):
        await bot.restrict_chat_member(BASIC, SPAMMER, ChatPermissions.no_permissions())


async def test_mute_until_then_it_lifts(bot: Bot, tg: FakeTelegram, clock: ManualClock) -> None:
    await bot.restrict_chat_member(
        GROUP, SPAMMER, ChatPermissions.no_permissions(), until_date=int(T0) + 600
    )
    muted = await bot.get_chat_member(GROUP, SPAMMER)
    assert isinstance(muted, ChatMemberRestricted)
    assert muted.can_send_messages is False and muted.is_member
    assert tg.events_of(EventKind.RESTRICT)[0].detail.startswith("muted")
    clock.advance(601)
    assert isinstance(await bot.get_chat_member(GROUP, SPAMMER), ChatMemberMember)
    tg.user_message(GROUP, SPAMMER, "back")


async def test_restrict_with_full_permissions_lifts_restrictions(
    bot: Bot, tg: FakeTelegram
) -> None:
    await bot.restrict_chat_member(GROUP, SPAMMER, ChatPermissions.no_permissions())
    await bot.restrict_chat_member(GROUP, SPAMMER, ChatPermissions.all_permissions())
    assert tg.status_of(GROUP, SPAMMER) == "member"


async def test_missing_rights_are_bad_requests(bot: Bot, tg: FakeTelegram) -> None:
    tg.set_bot_rights(GROUP, can_delete_messages=True)
    spam = spam_message(tg)
    calls = [
        (bot.ban_chat_member(GROUP, SPAMMER), "restrict/unrestrict chat member"),
        (bot.unban_chat_member(GROUP, SPAMMER), "restrict/unrestrict chat member"),
        (bot.restrict_chat_member(GROUP, SPAMMER, ChatPermissions()), "restrict/unrestrict"),
        (bot.create_chat_invite_link(GROUP), "manage chat invite link"),
        (bot.pin_chat_message(GROUP, spam), "manage pinned messages"),
        (bot.set_chat_permissions(GROUP, ChatPermissions()), "change chat permissions"),
    ]
    for call, reason in calls:
        with pytest.raises(BadRequest, match=rf"(?i)not enough rights to {reason}"):
            await call


async def test_owner_and_foreign_admins_cannot_be_banned(bot: Bot, tg: FakeTelegram) -> None:
    tg.make_admin(GROUP, ALICE)
    with pytest.raises(BadRequest, match=r"(?i)can't remove chat owner"):
        await bot.ban_chat_member(GROUP, OWNER)
    with pytest.raises(BadRequest, match=r"(?i)administrator of the chat"):
        await bot.restrict_chat_member(GROUP, ALICE, ChatPermissions.no_permissions())


async def test_promote_grants_only_the_bots_rights_and_demotes(bot: Bot, tg: FakeTelegram) -> None:
    tg.bot_is_admin(GROUP, can_promote_members=True)
    await bot.promote_chat_member(GROUP, ALICE, can_delete_messages=True)
    admins = await bot.get_chat_administrators(GROUP)
    assert admins[0].user.id == OWNER
    assert {a.user.id for a in admins} == {OWNER, ALICE, tg.bot.id}
    assert tg.member(GROUP, ALICE).rights["can_delete_messages"]
    with pytest.raises(BadRequest, match=r"(?i)RIGHT_FORBIDDEN"):
        await bot.promote_chat_member(GROUP, ALICE, can_change_info=True)
    await bot.promote_chat_member(GROUP, ALICE)
    assert tg.status_of(GROUP, ALICE) == "member"
    with pytest.raises(BadRequest, match=r"(?i)can't demote chat creator"):
        await bot.promote_chat_member(GROUP, OWNER)


async def test_invite_links_are_tracked_and_used(bot: Bot, tg: FakeTelegram) -> None:
    link = await bot.create_chat_invite_link(GROUP, name="vip", member_limit=1)
    assert link.member_limit == 1 and link.creator.id == tg.bot.id
    edited = await bot.edit_chat_invite_link(GROUP, link.invite_link, name="vip2")
    assert edited.name == "vip2"
    updates = tg.join(GROUP, STRANGER, via_link=link.invite_link)
    assert updates[0]["chat_member"]["invite_link"]["invite_link"] == link.invite_link
    assert tg.chats[GROUP].invite_links[link.invite_link].usage == 1
    revoked = await bot.revoke_chat_invite_link(GROUP, link.invite_link)
    assert revoked.is_revoked
    primary = await bot.export_chat_invite_link(GROUP)
    chat = await bot.get_chat(GROUP)
    assert chat.invite_link == primary
    with pytest.raises(BadRequest):
        await bot.revoke_chat_invite_link(GROUP, "https://t.me/+nope")


async def test_join_requests_are_approved_or_declined(bot: Bot, tg: FakeTelegram) -> None:
    link = await bot.create_chat_invite_link(GROUP, creates_join_request=True)
    [request] = tg.join(GROUP, STRANGER, via_link=link.invite_link)
    assert request["chat_join_request"]["user_chat_id"] == STRANGER
    await bot.approve_chat_join_request(GROUP, STRANGER)
    assert tg.status_of(GROUP, STRANGER) == "member"
    assert tg.updates[-2]["chat_member"]["via_join_request"] is True
    with pytest.raises(BadRequest, match=r"(?i)HIDE_REQUESTER_MISSING"):
        await bot.decline_chat_join_request(GROUP, STRANGER)
    tg.join_request(GROUP, ALICE)
    await bot.decline_chat_join_request(GROUP, ALICE)
    assert tg.events[-1].kind == EventKind.DECLINE_JOIN


async def test_callback_queries_are_answered_once(bot: Bot, tg: FakeTelegram) -> None:
    sent = await bot.send_message(GROUP, "Rules", reply_markup=KEYBOARD)
    update = tg.press_button(GROUP, sent.message_id, ALICE, "accept")
    query_id = update["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="Welcome!")
    assert tg.callback_queries[query_id].answer == {"text": "Welcome!"}
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query(query_id)


async def test_commands_are_stored_per_scope(bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("rules", "Show the rules")])
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("complain", "File a complaint")], scope=private)
    assert [c.command for c in await bot.get_my_commands()] == ["rules"]
    assert [c.command for c in await bot.get_my_commands(scope=private)] == ["complain"]
    await bot.delete_my_commands(scope=private)
    assert await bot.get_my_commands(scope=private) == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])


async def test_pins(bot: Bot, tg: FakeTelegram) -> None:
    first = await bot.send_message(GROUP, "first")
    second = await bot.send_message(GROUP, "second")
    await bot.pin_chat_message(GROUP, first.message_id)
    await bot.pin_chat_message(GROUP, second.message_id)
    assert (await bot.get_chat(GROUP)).pinned_message.text == "second"  # type: ignore[union-attr]
    await bot.unpin_chat_message(GROUP)
    assert tg.chats[GROUP].pinned == [first.message_id]
    await bot.unpin_all_chat_messages(GROUP)
    assert tg.chats[GROUP].pinned == []
    with pytest.raises(BadRequest, match=r"(?i)message to pin not found"):
        await bot.pin_chat_message(GROUP, 999)


async def test_leave_chat_then_the_bot_is_not_a_member(bot: Bot, tg: FakeTelegram) -> None:
    assert await bot.leave_chat(GROUP)
    assert tg.updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "left"
    with pytest.raises(Forbidden, match=r"(?i)not a member of the supergroup chat"):
        await bot.send_message(GROUP, "hello?")


async def test_set_chat_permissions_changes_what_members_may_do(
    bot: Bot, tg: FakeTelegram
) -> None:
    await bot.set_chat_permissions(GROUP, ChatPermissions(can_send_messages=False))
    assert tg.chats[GROUP].permissions["can_send_messages"] is False
    chat = await bot.get_chat(GROUP)
    assert chat.permissions is not None and chat.permissions.can_send_messages is False


async def test_plain_member_bot_needs_send_rights(bot: Bot, tg: FakeTelegram) -> None:
    tg.add_chat(-1009, "supergroup", "Quiet")
    tg.chats[-1009].permissions["can_send_messages"] = False
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to send text messages"):
        await bot.send_message(-1009, "hi")


async def test_default_administrator_rights(bot: Bot) -> None:
    rights = ChatAdministratorRights.all_rights()
    await bot.set_my_default_administrator_rights(rights, for_channels=True)
    assert (await bot.get_my_default_administrator_rights(for_channels=True)).can_delete_messages
    assert not (await bot.get_my_default_administrator_rights()).can_delete_messages


async def test_get_chat_and_member_count(bot: Bot, tg: FakeTelegram) -> None:
    tg.chats[GROUP].linked_chat_id = CHANNEL
    chat = await bot.get_chat("@shop_group")
    assert (chat.id, chat.description, chat.linked_chat_id) == (GROUP, "Deals", CHANNEL)
    assert await bot.get_chat_member_count(GROUP) == 4
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(-42)
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(GROUP, 424242)


async def test_migrated_group_raises_chat_migrated(bot: Bot, tg: FakeTelegram) -> None:
    tg.migrate_to_supergroup(BASIC, -1004)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(BASIC, "hello")
    assert caught.value.new_chat_id == -1004
    assert (await bot.send_message(-1004, "hello")).chat.type == "supergroup"
    assert tg.status_of(-1004, SPAMMER) == "member"


async def test_fail_next_scripts_flood_limits_and_outages(
    bot: Bot, tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    tg.fail_next("sendMessage", retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(GROUP, "hi")
        assert caught.value.retry_after == dtm.timedelta(seconds=7)
    await bot.send_message(GROUP, "hi")
    tg.fail_next("delete_message", status=502, description="Bad Gateway")
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.delete_message(GROUP, 1)
    assert [c.status for c in tg.calls_to("sendMessage")] == [429, 429, 200]


async def test_unknown_methods_and_parameters_are_refused(bot: Bot, tg: FakeTelegram) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": GROUP})
    assert tg.calls[-1].status == 404
    with pytest.raises(BadRequest, match=r"(?i)unknown parameter colour"):
        await bot.send_message(GROUP, "hi", api_kwargs={"colour": "red"})
    with pytest.raises(BadRequest, match=r"(?i)parameter user_id must be Integer"):
        await bot.ban_chat_member(GROUP, "x")  # type: ignore[arg-type]
    status, body = tg.handle("banChatMember", {"chat_id": GROUP})
    assert (status, body["description"]) == (400, "Bad Request: parameter user_id is required")
    assert tg.status_of(GROUP, SPAMMER) == "member"


async def test_get_updates_offset_confirms_and_limit_bounds(bot: Bot, tg: FakeTelegram) -> None:
    ids = [tg.user_message(GROUP, ALICE, f"m{i}")["update_id"] for i in range(3)]
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates(offset=ids[1], limit=1)] == ids[1:2]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]
    assert await bot.get_updates(offset=ids[-1] + 1) == ()
    assert tg.pending == []


async def test_chat_member_updates_need_allowed_updates(bot: Bot, tg: FakeTelegram) -> None:
    tg.join(GROUP, STRANGER)
    [joined] = await bot.get_updates()
    assert joined.message is not None and joined.message.new_chat_members
    tg.leave(GROUP, STRANGER)
    updates = await bot.get_updates(
        offset=joined.update_id + 1, allowed_updates=["chat_member", "message"]
    )
    assert [u.chat_member is not None for u in updates] == [True, False]


async def test_a_tour_of_every_method_matches_the_spec(bot: Bot, tg: FakeTelegram) -> None:
    """Calls every implemented method once through PTB; the calls pass the spec checks."""
    spam = spam_message(tg)
    tg.start_private(ALICE)
    tg.bot_is_admin(GROUP, can_promote_members=True)
    sent = await bot.send_message(GROUP, "hi", reply_markup=KEYBOARD)
    query = tg.press_button(GROUP, sent.message_id, ALICE, "accept")["callback_query"]["id"]
    await bot.log_out()
    await bot.close()
    await bot.set_webhook("https://bot.example.com/hook", secret_token="s3cret")
    await bot.delete_webhook()
    await bot.get_webhook_info()
    await bot.get_updates()
    tg.add_chat(FORUM, "supergroup", "Forum", is_forum=True)
    tg.bot_is_admin(FORUM, can_manage_topics=True)
    await bot.create_forum_topic(FORUM, "Orders")
    await bot.ban_chat_sender_chat(GROUP, CHANNEL)
    await bot.unban_chat_sender_chat(GROUP, CHANNEL)
    await bot.get_chat(GROUP)
    await bot.get_chat_member(GROUP, ALICE)
    await bot.get_chat_administrators(GROUP)
    await bot.get_chat_member_count(GROUP)
    await bot.send_photo(ALICE, b"img")
    await bot.send_chat_action(GROUP, "typing")
    await bot.forward_message(ALICE, GROUP, spam)
    await bot.copy_message(ALICE, GROUP, spam)
    await bot.edit_message_text("hello", GROUP, sent.message_id, reply_markup=KEYBOARD)
    await bot.edit_message_reply_markup(GROUP, sent.message_id)
    await bot.answer_callback_query(query)
    await bot.pin_chat_message(GROUP, sent.message_id)
    await bot.unpin_chat_message(GROUP, sent.message_id)
    await bot.unpin_all_chat_messages(GROUP)
    await bot.delete_message(GROUP, sent.message_id)
    await bot.delete_messages(GROUP, [spam])
    await bot.restrict_chat_member(GROUP, SPAMMER, ChatPermissions.no_permissions())
    await bot.ban_chat_member(GROUP, SPAMMER)
    await bot.unban_chat_member(GROUP, SPAMMER, only_if_banned=True)
    await bot.promote_chat_member(GROUP, ALICE, can_pin_messages=True)
    await bot.set_chat_permissions(GROUP, ChatPermissions.all_permissions())
    link = await bot.create_chat_invite_link(GROUP, expire_date=int(T0) + 3600)
    await bot.edit_chat_invite_link(GROUP, link.invite_link, member_limit=5)
    await bot.revoke_chat_invite_link(GROUP, link.invite_link)
    await bot.export_chat_invite_link(GROUP)
    tg.join_request(GROUP, STRANGER)
    await bot.approve_chat_join_request(GROUP, STRANGER)
    tg.add_user(50, "Late")
    tg.join_request(GROUP, 50)
    await bot.decline_chat_join_request(GROUP, 50)
    await bot.set_my_commands([BotCommand("rules", "Rules")])
    await bot.get_my_commands()
    await bot.delete_my_commands()
    await bot.set_my_default_administrator_rights(ChatAdministratorRights.no_rights())
    await bot.get_my_default_administrator_rights()
    await bot.leave_chat(GROUP)
    assert all(call.ok for call in tg.calls), [c for c in tg.calls if not c.ok]
    assert {call.method for call in tg.calls} == set(METHODS)
    assert check_calls_against_spec(tg.calls, SPEC_PATH) == []
    if SHARED_SPEC.exists():
        assert check_calls_against_spec(tg.calls, SHARED_SPEC) == []

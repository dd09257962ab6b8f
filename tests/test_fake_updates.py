"""Scripted scenes produce Bot API updates that PTB parses, and the bot sees what it should."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram import Bot, MessageOriginChannel, MessageOriginUser, Update

from bot.fake import EventKind, FakeTelegram, ManualClock, ScriptError
from bot.fake.markup import detect_entities, parse_html

T0 = 1_700_000_000.0
OWNER, ALICE, SPAMMER, HELPER_BOT = 1, 2, 3, 90
GROUP, CHANNEL = -1001, -1002
BOT = Bot("123:ABC")


@pytest.fixture
def tg() -> FakeTelegram:
    tg = FakeTelegram(clock=ManualClock(T0))
    tg.add_user(OWNER, "Olga", "olga")
    tg.add_user(ALICE, "Alice", "alice")
    tg.add_user(SPAMMER, "Spam")
    tg.add_user(HELPER_BOT, "Helper", "helper_bot", is_bot=True)
    tg.add_chat(GROUP, "supergroup", "Shop", linked_chat_id=CHANNEL)
    tg.add_member(GROUP, OWNER, "creator")
    tg.bot_is_admin(GROUP)
    tg.add_chat(CHANNEL, "channel", "Shop news", "shop_news")
    return tg


def parse(update: dict[str, Any]) -> Update:
    return Update.de_json(json.loads(json.dumps(update)), BOT)


def test_a_plain_message_parses_with_detected_entities(tg: FakeTelegram) -> None:
    update = parse(tg.user_message(GROUP, ALICE, "/price@qunbot_demo_bot see shop.example.com"))
    message = update.message
    assert message is not None and message.from_user is not None
    assert message.from_user.id == ALICE and message.chat.id == GROUP
    assert [e.type for e in message.entities] == ["bot_command", "url"]
    assert message.parse_entity(message.entities[1]) == "shop.example.com"
    assert tg.events[-1].kind == EventKind.MEMBER_MESSAGE


def test_rich_messages_carry_every_field_moderation_looks_at(tg: FakeTelegram) -> None:
    first = tg.user_message(GROUP, ALICE, "original")["message"]["message_id"]
    hidden_link = [{"type": "text_link", "offset": 0, "length": 4, "url": "https://spam.example"}]
    update = parse(
        tg.user_message(
            GROUP,
            SPAMMER,
            entities=hidden_link,
            caption="deal",
            photo=True,
            reply_to=first,
            forward_origin=ALICE,
            via_bot=HELPER_BOT,
            reply_markup={"inline_keyboard": [[{"text": "Buy", "url": "https://spam.example"}]]},
            quote="original",
        )
    )
    message = update.message
    assert message is not None
    assert message.photo and message.caption == "deal"
    assert message.caption_entities[0].url == "https://spam.example"
    assert message.reply_to_message is not None and message.reply_to_message.text == "original"
    assert isinstance(message.forward_origin, MessageOriginUser)
    assert message.via_bot is not None and message.via_bot.id == HELPER_BOT
    assert message.reply_markup is not None
    assert message.reply_markup.inline_keyboard[0][0].url == "https://spam.example"
    assert message.quote is not None and message.quote.text == "original"


def test_contact_and_channel_forward(tg: FakeTelegram) -> None:
    contact = {"phone_number": "+15550100", "first_name": "Sales"}
    update = parse(tg.user_message(GROUP, SPAMMER, contact=contact, forward_origin=CHANNEL))
    message = update.message
    assert message is not None and message.contact is not None
    assert message.contact.phone_number == "+15550100"
    assert isinstance(message.forward_origin, MessageOriginChannel)


def test_sender_chat_posts_come_from_telegrams_service_bots(tg: FakeTelegram) -> None:
    anonymous = parse(tg.user_message(GROUP, OWNER, "admin notice", sender_chat=GROUP)).message
    assert anonymous is not None and anonymous.sender_chat is not None
    assert anonymous.sender_chat.id == GROUP
    assert anonymous.from_user is not None
    assert anonymous.from_user.username == "GroupAnonymousBot"
    as_channel = parse(tg.user_message(GROUP, OWNER, "promo", sender_chat=CHANNEL)).message
    assert as_channel is not None and as_channel.from_user is not None
    assert as_channel.from_user.username == "Channel_Bot"


def test_edits_produce_edited_message_updates(tg: FakeTelegram) -> None:
    message_id = tg.user_message(GROUP, SPAMMER, "hello all")["message"]["message_id"]
    update = parse(tg.edit_message(GROUP, message_id, "buy at t.me/spam"))
    assert update.edited_message is not None
    assert update.edited_message.text == "buy at t.me/spam"
    assert update.edited_message.edit_date is not None
    assert update.edited_message.entities[0].type == "url"
    assert tg.messages(GROUP)[0].edited


def test_queued_updates_are_snapshots_and_replies_do_not_nest(tg: FakeTelegram) -> None:
    first = tg.user_message(GROUP, ALICE, "clean")
    first_id = first["message"]["message_id"]
    second = tg.user_message(GROUP, SPAMMER, "re", reply_to=first_id)
    third = tg.user_message(GROUP, ALICE, "re re", reply_to=second["message"]["message_id"])
    tg.edit_message(GROUP, first_id, "now spam t.me/x")
    assert first["message"]["text"] == "clean"
    assert "reply_to_message" not in third["message"]["reply_to_message"]


def test_private_chats_exist_once_the_user_writes_or_starts(tg: FakeTelegram) -> None:
    assert parse(tg.private_message(ALICE, "hi bot")).message is not None
    assert ALICE in tg.started
    tg.add_chat(SPAMMER, "private")
    assert SPAMMER in tg.started and tg.chats[SPAMMER].type == "private"


def test_join_produces_chat_member_and_service_message(tg: FakeTelegram) -> None:
    member_update, message_update = (parse(u) for u in tg.join(GROUP, ALICE))
    change = member_update.chat_member
    assert change is not None
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")
    assert message_update.message is not None
    assert [u.id for u in message_update.message.new_chat_members] == [ALICE]
    assert tg.status_of(GROUP, ALICE) == "member"
    with pytest.raises(ScriptError):
        tg.join(GROUP, ALICE)


def test_leave_produces_chat_member_and_service_message(tg: FakeTelegram) -> None:
    tg.join(GROUP, ALICE)
    member_update, message_update = (parse(u) for u in tg.leave(GROUP, ALICE))
    assert member_update.chat_member is not None
    assert member_update.chat_member.new_chat_member.status == "left"
    assert message_update.message is not None
    assert message_update.message.left_chat_member is not None
    assert tg.events[-1].kind == EventKind.LEAVE


def test_privacy_mode_hides_plain_group_messages_from_a_non_admin_bot(tg: FakeTelegram) -> None:
    tg.add_chat(-1005, "supergroup", "Open chat")
    sent = tg.handle("sendMessage", {"chat_id": -1005, "text": "I am here"})[1]["result"]
    queued = [
        tg.user_message(-1005, ALICE, "just chatting"),
        tg.user_message(-1005, ALICE, "/rules"),
        tg.user_message(-1005, ALICE, "hey @qunbot_demo_bot"),
        tg.user_message(-1005, ALICE, "thanks", reply_to=sent["message_id"]),
        *tg.join(-1005, SPAMMER),
    ]
    delivered = [u in tg.pending for u in queued]
    assert delivered == [False, True, True, True, False, True]
    tg.can_read_all_group_messages = True
    assert tg.user_message(-1005, ALICE, "now visible") in tg.pending


def test_restricted_banned_and_unknown_users_cannot_post(tg: FakeTelegram) -> None:
    tg.add_member(GROUP, SPAMMER, "restricted")
    with pytest.raises(ScriptError, match="restricted"):
        tg.user_message(GROUP, SPAMMER, "spam")
    tg.add_member(GROUP, SPAMMER, "kicked")
    with pytest.raises(ScriptError, match="kicked"):
        tg.user_message(GROUP, SPAMMER, "spam")
    with pytest.raises(ScriptError):
        tg.join(GROUP, SPAMMER)
    with pytest.raises(ScriptError, match="unknown user"):
        tg.user_message(GROUP, 404, "who am I")


def test_buttons_must_exist_to_be_pressed(tg: FakeTelegram) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Agree", "callback_data": "agree"}]]}
    sent = tg.handle("sendMessage", {"chat_id": GROUP, "text": "Rules", "reply_markup": keyboard})
    message_id = sent[1]["result"]["message_id"]
    query = parse(tg.press_button(GROUP, message_id, ALICE, "agree")).callback_query
    assert query is not None and query.data == "agree"
    assert query.message is not None and query.message.message_id == message_id
    with pytest.raises(ScriptError, match="no button"):
        tg.press_button(GROUP, message_id, ALICE, "disagree")


def test_start_private_with_payload_sends_a_start_command(tg: FakeTelegram) -> None:
    assert tg.start_private(ALICE) is None
    update = tg.start_private(ALICE, payload="complaint-42")
    assert update is not None
    message = parse(update).message
    assert message is not None and message.text == "/start complaint-42"
    assert message.entities[0].type == "bot_command" and message.chat.type == "private"
    with pytest.raises(ScriptError, match="payload"):
        tg.start_private(ALICE, payload="not allowed!")


def test_block_and_bot_added_produce_my_chat_member(tg: FakeTelegram) -> None:
    tg.start_private(ALICE)
    blocked = parse(tg.block_bot(ALICE)).my_chat_member
    assert blocked is not None and blocked.new_chat_member.status == "kicked"
    tg.add_chat(-1006, "supergroup", "New shop", bot_status="left")
    added = parse(tg.bot_added_to_chat(-1006, OWNER)).my_chat_member
    assert added is not None
    assert (added.old_chat_member.status, added.new_chat_member.status) == (
        "left",
        "administrator",
    )
    assert added.from_user.id == OWNER


def test_migration_queues_both_service_messages(tg: FakeTelegram) -> None:
    tg.add_chat(-5, "group", "Small shop")
    tg.add_member(-5, OWNER, "creator")
    notice = parse(tg.migrate_to_supergroup(-5, -1007)).message
    assert notice is not None and notice.migrate_to_chat_id == -1007
    arrival = parse(tg.pending[-1]).message
    assert arrival is not None and arrival.migrate_from_chat_id == -5
    assert tg.status_of(-1007, OWNER) == "creator"
    with pytest.raises(ScriptError, match="migrated"):
        tg.user_message(-5, OWNER, "hello")


def test_channel_posts_and_join_requests(tg: FakeTelegram) -> None:
    tg.add_member(CHANNEL, OWNER, "creator")
    tg.bot_is_admin(CHANNEL)
    post = parse(tg.user_message(CHANNEL, OWNER, "New arrivals"))
    assert post.channel_post is not None and post.channel_post.from_user is None
    request = parse(tg.join_request(GROUP, SPAMMER, bio="cheap stuff")).chat_join_request
    assert request is not None and request.user_chat_id == SPAMMER
    assert request.bio == "cheap stuff"


def test_summary_is_json_and_the_clock_drives_dates(tg: FakeTelegram) -> None:
    update = tg.user_message(GROUP, ALICE, "hi")
    assert update["message"]["date"] == int(T0)
    summary = json.loads(json.dumps(tg.summary()))
    assert summary["chats"][str(GROUP)]["members"][str(ALICE)] == "member"
    assert summary["events"][0]["kind"] == "member_message"


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("<b>a</b><strong>b</strong>", "ab", [("bold", 0, 1), ("bold", 1, 1)]),
        ("<tg-spoiler>x</tg-spoiler>", "x", [("spoiler", 0, 1)]),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        ('<pre><code class="language-py">x</code></pre>', "x", [("pre", 0, 1)]),
        ('<tg-emoji emoji-id="5">👍</tg-emoji>', "👍", [("custom_emoji", 0, 2)]),
        ("&lt;&gt;&amp;&quot;&#33;", '<>&"!', []),
        ("😀<u>u</u>", "😀u", [("underline", 2, 1)]),
    ],
)
def test_html_subset(html: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    parsed_text, parsed = parse_html(html)
    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed] == entities


def test_entity_detection_finds_what_telegram_marks() -> None:
    found = detect_entities("mail me@shop.cn or @alice_shop, #sale https://t.me/x /help")
    assert [e["type"] for e in found] == ["email", "mention", "hashtag", "url", "bot_command"]

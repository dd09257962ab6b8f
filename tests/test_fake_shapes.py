"""Every update shape of ``bot.fake.shapes``, one table row each, as PTB parses it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, Message, Update

from bot.fake import FakeTelegram, ManualClock, ScriptError
from bot.fake.models import CHANNEL_BOT_ID, GROUP_ANONYMOUS_BOT_ID, SERVICE_USER_ID
from bot.fake.shapes import SHAPES, Scene, build_scene, shape

AD = "Cheap followers at fast-likes.example.com"
BOT = Bot("123:ABC")
SHARED_SPEC = (
    Path(__file__).resolve().parents[2] / "shared" / "telegram-bot-api" / "api-botapi-10.0.json"
)


def parse(update: dict[str, Any]) -> Update:
    return Update.de_json(json.loads(json.dumps(update)), BOT)


def only_message(updates: list[Update]) -> Message:
    messages = [u.message for u in updates if u.message is not None]
    assert len(messages) == 1
    return messages[0]


Facts = Callable[[list[Update], Scene], dict[str, Any]]


def sender_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    message = only_message(updates)
    assert message.from_user is not None and message.sender_chat is not None
    return {
        "from": message.from_user.id,
        "sender_chat": message.sender_chat.id,
        "automatic": message.is_automatic_forward,
        "text": message.text,
        "signature": message.author_signature,
    }


def topic_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    message = only_message(updates)
    root = message.reply_to_message
    assert root is not None and root.forum_topic_created is not None
    return {
        "thread": message.message_thread_id,
        "is_topic_message": message.is_topic_message,
        "implicit_reply_to": root.message_id,
        "root_topic_name": root.forum_topic_created.name,
        "forum": message.chat.is_forum,
    }


def album_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    messages = [u.message for u in updates if u.message is not None]
    return {
        "items": len(messages),
        "groups": len({m.media_group_id for m in messages}),
        "captions": [m.caption for m in messages],
        "photos": all(m.photo for m in messages),
    }


def poll_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    poll = only_message(updates).poll
    assert poll is not None
    return {"question": poll.question, "options": [o.text for o in poll.options]}


def checklist_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    checklist = only_message(updates).checklist
    assert checklist is not None
    return {"title": checklist.title, "tasks": [t.text for t in checklist.tasks]}


def story_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    message = only_message(updates)
    assert message.story is not None
    return {
        "story_chat": message.story.chat.id,
        "story_chat_title": message.story.chat.title,
        "text": message.text,
    }


def external_reply_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    message = only_message(updates)
    external = message.external_reply
    assert external is not None and external.chat is not None
    return {
        "origin_chat": external.chat.id,
        "origin_type": external.origin.type,
        "quote": message.quote.text if message.quote else None,
        "reply_to_message": message.reply_to_message,
    }


def bot_added_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    change = next(u.chat_member for u in updates if u.chat_member is not None)
    message = only_message(updates)
    return {
        "added": [(u.id, u.is_bot, u.first_name) for u in message.new_chat_members],
        "message_from": message.from_user.id if message.from_user else None,
        "change_from": change.from_user.id,
        "new_status": change.new_chat_member.status,
    }


def other_bot_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    message = only_message(updates)
    return {"from_bot": message.from_user.is_bot if message.from_user else None}


def migration_facts(updates: list[Update], s: Scene) -> dict[str, Any]:
    old, new, post = (u.message for u in updates)
    assert old is not None and new is not None and post is not None
    return {
        "migrate_to": old.migrate_to_chat_id,
        "old_chat": old.chat.id,
        "migrate_from": new.migrate_from_chat_id,
        "new_chat_type": new.chat.type,
        "ids_in_new_group": [new.message_id, post.message_id],
    }


NEW_GROUP = -1004000000104
ROWS: dict[str, tuple[Facts, dict[str, Any]]] = {
    "channel_post_in_group": (
        sender_facts,
        {
            "from": CHANNEL_BOT_ID,
            "sender_chat": Scene.foreign_channel,
            "automatic": None,
            "text": AD,
            "signature": None,
        },
    ),
    "second_channel_post_in_group": (
        sender_facts,
        {
            "from": CHANNEL_BOT_ID,
            "sender_chat": Scene.second_foreign_channel,
            "automatic": None,
            "text": AD,
            "signature": None,
        },
    ),
    "anonymous_admin": (
        sender_facts,
        {
            "from": GROUP_ANONYMOUS_BOT_ID,
            "sender_chat": Scene.group,
            "automatic": None,
            "text": AD,
            "signature": "staff",
        },
    ),
    "automatic_forward": (
        sender_facts,
        {
            "from": SERVICE_USER_ID,
            "sender_chat": Scene.channel,
            "automatic": True,
            "text": AD,
            "signature": None,
        },
    ),
    "topic_message_implicit_reply": (
        topic_facts,
        {
            "thread": 1,
            "is_topic_message": True,
            "implicit_reply_to": 1,
            "root_topic_name": "Orders",
            "forum": True,
        },
    ),
    "album": (
        album_facts,
        {"items": 3, "groups": 1, "captions": [AD, None, None], "photos": True},
    ),
    "poll_question": (poll_facts, {"question": AD, "options": ["Yes", "No"]}),
    "poll_option": (poll_facts, {"question": "Best shop?", "options": ["Ours", AD]}),
    "checklist": (checklist_facts, {"title": "To do", "tasks": ["Pay", AD]}),
    "story_share": (
        story_facts,
        {"story_chat": Scene.second_foreign_channel, "story_chat_title": AD, "text": None},
    ),
    "external_reply_with_quote": (
        external_reply_facts,
        {
            "origin_chat": Scene.foreign_channel,
            "origin_type": "channel",
            "quote": AD,
            "reply_to_message": None,
        },
    ),
    "external_reply_without_quote": (
        external_reply_facts,
        {
            "origin_chat": Scene.foreign_channel,
            "origin_type": "channel",
            "quote": None,
            "reply_to_message": None,
        },
    ),
    "bot_added_by_member": (
        bot_added_facts,
        {
            "added": [(Scene.other_bot, True, AD)],
            "message_from": Scene.spammer,
            "change_from": Scene.spammer,
            "new_status": "member",
        },
    ),
    "other_bot_message": (other_bot_facts, {"from_bot": True}),
    "migration": (
        migration_facts,
        {
            "migrate_to": NEW_GROUP,
            "old_chat": Scene.basic_group,
            "migrate_from": Scene.basic_group,
            "new_chat_type": "supergroup",
            "ids_in_new_group": [1, 2],
        },
    ),
}


@pytest.fixture
def world() -> tuple[FakeTelegram, Scene]:
    tg = FakeTelegram(clock=ManualClock())
    return tg, build_scene(tg)


def test_the_table_covers_every_shape() -> None:
    assert [row.name for row in SHAPES] == list(ROWS)


@pytest.mark.parametrize("name", list(ROWS))
def test_each_shape_arrives_as_telegram_sends_it(
    world: tuple[FakeTelegram, Scene], name: str
) -> None:
    tg, scene = world
    row = shape(name)
    built = row.build(tg, scene, AD)
    pending = {u["update_id"] for u in tg.pending}
    delivered = [parse(u) for u in built if u["update_id"] in pending]
    seen_in = row.seen_in(scene)
    chats = {u.effective_chat.id for u in delivered if u.effective_chat is not None}
    assert chats == seen_in
    if not seen_in:
        delivered = [parse(u) for u in built]
    facts, expected = ROWS[name]
    assert facts(delivered, scene) == expected


def test_a_shape_telegram_would_never_send_is_refused(world: tuple[FakeTelegram, Scene]) -> None:
    tg, scene = world
    with pytest.raises(
        ScriptError, match=re.escape("field Update.message.poll.total_voter_count")
    ):
        tg.user_message(
            scene.group,
            scene.member,
            content={"poll": {"id": "1", "question": "q", "options": []}},
        )
    with pytest.raises(
        ScriptError, match=re.escape("unknown field Update.message.checklist.items")
    ):
        tg.user_message(
            scene.group,
            scene.member,
            content={"checklist": {"title": "t", "tasks": [], "items": []}},
        )


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda tg, s: shape("nope"), "unknown shape 'nope'"),
        (lambda tg, s: tg.user_message(s.group, SERVICE_USER_ID, "x"), "pseudo-user"),
        (lambda tg, s: tg.add_member(s.group, CHANNEL_BOT_ID), "pseudo-user"),
        (
            lambda tg, s: tg.user_message(s.group, s.member, "x", sender_chat=s.group),
            "only administrators",
        ),
        (
            lambda tg, s: tg.user_message(s.group, s.member, "x", sender_chat=s.basic_group),
            "on behalf of a channel",
        ),
        (lambda tg, s: tg.user_message(s.group, s.member, "x", thread=s.topic), "has no topic"),
        (lambda tg, s: tg.create_topic(s.group, s.admin, "x"), "is not a forum"),
    ],
)
def test_impossible_scenes_are_script_errors(
    world: tuple[FakeTelegram, Scene], call: Callable[[FakeTelegram, Scene], Any], error: str
) -> None:
    tg, scene = world
    with pytest.raises(ScriptError, match=error):
        call(tg, scene)

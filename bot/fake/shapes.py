"""Update shapes written the way Telegram delivers them, one builder per shape.

Each builder scripts one scene on a ``FakeTelegram`` and returns the updates it queued, in
order (some are queued but not delivered to the bot, as Telegram would not deliver them).
``SHAPES`` lists every shape as a table row over a standard ``Scene``, with the text an ad
would hide in, so table tests of the fake and of the bot can share one list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.fake.models import JSON, ScriptError
from bot.fake.state import FakeTelegram

MAX_CHAT_TITLE = 128
MAX_USER_NAME = 64


# ------------------------------------------------------------------------ builders


def channel_post_in_group(
    tg: FakeTelegram, group_id: int, channel_id: int, owner_id: int, text: str
) -> list[JSON]:
    """A member posts as their channel: ``from`` is Channel_Bot, ``sender_chat`` the channel."""
    return [tg.user_message(group_id, owner_id, text, sender_chat=channel_id)]


def anonymous_admin_message(
    tg: FakeTelegram, group_id: int, admin_id: int, text: str
) -> list[JSON]:
    """An administrator posts as the group: ``sender_chat`` is the group itself and ``from`` is
    GroupAnonymousBot."""
    return [tg.user_message(group_id, admin_id, text, sender_chat=group_id)]


def automatic_forward(tg: FakeTelegram, channel_id: int, admin_id: int, text: str) -> list[JSON]:
    """A post in the group's linked channel: the ``channel_post``, then its automatic forward
    into the discussion group (``from`` 777000, ``is_automatic_forward``)."""
    return tg.channel_post(channel_id, admin_id, text)


def topic_message(
    tg: FakeTelegram,
    forum_id: int,
    user_id: int,
    thread: int,
    text: str,
    *,
    reply_to: int | None = None,
) -> list[JSON]:
    """A message in a forum topic; Telegram makes it reply to the topic's creation message
    when the member replied to nothing."""
    return [tg.user_message(forum_id, user_id, text, thread=thread, reply_to=reply_to)]


def album(
    tg: FakeTelegram,
    chat_id: int,
    user_id: int,
    caption: str,
    *,
    size: int = 3,
    thread: int | None = None,
) -> list[JSON]:
    """A media group: ``size`` photos sharing ``media_group_id``; only the first has the
    caption."""
    if not 2 <= size <= 10:
        raise ScriptError("an album holds 2 to 10 items")
    group_id = f"album{tg.next_update_id}"
    return [
        tg.user_message(
            chat_id,
            user_id,
            caption=caption if index == 0 else None,
            photo=True,
            media_group_id=group_id,
            thread=thread,
        )
        for index in range(size)
    ]


def poll_message(
    tg: FakeTelegram, chat_id: int, user_id: int, question: str, options: Sequence[str]
) -> list[JSON]:
    """A member sends a regular anonymous poll."""
    if not 2 <= len(options) <= 12:
        raise ScriptError("a poll has 2 to 12 options")
    poll: JSON = {
        "id": f"poll{tg.next_update_id}",
        "question": question,
        "options": [
            {"persistent_id": str(index), "text": text, "voter_count": 0}
            for index, text in enumerate(options)
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": True,
        "members_only": False,
    }
    return [tg.user_message(chat_id, user_id, content={"poll": poll})]


def checklist_message(
    tg: FakeTelegram, chat_id: int, user_id: int, title: str, tasks: Sequence[str]
) -> list[JSON]:
    """A member sends a checklist (a title and numbered tasks)."""
    checklist: JSON = {
        "title": title,
        "tasks": [{"id": index + 1, "text": text} for index, text in enumerate(tasks)],
    }
    return [tg.user_message(chat_id, user_id, content={"checklist": checklist})]


def story_share(
    tg: FakeTelegram, chat_id: int, user_id: int, story_chat_id: int, story_id: int
) -> list[JSON]:
    """A member shares another chat's story: the message holds only ``story`` (chat and id)."""
    story = {"chat": tg.chat(story_chat_id).to_api(), "id": story_id}
    return [tg.user_message(chat_id, user_id, content={"story": story})]


def external_reply(
    tg: FakeTelegram,
    chat_id: int,
    user_id: int,
    text: str,
    source_chat_id: int,
    source_message_id: int,
    *,
    quote: str | None = None,
) -> list[JSON]:
    """A reply to a message in another chat: ``external_reply`` names where it came from, and
    ``quote`` carries the quoted part of its text, if the member quoted."""
    source_chat = tg.chat(source_chat_id)
    source = tg.stored(source_chat, source_message_id)
    origin: JSON = {
        "type": "channel",
        "chat": source_chat.to_api(),
        "message_id": source.message_id,
        "date": source.data["date"],
    }
    info: JSON = {"origin": origin, "chat": source_chat.to_api(), "message_id": source_message_id}
    content: JSON = {"external_reply": info}
    if quote is not None:
        if quote not in source.text:
            raise ScriptError("a quote is a part of the replied message's text")
        position = source.text.index(quote)
        content["quote"] = {"text": quote, "position": position, "is_manual": True}
    return [tg.user_message(chat_id, user_id, text, content=content)]


def bot_added_by_member(
    tg: FakeTelegram, chat_id: int, bot_id: int, by_user_id: int
) -> list[JSON]:
    """A member adds another bot: ``chat_member`` and ``new_chat_members``, both from the
    member."""
    if not tg.user(bot_id).is_bot:
        raise ScriptError(f"user {bot_id} is not a bot")
    return tg.invite_member(chat_id, bot_id, by_user_id)


def other_bot_message(tg: FakeTelegram, chat_id: int, bot_id: int, text: str) -> list[JSON]:
    """Another bot posts in the group; Telegram never delivers it to our bot."""
    if not tg.user(bot_id).is_bot:
        raise ScriptError(f"user {bot_id} is not a bot")
    return [tg.user_message(chat_id, bot_id, text)]


def migration(tg: FakeTelegram, old_id: int, new_id: int | None = None) -> list[JSON]:
    """A basic group becomes a supergroup: ``migrate_to_chat_id`` in the old group, then
    ``migrate_from_chat_id`` as message 1 of the new one."""
    first = tg.migrate_to_supergroup(old_id, new_id)
    second = tg.updates[tg.updates.index(first) + 1]
    return [first, second]


# ------------------------------------------------------------------ the shape table


@dataclass(frozen=True)
class Scene:
    """The ids of a standard world: a shop's group with its linked channel, a forum with a
    topic, a basic group, foreign channels owned by a spammer, and another bot."""

    group: int = -1001000000101
    channel: int = -1001000000102
    forum: int = -1001000000103
    basic_group: int = -4000000104
    foreign_channel: int = -1001000000201
    second_foreign_channel: int = -1001000000202
    owner: int = 1101
    admin: int = 1102
    member: int = 1103
    spammer: int = 1201
    other_bot: int = 1301
    topic: int = 0
    foreign_post: int = 0


def build_scene(tg: FakeTelegram, *, bot_admin: bool = True) -> Scene:
    """Creates the standard world on ``tg`` and returns its ids (topic and post included)."""
    ids = Scene()
    tg.add_user(ids.owner, "Olga", "olga_shop")
    tg.add_user(ids.admin, "Ada", "ada_staff")
    tg.add_user(ids.member, "Mei", "mei_buyer")
    tg.add_user(ids.spammer, "Sam", "sam_deals")
    tg.add_user(ids.other_bot, "Helper", "helper_tools_bot", is_bot=True)
    for channel, title in (
        (ids.foreign_channel, "Deals Daily"),
        (ids.second_foreign_channel, "More Deals"),
    ):
        tg.add_chat(channel, "channel", title, f"deals{abs(channel) % 1000}", bot_status="left")
        tg.add_member(channel, ids.spammer, "creator")
    tg.add_chat(ids.channel, "channel", "Shop news", "shop_news")
    tg.add_member(ids.channel, ids.owner, "creator")
    tg.make_admin(ids.channel, ids.admin, can_post_messages=True)
    tg.add_chat(ids.group, "supergroup", "Shop", "shop_chat", linked_chat_id=ids.channel)
    tg.add_chat(ids.forum, "supergroup", "Shop forum", is_forum=True)
    tg.add_chat(ids.basic_group, "group", "Old shop group")
    for chat in (ids.group, ids.forum, ids.basic_group):
        tg.add_member(chat, ids.owner, "creator")
        tg.make_admin(chat, ids.admin, custom_title="staff", can_manage_topics=True)
        tg.add_member(chat, ids.member)
        tg.add_member(chat, ids.spammer)
        if bot_admin:
            tg.bot_is_admin(chat, can_manage_topics=True)
    topic = tg.create_topic(ids.forum, ids.admin, "Orders")["message"]["message_id"]
    post = tg.user_message(ids.foreign_channel, ids.spammer, "Deals Daily: new arrivals")
    return Scene(topic=topic, foreign_post=post["channel_post"]["message_id"])


ShapeBuilder = Callable[[FakeTelegram, Scene, str], list[JSON]]


@dataclass(frozen=True)
class ShapeRow:
    """One shape of the table: how to build it in a scene with ``text`` where an ad would be,
    and the chats the bot is shown it in (none if Telegram never delivers it)."""

    name: str
    build: ShapeBuilder
    seen_in: Callable[[Scene], frozenset[int]]


def _migrated_then_posted(tg: FakeTelegram, s: Scene, text: str) -> list[JSON]:
    updates = migration(tg, s.basic_group)
    new_id = int(updates[1]["message"]["chat"]["id"])
    return [*updates, tg.user_message(new_id, s.member, text)]


def _both_groups(s: Scene) -> frozenset[int]:
    return frozenset({s.basic_group, int(f"-100{abs(s.basic_group)}")})


SHAPES: tuple[ShapeRow, ...] = (
    ShapeRow(
        "channel_post_in_group",
        lambda tg, s, text: channel_post_in_group(tg, s.group, s.foreign_channel, s.spammer, text),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "second_channel_post_in_group",
        lambda tg, s, text: channel_post_in_group(
            tg, s.group, s.second_foreign_channel, s.spammer, text
        ),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "anonymous_admin",
        lambda tg, s, text: anonymous_admin_message(tg, s.group, s.admin, text),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "automatic_forward",
        lambda tg, s, text: automatic_forward(tg, s.channel, s.admin, text),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "topic_message_implicit_reply",
        lambda tg, s, text: topic_message(tg, s.forum, s.spammer, s.topic, text),
        lambda s: frozenset({s.forum}),
    ),
    ShapeRow(
        "album",
        lambda tg, s, text: album(tg, s.group, s.spammer, text),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "poll_question",
        lambda tg, s, text: poll_message(tg, s.group, s.spammer, text, ["Yes", "No"]),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "poll_option",
        lambda tg, s, text: poll_message(tg, s.group, s.spammer, "Best shop?", ["Ours", text]),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "checklist",
        lambda tg, s, text: checklist_message(tg, s.group, s.spammer, "To do", ["Pay", text]),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "story_share",
        lambda tg, s, text: _story_from_channel_named(tg, s, text),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "external_reply_with_quote",
        lambda tg, s, text: _external_reply_quoting(tg, s, text),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "external_reply_without_quote",
        lambda tg, s, text: external_reply(
            tg, s.group, s.spammer, "see this", s.foreign_channel, s.foreign_post
        ),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "bot_added_by_member",
        lambda tg, s, text: _bot_named(tg, s, text),
        lambda s: frozenset({s.group}),
    ),
    ShapeRow(
        "other_bot_message",
        lambda tg, s, text: other_bot_message(tg, s.group, s.other_bot, text),
        lambda s: frozenset(),
    ),
    ShapeRow("migration", _migrated_then_posted, _both_groups),
)


def _story_from_channel_named(tg: FakeTelegram, s: Scene, text: str) -> list[JSON]:
    tg.chat(s.second_foreign_channel).title = text[:MAX_CHAT_TITLE]
    return story_share(tg, s.group, s.spammer, s.second_foreign_channel, 7)


def _external_reply_quoting(tg: FakeTelegram, s: Scene, text: str) -> list[JSON]:
    post = tg.user_message(s.foreign_channel, s.spammer, f"Today: {text}")
    post_id = int(post["channel_post"]["message_id"])
    return external_reply(
        tg, s.group, s.spammer, "so true", s.foreign_channel, post_id, quote=text
    )


def _bot_named(tg: FakeTelegram, s: Scene, text: str) -> list[JSON]:
    tg.users[s.other_bot].first_name = text[:MAX_USER_NAME]
    return bot_added_by_member(tg, s.group, s.other_bot, s.spammer)


def shape(name: str) -> ShapeRow:
    """The table row called ``name``."""
    for row in SHAPES:
        if row.name == name:
            return row
    raise ScriptError(f"unknown shape {name!r}; known: {', '.join(r.name for r in SHAPES)}")

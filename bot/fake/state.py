"""The fake Telegram: scripting API, update producers and call dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
from collections.abc import Mapping
from dataclasses import asdict, replace
from http import HTTPStatus
from typing import Any

from bot.fake.markup import detect_entities
from bot.fake.methods import METHODS
from bot.fake.models import (
    ADMIN_RIGHTS,
    CHAT_PERMISSIONS,
    JSON,
    MEMBER_STATUSES,
    MODERATOR_RIGHTS,
    PSEUDO_USER_IDS,
    ApiError,
    EventKind,
    FakeChat,
    FakeEvent,
    FakeUser,
    InviteLink,
    Member,
    RecordedCall,
    ScriptError,
    StoredMessage,
    bad_request,
)
from bot.fake.world import (
    CHANNEL_BOT,
    GROUP_ANONYMOUS_BOT,
    SERVICE_USER,
    CallbackQuery,
    World,
)

__all__ = ["CallbackQuery", "FakeTelegram"]

FORWARDED_CONTENT = frozenset(
    {"text", "entities", "caption", "caption_entities", "photo", "media_group_id", "poll"}
)
CONTENT_LABELS = (
    ("photo", "[photo]"),
    ("contact", "[contact]"),
    ("poll", "[poll]"),
    ("checklist", "[checklist]"),
    ("story", "[story]"),
)

ApiResponse = tuple[int, JSON]
PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class FakeTelegram(World):
    """The fake Telegram for one bot: script scenes, then answer the bot's calls."""

    # ----------------------------------------------------------------- scripting API

    def add_user(
        self,
        id: int,
        first_name: str,
        username: str | None = None,
        is_bot: bool = False,
        *,
        last_name: str | None = None,
    ) -> JSON:
        """Registers an account and returns its ``User`` object."""
        self.users[id] = FakeUser(id, first_name, username, is_bot, last_name)
        return self.users[id].to_api()

    def add_chat(
        self,
        id: int,
        type: str,
        title: str | None = None,
        username: str | None = None,
        *,
        linked_chat_id: int | None = None,
        description: str | None = None,
        bot_status: str = "member",
        is_forum: bool = False,
    ) -> JSON:
        """Creates a chat; a private one means the user started the bot.

        In groups and channels the bot starts with ``bot_status`` (``member`` by default). A
        discussion group names its channel with ``linked_chat_id``; the channel links back.
        """
        if type not in ("private", "group", "supergroup", "channel"):
            raise ScriptError(f"unknown chat type {type!r}")
        if is_forum and type != "supergroup":
            raise ScriptError("only supergroups can be forums")
        if type == "private":
            self.start_private(id)
            return self.chats[id].to_api()
        chat = FakeChat(id, type, title, username, linked_chat_id, description, is_forum=is_forum)
        self.chats[id] = chat
        chat.members[self.bot.id] = Member(self.bot.id, bot_status)
        linked = self.chats.get(linked_chat_id) if linked_chat_id else None
        if linked is not None:
            linked.linked_chat_id = id
        return chat.to_api()

    def status_of(self, chat_id: int, user_id: int) -> str:
        """The user's status string in the chat (creator, member, kicked ...)."""
        return self.member(chat_id, user_id).status

    def add_member(
        self,
        chat_id: int,
        user_id: int,
        status: str = "member",
        *,
        until_date: int = 0,
        permissions: Mapping[str, bool] | None = None,
    ) -> Member:
        """Puts a user in a chat with a status, silently (no update is produced)."""
        if status not in MEMBER_STATUSES:
            raise ScriptError(f"unknown status {status!r}")
        _require_real_user(user_id)
        self.user(user_id)
        if status == "administrator":
            return self.make_admin(chat_id, user_id)
        member = Member(user_id, status, until_date=until_date)
        if status == "restricted":
            member.permissions = dict.fromkeys(CHAT_PERMISSIONS, False) | dict(permissions or {})
        self.chat(chat_id).members[user_id] = member
        return member

    def make_admin(
        self, chat_id: int, user_id: int, *, custom_title: str | None = None, **rights: bool
    ) -> Member:
        """Makes a user an administrator with moderator rights, overridden by ``rights``."""
        _require_real_user(user_id)
        granted = dict.fromkeys(MODERATOR_RIGHTS, True) | _checked_rights(rights)
        member = Member(user_id, "administrator", rights=granted, custom_title=custom_title)
        self.chat(chat_id).members[self.user(user_id).id] = member
        return member

    def set_bot_rights(self, chat_id: int, **rights: bool) -> Member:
        """Makes the bot an administrator with exactly ``rights`` (plus can_manage_chat)."""
        granted = {"can_manage_chat": True} | _checked_rights(rights)
        member = Member(self.bot.id, "administrator", rights=granted)
        self.chat(chat_id).members[self.bot.id] = member
        return member

    def bot_is_admin(self, chat_id: int, **rights: bool) -> Member:
        """Makes the bot an administrator with moderator rights, overridden by ``rights``."""
        return self.set_bot_rights(chat_id, **(dict.fromkeys(MODERATOR_RIGHTS, True) | rights))

    def start_private(self, user_id: int, payload: str | None = None) -> JSON | None:
        """Records that the user started the bot; with a payload, queues ``/start payload``."""
        user = self.user(user_id)
        self.started.add(user_id)
        self.blocked.discard(user_id)
        self.private_chat(user)
        self.log(EventKind.STARTED, user_id, user_id, payload or "")
        if payload is None:
            return None
        if not PAYLOAD_RE.fullmatch(payload):
            raise ScriptError("a deep-link payload is 1-64 characters of A-Za-z0-9_-")
        return self.user_message(user_id, user_id, f"/start {payload}")

    def block_bot(self, user_id: int) -> JSON:
        """The user blocks the bot: later sends fail with 403; queues ``my_chat_member``."""
        user = self.user(user_id)
        chat = self.private_chat(user)
        self.blocked.add(user_id)
        self.log(EventKind.BLOCKED, user_id, user_id)
        bot = self.bot.to_api()
        change = self.member_change(chat, user, Member(self.bot.id, "member"), bot)
        change["new_chat_member"] = Member(self.bot.id, "kicked").to_api(bot)
        return self.queue("my_chat_member", change)

    def migrate_to_supergroup(
        self, old_id: int, new_id: int | None = None, *, by_user_id: int | None = None
    ) -> JSON:
        """Upgrades a basic group; calls to ``old_id`` then fail with ``migrate_to_chat_id``.

        Telegram gives the supergroup a new id and starts its message ids from 1 again. The
        bot first gets a ``my_chat_member`` of its own for the supergroup (from "left" to its
        standing in the group, nothing saying it is the same group), and never one saying it
        left the old group. Then the old group gets ``migrate_to_chat_id`` and the new one
        ``migrate_from_chat_id``, both from the member who upgraded it (the owner unless
        ``by_user_id`` says otherwise). Returns the old group's update; the new group's follows
        it.
        """
        old = self.chat(old_id)
        if old.type != "group":
            raise ScriptError("only basic groups migrate to supergroups")
        new_id = new_id if new_id is not None else int(f"-100{abs(old_id)}")
        if new_id in self.chats:
            raise ScriptError(f"chat {new_id} already exists")
        new = replace(
            copy.deepcopy(old), id=new_id, type="supergroup", messages={}, next_message_id=1
        )
        new.pinned = []
        self.chats[new_id] = new
        upgrader = by_user_id if by_user_id is not None else old.creator_id()
        if upgrader is not None and not self.member_of(old, upgrader).is_admin:
            raise ScriptError(f"user {upgrader} is not an administrator of {old_id}")
        sender = self.users[upgrader].to_api() if upgrader is not None else None
        if self.bot_member(old).present and upgrader is not None:
            joined = self.member_change(
                new, self.users[upgrader], Member(self.bot.id, "left"), self.bot.to_api()
            )
            self.queue("my_chat_member", joined)
        notice = self.new_message(old, sender, {"migrate_to_chat_id": new_id})
        old.migrated_to = new_id
        self.log(EventKind.MIGRATED, old_id, upgrader or 0, detail=f"now {new_id}")
        update = self.queue("message", notice.data, deliver=self.bot_member(old).present)
        arrival = self.new_message(new, sender, {"migrate_from_chat_id": old_id})
        self.queue("message", arrival.data, deliver=self.bot_member(new).present)
        return update

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Makes the next ``times`` well-formed calls of ``method`` fail with ``status``."""
        name = self.spec.canonical(method.replace("_", ""))
        if name is None:
            raise ScriptError(f"unknown Bot API method {method!r}")
        if status == 429 and retry_after is None:
            retry_after = 3
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else HTTPStatus(status).phrase
            )
        extra = {"retry_after": retry_after} if retry_after is not None else {}
        self._failures.setdefault(name, []).extend(
            ApiError(status, description, **extra) for _ in range(times)
        )

    def failures_pending(self, method: str) -> int:
        """How many scripted failures of ``method`` are still waiting to be served."""
        name = self.spec.canonical(method.replace("_", ""))
        return len(self._failures.get(name or method, []))

    # ------------------------------------------------------------- update producers

    def user_message(
        self,
        chat_id: int,
        user_id: int,
        text: str = "",
        *,
        entities: list[JSON] | None = None,
        caption: str | None = None,
        photo: bool = False,
        reply_to: int | None = None,
        forward_origin: JSON | int | None = None,
        via_bot: JSON | int | None = None,
        reply_markup: JSON | None = None,
        sender_chat: JSON | int | None = None,
        contact: JSON | None = None,
        quote: JSON | str | None = None,
        thread: int | None = None,
        media_group_id: str | None = None,
        content: JSON | None = None,
    ) -> JSON:
        """A user (or a chat, via ``sender_chat``) posts; returns the ``message`` update.

        ``thread`` posts in a forum topic, ``media_group_id`` makes the message one item of an
        album, and ``content`` adds other ``Message`` fields (``poll``, ``checklist``,
        ``story``, ``external_reply`` ...), which the ``Update`` check holds to the spec.
        """
        chat, user = self.chat(chat_id), self.user(user_id)
        body = self._message_content(text, entities, caption, photo)
        body.update(copy.deepcopy(content or {}))
        if sender_chat is not None:
            sender: JSON | None = self._sender_chat_identity(chat, user, sender_chat, body)
        else:
            _require_real_user(user_id)
            self._require_can_post(chat, user, photo=photo)
            sender = user.to_api()
        body.update(self._thread_fields(chat, thread, reply_to))
        extras: JSON = {
            "forward_origin": self._origin(forward_origin),
            "via_bot": self.user(via_bot).to_api() if isinstance(via_bot, int) else via_bot,
            "reply_markup": reply_markup,
            "contact": contact,
            "quote": {"text": quote, "position": 0} if isinstance(quote, str) else quote,
            "media_group_id": media_group_id,
        }
        body.update({k: v for k, v in extras.items() if v is not None})
        if chat.type == "channel":
            sender = None
            body["sender_chat"] = chat.to_api()
        message = self.new_message(chat, sender, body)
        self.log(
            EventKind.MEMBER_MESSAGE,
            chat.id,
            user_id,
            _label(message),
            message_id=message.message_id,
            detail=_thread_detail(message),
        )
        key = "channel_post" if chat.type == "channel" else "message"
        return self.queue(key, message.data, deliver=self.bot_sees(chat, message.data))

    def channel_post(self, channel_id: int, user_id: int, text: str, **options: Any) -> list[JSON]:
        """An admin posts in a channel: the ``channel_post`` update, then one automatic forward
        per discussion group linked to it (``from`` 777000, ``is_automatic_forward``)."""
        channel = self.chat(channel_id)
        if channel.type != "channel":
            raise ScriptError(f"chat {channel_id} is not a channel")
        post = self.user_message(channel_id, user_id, text, **options)
        stored = self.stored(channel, post["channel_post"]["message_id"])
        updates = [post]
        for group in self._discussion_groups(channel):
            updates.append(self._automatic_forward(group, channel, stored))
        return updates

    def create_topic(
        self, chat_id: int, user_id: int, name: str, *, icon_color: int = 0x6FB9F0
    ) -> JSON:
        """A member opens a forum topic; its thread id is the creation message's id."""
        chat, user = self.chat(chat_id), self.user(user_id)
        if not chat.is_forum:
            raise ScriptError(f"chat {chat_id} is not a forum")
        self._require_can_post(chat, user, photo=False)
        message = self.open_topic(chat, user, name, icon_color)
        return self.queue("message", message.data, deliver=self.bot_sees(chat, message.data))

    def invite_member(self, chat_id: int, user_id: int, by_user_id: int) -> list[JSON]:
        """A member adds someone (a person or another bot) to the group.

        Returns [``chat_member`` update, ``new_chat_members`` message update], both from the
        member who added them, as Telegram sends them.
        """
        chat, user, adder = self.chat(chat_id), self.user(user_id), self.user(by_user_id)
        _require_real_user(user_id)
        member = self.member_of(chat, by_user_id)
        if not member.present:
            raise ScriptError(f"user {by_user_id} is not in {chat_id}")
        if not (member.is_admin or chat.permissions.get("can_invite_users")):
            raise ScriptError(f"user {by_user_id} may not add members to {chat_id}")
        if self.member_of(chat, user_id).present:
            raise ScriptError(f"user {user_id} is already in {chat_id}")
        return self.admit(chat, user, link=None, actor=adder)

    def private_message(self, user_id: int, text: str) -> JSON:
        """The user writes to the bot in their private chat (which starts it)."""
        self.private_chat(self.user(user_id))
        return self.user_message(user_id, user_id, text)

    def edit_message(
        self, chat_id: int, message_id: int, new_text: str, entities: list[JSON] | None = None
    ) -> JSON:
        """A user edits their message (spam often arrives this way); ``edited_message``."""
        chat = self.chat(chat_id)
        message = self.stored(chat, message_id)
        text_key, entities_key = (
            ("caption", "caption_entities") if "caption" in message.data else ("text", "entities")
        )
        message.data[text_key] = new_text
        found = detect_entities(new_text) if entities is None else entities
        message.data.pop(entities_key, None)
        if found:
            message.data[entities_key] = found
        message.data["edit_date"] = self.now()
        actor = message.sender_id or 0
        self.log(EventKind.MEMBER_EDIT, chat.id, actor, new_text, message_id=message_id)
        key = "edited_channel_post" if chat.type == "channel" else "edited_message"
        return self.queue(key, message.data, deliver=self.bot_sees(chat, message.data))

    def join(self, chat_id: int, user_id: int, *, via_link: str | None = None) -> list[JSON]:
        """A user joins: returns [``chat_member`` update, ``new_chat_members`` message update].

        A link that requires approval produces a ``chat_join_request`` update instead.
        """
        chat, user = self.chat(chat_id), self.user(user_id)
        member = self.member_of(chat, user_id)
        if member.status == "kicked":
            raise ScriptError(f"user {user_id} is banned from {chat_id}")
        if member.present:
            raise ScriptError(f"user {user_id} is already in {chat_id}")
        link = self._usable_link(chat, via_link) if via_link else None
        if link and link.creates_join_request:
            return [self.join_request(chat_id, user_id, via_link=via_link)]
        if link:
            link.usage += 1
        return self.admit(chat, user, link=link, actor=user)

    def join_request(
        self, chat_id: int, user_id: int, *, via_link: str | None = None, bio: str | None = None
    ) -> JSON:
        """A user asks to join; the bot may message them for 5 minutes (``user_chat_id``)."""
        chat, user = self.chat(chat_id), self.user(user_id)
        chat.join_requests[user_id] = self.now()
        self.dm_window_until[user_id] = self.now() + 300
        request: JSON = {
            "chat": chat.to_api(),
            "from": user.to_api(),
            "user_chat_id": user_id,
            "date": self.now(),
        }
        if via_link:
            link = self._usable_link(chat, via_link)
            request["invite_link"] = link.to_api(self.users[link.creator_id].to_api())
        if bio:
            request["bio"] = bio
        self.log(EventKind.JOIN_REQUEST, chat.id, user_id)
        bot = self.bot_member(chat)
        return self.queue("chat_join_request", request, deliver=bot.has_right("can_invite_users"))

    def leave(self, chat_id: int, user_id: int) -> list[JSON]:
        """A user leaves: returns [``chat_member`` update, ``left_chat_member`` message update]."""
        chat, user = self.chat(chat_id), self.user(user_id)
        old = self.member_of(chat, user_id)
        if not old.present:
            raise ScriptError(f"user {user_id} is not in {chat_id}")
        chat.members[user_id] = Member(user_id, "left")
        self.log(EventKind.LEAVE, chat.id, user_id)
        change = self.member_change(chat, user, old, user.to_api())
        message = self.new_message(chat, user.to_api(), {"left_chat_member": user.to_api()})
        return [
            self.queue("chat_member", change, deliver=self.bot_member(chat).is_admin),
            self.queue("message", message.data, deliver=self.bot_member(chat).present),
        ]

    def press_button(self, chat_id: int, message_id: int, user_id: int, data: str) -> JSON:
        """A user presses an inline button whose ``callback_data`` is ``data``."""
        chat, user = self.chat(chat_id), self.user(user_id)
        message = self.stored(chat, message_id)
        rows = (message.data.get("reply_markup") or {}).get("inline_keyboard", [])
        labels = [b["text"] for row in rows for b in row if b.get("callback_data") == data]
        if not labels:
            raise ScriptError(f"message {message_id} has no button with callback_data {data!r}")
        query_id = str(len(self.callback_queries) + 1)
        self.callback_queries[query_id] = CallbackQuery(user_id, chat.id, message_id, data)
        self.log(EventKind.BUTTON_PRESS, chat.id, user_id, labels[0], message_id=message_id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": message.data,
            "chat_instance": f"fake{abs(chat.id)}",
            "data": data,
        }
        return self.queue("callback_query", query)

    def bot_added_to_chat(self, chat_id: int, by_user_id: int, *, admin: bool = True) -> JSON:
        """Someone adds the bot to a chat; returns the ``my_chat_member`` update."""
        chat, by_user = self.chat(chat_id), self.user(by_user_id)
        old = self.bot_member(chat)
        if admin:
            self.bot_is_admin(chat_id)
        else:
            chat.members[self.bot.id] = Member(self.bot.id, "member")
        self.log(EventKind.BOT_ADDED, chat.id, by_user_id, detail="admin" if admin else "member")
        change = self.member_change(chat, by_user, old, self.bot.to_api())
        return self.queue("my_chat_member", change)

    def bot_removed_from_chat(self, chat_id: int, by_user_id: int) -> JSON:
        """An admin removes the bot from a chat; returns the ``my_chat_member`` update."""
        chat, by_user = self.chat(chat_id), self.user(by_user_id)
        old = self.bot_member(chat)
        chat.members[self.bot.id] = Member(self.bot.id, "kicked")
        self.log(EventKind.BOT_LEFT, chat.id, by_user_id)
        change = self.member_change(chat, by_user, old, self.bot.to_api())
        return self.queue("my_chat_member", change)

    def bot_rights_changed(self, chat_id: int, by_user_id: int, **rights: bool) -> JSON:
        """An admin edits the bot's admin rights (``rights`` override moderator rights);
        returns the ``my_chat_member`` update."""
        chat, by_user = self.chat(chat_id), self.user(by_user_id)
        old = self.bot_member(chat)
        self.bot_is_admin(chat_id, **rights)
        change = self.member_change(chat, by_user, old, self.bot.to_api())
        return self.queue("my_chat_member", change)

    # --------------------------------------------------------- assertions and views

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Calls of one method; ``sendMessage``, ``sendmessage`` and ``send_message`` match."""
        wanted = method.replace("_", "").lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def events_of(self, kind: EventKind | str) -> list[FakeEvent]:
        """Events of one kind, in order."""
        return [e for e in self.events if e.kind == kind]

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        """Messages in a chat, oldest first."""
        chat = self.chats[chat_id]
        return list(chat.messages.values()) if include_deleted else chat.live_messages()

    def bot_messages(self, chat_id: int) -> list[StoredMessage]:
        """Live messages the bot sent to a chat."""
        return [m for m in self.messages(chat_id) if m.sender_id == self.bot.id]

    def is_deleted(self, chat_id: int, message_id: int) -> bool:
        """Whether a stored message has been deleted."""
        return self.chats[chat_id].messages[message_id].deleted

    def summary(self) -> JSON:
        """A JSON view of the world: chats with members, events, pending updates, calls."""
        chats = {
            str(chat.id): {
                "type": chat.type,
                "title": chat.title,
                "migrated_to": chat.migrated_to,
                "members": {str(u): self.member_of(chat, u).status for u in chat.members},
                "messages": len(chat.live_messages()),
                "deleted": [m.message_id for m in chat.messages.values() if m.deleted],
            }
            for chat in self.chats.values()
        }
        return {
            "bot": self.bot.to_api(),
            "chats": chats,
            "events": [asdict(e) for e in self.events],
            "pending_updates": len(self.pending),
            "calls": [{"method": c.method, "status": c.status} for c in self.calls],
        }

    # ----------------------------------------------------------------- dispatch

    def handle(self, method: str, params: Mapping[str, Any]) -> ApiResponse:
        """Answers one Bot API call as Telegram would: (HTTP status, JSON body)."""
        name = self.spec.canonical(method)
        if name is None:
            return self._record(method, params, ApiError(404, "Not Found"))
        problems = self.spec.validate(name, params)
        if problems:
            return self._record(name, params, bad_request("; ".join(problems)))
        if self._failures.get(name):
            return self._record(name, params, self._failures[name].pop(0))
        implementation = METHODS.get(name)
        if implementation is None:
            error = ApiError(501, f"Not Implemented: the fake Telegram has no {name}")
            return self._record(name, params, error)
        try:
            result = implementation(self, dict(params))
        except ApiError as error:
            return self._record(name, params, error)
        return self._record(name, params, result)

    async def handle_async(self, method: str, params: Mapping[str, Any]) -> ApiResponse:
        """Like ``handle``, but ``getUpdates`` waits up to ``timeout`` s for an update."""
        polling = self.spec.canonical(method) == "getUpdates" and self.webhook is None
        if polling and not self.spec.validate(method, params):
            # Telegram confirms the offset as the call arrives, not when the long poll ends.
            offset = self.effective_offset(int(params.get("offset", 0)))
            if offset > 0:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
            await self._wait_for_updates(params)
        return self.handle(method, params)

    @property
    def pollers_waiting(self) -> int:
        """How many ``getUpdates`` calls are waiting for an update right now."""
        return len(self._pollers)

    async def wait_for_poller(self) -> None:
        """Returns once a ``getUpdates`` call is waiting, e.g. before scripting a scene."""
        while not self._pollers:
            self._poller_arrived = asyncio.Event()
            await self._poller_arrived.wait()

    def release_pollers(self) -> None:
        """Wakes every waiting ``getUpdates`` so servers can shut down promptly."""
        for event in self._pollers:
            event.set()

    def _record(self, method: str, params: Mapping[str, Any], outcome: Any) -> ApiResponse:
        if isinstance(outcome, ApiError):
            call = RecordedCall(method, dict(params), outcome.status, outcome.description)
            self.calls.append(call)
            return outcome.status, outcome.to_body()
        self.calls.append(RecordedCall(method, dict(params), 200))
        return 200, {"ok": True, "result": outcome}

    async def _wait_for_updates(self, params: Mapping[str, Any]) -> None:
        timeout = params.get("timeout", 0)
        allowed = params.get("allowed_updates", self.allowed_updates)
        if timeout <= 0 or self.deliverable(params.get("offset", 0), allowed):
            return
        event = asyncio.Event()
        self._pollers.add(event)
        if self._poller_arrived is not None:
            self._poller_arrived.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            self._pollers.discard(event)

    def _require_can_post(self, chat: FakeChat, user: FakeUser, *, photo: bool) -> None:
        if chat.type == "private":
            self.started.add(user.id)
            self.blocked.discard(user.id)
            return
        member = self.member_of(chat, user.id)
        if member.status == "left" and user.id not in chat.members:
            chat.members[user.id] = member = Member(user.id, "member")
        if not member.present:
            raise ScriptError(f"user {user.id} is {member.status} in chat {chat.id}")
        if chat.type == "channel" and not member.is_admin:
            raise ScriptError("only channel administrators post in a channel")
        right = "can_send_photos" if photo else "can_send_messages"
        if member.status == "restricted" and not member.permissions.get(right):
            raise ScriptError(f"user {user.id} is restricted ({right}) in chat {chat.id}")
        if member.status == "member" and not chat.permissions.get(right):
            raise ScriptError(f"members may not {right} in chat {chat.id}")

    def _sender_chat_identity(
        self, chat: FakeChat, user: FakeUser, sender_chat: JSON | int, body: JSON
    ) -> JSON:
        """Who ``from`` names when ``user`` posts on behalf of a chat, checked like Telegram."""
        identity = self._chat_ref(sender_chat)
        body["sender_chat"] = identity
        if identity["id"] == chat.id:
            member = self.member_of(chat, user.id)
            if not member.is_admin:
                raise ScriptError(f"only administrators post anonymously in {chat.id}")
            if member.custom_title:
                body["author_signature"] = member.custom_title
            return GROUP_ANONYMOUS_BOT.to_api()
        if identity["type"] != "channel":
            raise ScriptError("members post on behalf of a channel or, anonymously, the group")
        if self.sender_chat_banned(chat, identity["id"]):
            raise ScriptError(f"sender chat {identity['id']} is banned in {chat.id}")
        return CHANNEL_BOT.to_api()

    def _thread_fields(self, chat: FakeChat, thread: int | None, reply_to: int | None) -> JSON:
        replied = self.stored(chat, reply_to) if reply_to is not None else None
        if thread is None and replied is not None and replied.data.get("is_topic_message"):
            thread = int(replied.data["message_thread_id"])
        if thread is None:
            return {"reply_to_message": replied.as_reply()} if replied else {}
        if thread not in chat.topics:
            raise ScriptError(f"chat {chat.id} has no topic {thread}")
        if replied is not None and replied.data.get("message_thread_id") != thread:
            raise ScriptError(f"message {reply_to} is not in topic {thread}")
        return self.topic_fields(chat, thread, replied)

    def _discussion_groups(self, channel: FakeChat) -> list[FakeChat]:
        return [
            c
            for c in self.chats.values()
            if c.type == "supergroup" and c.linked_chat_id == channel.id and c.migrated_to is None
        ]

    def _automatic_forward(self, group: FakeChat, channel: FakeChat, post: StoredMessage) -> JSON:
        content = {k: copy.deepcopy(v) for k, v in post.data.items() if k in FORWARDED_CONTENT}
        content["sender_chat"] = channel.to_api()
        content["is_automatic_forward"] = True
        content["forward_origin"] = {
            "type": "channel",
            "chat": channel.to_api(),
            "message_id": post.message_id,
            "date": post.data["date"],
        }
        message = self.new_message(group, SERVICE_USER.to_api(), content)
        self.log(
            EventKind.MEMBER_MESSAGE,
            group.id,
            SERVICE_USER.id,
            _label(message),
            message_id=message.message_id,
            detail=f"automatic forward from {channel.id}",
        )
        return self.queue("message", message.data, deliver=self.bot_sees(group, message.data))

    def _message_content(
        self, text: str, entities: list[JSON] | None, caption: str | None, photo: bool
    ) -> JSON:
        if photo:
            body = caption if caption is not None else text
            content: JSON = {"photo": _photo_sizes(f"user{len(self.updates)}")}
            if body:
                content["caption"] = body
                found = detect_entities(body) if entities is None else entities
                if found:
                    content["caption_entities"] = found
            return content
        found = detect_entities(text) if entities is None else entities
        content = {"text": text} if text else {}
        if text and found:
            content["entities"] = found
        return content

    def _chat_ref(self, chat: JSON | int) -> JSON:
        return self.chat(chat).to_api() if isinstance(chat, int) else chat

    def _origin(self, origin: JSON | int | None) -> JSON | None:
        if not isinstance(origin, int):
            return origin
        if origin in self.chats and self.chats[origin].type == "channel":
            channel = self.chats[origin].to_api()
            return {"type": "channel", "chat": channel, "message_id": 1, "date": self.now()}
        return {"type": "user", "sender_user": self.user(origin).to_api(), "date": self.now()}

    def _usable_link(self, chat: FakeChat, url: str) -> InviteLink:
        link = chat.invite_links.get(url)
        if link is None or link.is_revoked:
            raise ScriptError(f"invite link {url} is unknown or revoked")
        if link.expire_date and link.expire_date <= self.now():
            raise ScriptError(f"invite link {url} has expired")
        if link.member_limit and link.usage >= link.member_limit:
            raise ScriptError(f"invite link {url} has reached its member limit")
        return link


def _require_real_user(user_id: int) -> None:
    if user_id in PSEUDO_USER_IDS:
        raise ScriptError(
            f"user {user_id} is a Telegram pseudo-user: it is never a member and never posts "
            "by itself (use sender_chat or channel_post)"
        )


def _label(message: StoredMessage) -> str:
    data = message.data
    if message.text:
        return message.text
    for key, label in CONTENT_LABELS:
        if key in data:
            return label
    return ""


def _thread_detail(message: StoredMessage) -> str:
    thread = message.data.get("message_thread_id")
    return f"topic {thread}" if message.data.get("is_topic_message") else ""


def _checked_rights(rights: Mapping[str, bool]) -> dict[str, bool]:
    unknown = set(rights) - set(ADMIN_RIGHTS)
    if unknown:
        raise ScriptError(f"unknown administrator rights: {sorted(unknown)}")
    return dict(rights)


def _photo_sizes(seed: str) -> list[JSON]:
    return [
        {"file_id": f"{seed}-{w}", "file_unique_id": f"{seed}{w}", "width": w, "height": w}
        for w in (90, 320, 800)
    ]

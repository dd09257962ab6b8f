"""The fake Telegram's state: scripting API, update producers and call dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
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
    forbidden,
)
from bot.fake.spec import ApiSpec, load_spec

ApiResponse = tuple[int, JSON]
GROUP_ANONYMOUS_BOT = FakeUser(1087968824, "Group", "GroupAnonymousBot", is_bot=True)
CHANNEL_BOT = FakeUser(136817688, "Channel", "Channel_Bot", is_bot=True)
SERVICE_KEYS = frozenset(
    {"new_chat_members", "left_chat_member", "migrate_to_chat_id", "migrate_from_chat_id"}
)
# Telegram sends these only to bots that asked for them by name in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
FOREVER_BELOW = 30
FOREVER_ABOVE = 366 * 86400
PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass
class CallbackQuery:
    """A button press waiting for ``answerCallbackQuery``."""

    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: JSON | None = None


class FakeTelegram:
    """A stateful, transport-free Telegram for one bot: chats, members, messages, updates."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        bot_id: int = 7000000001,
        bot_username: str = "qunbot_demo_bot",
        bot_name: str = "Qunbot Demo",
        can_read_all_group_messages: bool = False,
        spec: ApiSpec | None = None,
    ) -> None:
        """Creates an empty world holding only the bot; ``clock`` returns unix seconds."""
        self.clock = clock
        self.spec = spec or load_spec()
        self.bot = FakeUser(bot_id, bot_name, bot_username, is_bot=True)
        self.can_read_all_group_messages = can_read_all_group_messages
        self.users: dict[int, FakeUser] = {bot_id: self.bot}
        self.chats: dict[int, FakeChat] = {}
        self.started: set[int] = set()
        self.blocked: set[int] = set()
        self.dm_window_until: dict[int, int] = {}
        self.commands: dict[str, list[JSON]] = {}
        self.default_admin_rights: dict[bool, JSON] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.events: list[FakeEvent] = []
        self.calls: list[RecordedCall] = []
        self.updates: list[JSON] = []
        self.pending: list[JSON] = []
        self.allowed_updates: list[str] = []
        self._next_update_id = 1
        self._next_link = 1
        self._failures: dict[str, list[ApiError]] = {}
        self._pollers: set[asyncio.Event] = set()
        self._poller_arrived: asyncio.Event | None = None

    # ----------------------------------------------------------------- scripting API

    def now(self) -> int:
        """The fake clock as a unix timestamp."""
        return int(self.clock())

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
    ) -> JSON:
        """Creates a chat; a private one means the user started the bot.

        In groups and channels the bot starts with ``bot_status`` (``member`` by default).
        """
        if type not in ("private", "group", "supergroup", "channel"):
            raise ScriptError(f"unknown chat type {type!r}")
        if type == "private":
            self.start_private(id)
            return self.chats[id].to_api()
        chat = FakeChat(id, type, title, username, linked_chat_id, description)
        self.chats[id] = chat
        chat.members[self.bot.id] = Member(self.bot.id, bot_status)
        return chat.to_api()

    def user(self, user_id: int) -> FakeUser:
        """Returns a registered user."""
        if user_id not in self.users:
            raise ScriptError(f"unknown user {user_id}: call add_user first")
        return self.users[user_id]

    def chat(self, chat_id: int) -> FakeChat:
        """Returns a chat for scripting; a migrated group is refused."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ScriptError(f"unknown chat {chat_id}: call add_chat first")
        if chat.migrated_to is not None:
            raise ScriptError(f"chat {chat_id} migrated to {chat.migrated_to}")
        return chat

    def member(self, chat_id: int, user_id: int) -> Member:
        """Returns a user's current standing (expired bans and restrictions lifted)."""
        return self.member_of(self.chat(chat_id), user_id)

    def member_of(self, chat: FakeChat, user_id: int) -> Member:
        """Like ``member`` for a chat object, without the migration check."""
        member = chat.members.get(user_id) or Member(user_id, "left")
        if member.status in ("kicked", "restricted") and 0 < member.until_date <= self.now():
            member = Member(user_id, "member" if member.present else "left")
            chat.members[user_id] = member
        return member

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
        self._private_chat(user)
        self.log(EventKind.STARTED, user_id, user_id, payload or "")
        if payload is None:
            return None
        if not PAYLOAD_RE.fullmatch(payload):
            raise ScriptError("a deep-link payload is 1-64 characters of A-Za-z0-9_-")
        return self.user_message(user_id, user_id, f"/start {payload}")

    def block_bot(self, user_id: int) -> JSON:
        """The user blocks the bot: later sends fail with 403; queues ``my_chat_member``."""
        user = self.user(user_id)
        chat = self._private_chat(user)
        self.blocked.add(user_id)
        self.log(EventKind.BLOCKED, user_id, user_id)
        bot = self.bot.to_api()
        change = self.member_change(chat, user, Member(self.bot.id, "member"), bot)
        change["new_chat_member"] = Member(self.bot.id, "kicked").to_api(bot)
        return self.queue("my_chat_member", change)

    def migrate_to_supergroup(self, old_id: int, new_id: int) -> JSON:
        """Upgrades a basic group; calls to ``old_id`` then fail with ``migrate_to_chat_id``."""
        old = self.chat(old_id)
        if old.type != "group":
            raise ScriptError("only basic groups migrate to supergroups")
        new = replace(
            copy.deepcopy(old), id=new_id, type="supergroup", messages={}, next_message_id=1
        )
        new.pinned = []
        self.chats[new_id] = new
        creator = next((m.user_id for m in old.members.values() if m.status == "creator"), None)
        sender = self.users[creator].to_api() if creator else None
        notice = self.new_message(old, sender, {"migrate_to_chat_id": new_id})
        old.migrated_to = new_id
        self.log(EventKind.MIGRATED, old_id, creator or 0, detail=f"now {new_id}")
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
    ) -> JSON:
        """A user (or a chat, via ``sender_chat``) posts; returns the ``message`` update."""
        chat, user = self.chat(chat_id), self.user(user_id)
        sender: JSON | None = user.to_api()
        content = self._message_content(text, entities, caption, photo)
        if sender_chat is not None:
            content["sender_chat"] = self._chat_ref(sender_chat)
            anonymous = content["sender_chat"]["id"] == chat.id
            sender = (GROUP_ANONYMOUS_BOT if anonymous else CHANNEL_BOT).to_api()
        else:
            self._require_can_post(chat, user, photo=photo)
        if reply_to is not None:
            content["reply_to_message"] = self.stored(chat, reply_to).as_reply()
        extras: JSON = {
            "forward_origin": self._origin(forward_origin),
            "via_bot": self.user(via_bot).to_api() if isinstance(via_bot, int) else via_bot,
            "reply_markup": reply_markup,
            "contact": contact,
            "quote": {"text": quote, "position": 0} if isinstance(quote, str) else quote,
        }
        content.update({k: v for k, v in extras.items() if v is not None})
        if chat.type == "channel":
            sender = None
        message = self.new_message(chat, sender, content)
        label = message.text or ("[photo]" if photo else "[contact]" if contact else "")
        self.log(EventKind.MEMBER_MESSAGE, chat.id, user_id, label, message_id=message.message_id)
        key = "channel_post" if chat.type == "channel" else "message"
        return self.queue(key, message.data, deliver=self._bot_sees(chat, message.data))

    def private_message(self, user_id: int, text: str) -> JSON:
        """The user writes to the bot in their private chat (which starts it)."""
        self._private_chat(self.user(user_id))
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
        return self.queue(key, message.data, deliver=self._bot_sees(chat, message.data))

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
        if self.spec.canonical(method) == "getUpdates" and not self.spec.validate(method, params):
            # Telegram confirms the offset as the call arrives, not when the long poll ends.
            offset = int(params.get("offset", 0))
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

    # ------------------------------------------------ helpers for method implementations

    def queue(self, key: str, payload: JSON, *, deliver: bool = True) -> JSON:
        """Wraps a payload in an update; queues it for ``getUpdates`` if the bot gets it."""
        update = {"update_id": self._next_update_id, key: copy.deepcopy(payload)}
        self._next_update_id += 1
        self.updates.append(update)
        if deliver:
            self.pending.append(update)
            for event in self._pollers:
                event.set()
        return update

    def deliverable(self, offset: int, allowed: list[str]) -> list[JSON]:
        """Pending updates at or after ``offset`` that ``allowed_updates`` lets through."""
        return [
            u
            for u in self.pending
            if u["update_id"] >= offset and _allowed(_update_kind(u), allowed)
        ]

    def confirm(self, offset: int) -> None:
        """Forgets updates before ``offset`` (a negative one keeps the last ``-offset``)."""
        if offset < 0:
            self.pending = self.pending[offset:]
        elif offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        self.pending = [u for u in self.pending if _allowed(_update_kind(u), self.allowed_updates)]

    def log(
        self,
        kind: EventKind,
        chat_id: int,
        actor: int,
        text: str = "",
        *,
        target: int | None = None,
        message_id: int | None = None,
        buttons: tuple[str, ...] = (),
        detail: str = "",
    ) -> None:
        """Appends an event to the transcript log."""
        event = FakeEvent(
            self.clock(), chat_id, actor, kind, text, target, message_id, buttons, detail
        )
        self.events.append(event)

    def new_message(self, chat: FakeChat, sender: JSON | None, content: JSON) -> StoredMessage:
        """Stores a new message in a chat and returns it."""
        data: JSON = {
            "message_id": chat.next_message_id,
            "date": self.now(),
            "chat": chat.to_api(),
        }
        if sender is not None:
            data["from"] = sender
        data.update(content)
        chat.next_message_id += 1
        message = StoredMessage(data)
        chat.messages[message.message_id] = message
        return message

    def stored(self, chat: FakeChat, message_id: int) -> StoredMessage:
        """A live message, for scripting (raises ``ScriptError`` if absent)."""
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise ScriptError(f"no message {message_id} in chat {chat.id}")
        return message

    def bot_member(self, chat: FakeChat) -> Member:
        """The bot's own standing in a chat."""
        return self.member_of(chat, self.bot.id)

    def resolve_chat(self, chat_id: int | str, *, for_sending: bool = False) -> FakeChat:
        """Finds the chat a call names, failing like Telegram (not found, migrated, 403)."""
        chat = self._lookup_chat(chat_id)
        if chat is None:
            if for_sending and isinstance(chat_id, int) and chat_id in self.users:
                return self._open_private(chat_id)
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrated_to,
            )
        if chat.type == "private":
            self._require_private_open(chat.id, for_sending=for_sending)
        else:
            self._require_bot_present(chat)
        return chat

    def admit(
        self, chat: FakeChat, user: FakeUser, *, link: InviteLink | None, actor: FakeUser
    ) -> list[JSON]:
        """Adds a user to a chat, with the ``chat_member`` and service message updates."""
        old = self.member_of(chat, user.id)
        if old.status == "restricted":
            new = replace(old, is_member=True)
        else:
            new = Member(user.id, "member")
        chat.members[user.id] = new
        self.log(EventKind.JOIN, chat.id, user.id, detail=link.invite_link if link else "")
        change = self.member_change(chat, actor, old, user.to_api())
        if link is not None:
            change["invite_link"] = link.to_api(self.users[link.creator_id].to_api())
        message = self.new_message(chat, actor.to_api(), {"new_chat_members": [user.to_api()]})
        return [
            self.queue("chat_member", change, deliver=self.bot_member(chat).is_admin),
            self.queue("message", message.data, deliver=self.bot_member(chat).present),
        ]

    def until(self, until_date: int | None) -> int:
        """Telegram's reading of ``until_date``: under 30 s or over 366 days means forever."""
        if not until_date:
            return 0
        ahead = until_date - self.now()
        return 0 if ahead < FOREVER_BELOW or ahead > FOREVER_ABOVE else until_date

    def new_link_name(self, chat: FakeChat) -> str:
        """A fresh invite link URL."""
        self._next_link += 1
        return f"https://t.me/+fake{abs(chat.id)}x{self._next_link:04d}"

    def user_api(self, user_id: int) -> JSON:
        """The ``User`` object of a known user."""
        if user_id not in self.users:
            raise bad_request("user not found")
        return self.users[user_id].to_api()

    # ------------------------------------------------------------------ internals

    def _lookup_chat(self, chat_id: int | str) -> FakeChat | None:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            wanted = chat_id[1:].lower()
            return next(
                (c for c in self.chats.values() if (c.username or "").lower() == wanted), None
            )
        try:
            return self.chats.get(int(chat_id))
        except ValueError:
            return None

    def _require_private_open(self, user_id: int, *, for_sending: bool) -> None:
        if not for_sending:
            return
        if self.users[user_id].is_bot:
            raise forbidden("bot can't send messages to bots")
        if user_id in self.blocked:
            raise forbidden("bot was blocked by the user")
        in_window = self.dm_window_until.get(user_id, 0) > self.now()
        if user_id not in self.started and not in_window:
            raise forbidden("bot can't initiate conversation with a user")

    def _open_private(self, user_id: int) -> FakeChat:
        self._require_private_open(user_id, for_sending=True)
        return self._private_chat(self.users[user_id])

    def _require_bot_present(self, chat: FakeChat) -> None:
        bot = self.bot_member(chat)
        if bot.status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if not bot.present:
            raise forbidden(f"bot is not a member of the {chat.type} chat")

    def _private_chat(self, user: FakeUser) -> FakeChat:
        if user.id not in self.chats:
            self.chats[user.id] = FakeChat(user.id, "private", user.first_name, user.username)
        return self.chats[user.id]

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

    def member_change(self, chat: FakeChat, actor: FakeUser, old: Member, user: JSON) -> JSON:
        new = chat.members.get(old.user_id) or Member(old.user_id, "left")
        return {
            "chat": chat.to_api(),
            "from": actor.to_api(),
            "date": self.now(),
            "old_chat_member": old.to_api(user),
            "new_chat_member": new.to_api(user),
        }

    def _bot_sees(self, chat: FakeChat, data: JSON) -> bool:
        if chat.type == "private":
            return True
        bot = self.bot_member(chat)
        if not bot.present:
            return False
        if chat.type == "channel":
            return bot.is_admin
        if bot.is_admin or self.can_read_all_group_messages:
            return True
        if SERVICE_KEYS & data.keys():
            return True
        text = str(data.get("text") or data.get("caption") or "")
        replied = (data.get("reply_to_message") or {}).get("from") or {}
        mentioned = f"@{self.bot.username}".lower() in text.lower()
        return text.startswith("/") or mentioned or replied.get("id") == self.bot.id


def _checked_rights(rights: Mapping[str, bool]) -> dict[str, bool]:
    unknown = set(rights) - set(ADMIN_RIGHTS)
    if unknown:
        raise ScriptError(f"unknown administrator rights: {sorted(unknown)}")
    return dict(rights)


def _update_kind(update: JSON) -> str:
    return next(k for k in update if k != "update_id")


def _allowed(kind: str, allowed: list[str]) -> bool:
    return kind in allowed if allowed else kind not in OPT_IN_UPDATES


def _photo_sizes(seed: str) -> list[JSON]:
    return [
        {"file_id": f"{seed}-{w}", "file_unique_id": f"{seed}{w}", "width": w, "height": w}
        for w in (90, 320, 800)
    ]

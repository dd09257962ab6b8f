"""The fake Telegram's world: its state and the helpers both Bot API methods and scenes use.

``FakeTelegram`` (the scripting API and call dispatch, in ``state``) builds on ``World``; the
Bot API method implementations take a ``World``, so neither module needs the other's name.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.fake.models import (
    CHANNEL_BOT_ID,
    GROUP_ANONYMOUS_BOT_ID,
    JSON,
    PSEUDO_USER_IDS,
    SERVICE_USER_ID,
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
    Topic,
    Webhook,
    bad_request,
    forbidden,
)
from bot.fake.spec import ApiSpec, load_spec

GROUP_ANONYMOUS_BOT = FakeUser(GROUP_ANONYMOUS_BOT_ID, "Group", "GroupAnonymousBot", is_bot=True)
CHANNEL_BOT = FakeUser(CHANNEL_BOT_ID, "Channel", "Channel_Bot", is_bot=True)
SERVICE_USER = FakeUser(SERVICE_USER_ID, "Telegram")
PSEUDO_USERS = (SERVICE_USER, CHANNEL_BOT, GROUP_ANONYMOUS_BOT)
SERVICE_KEYS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "forum_topic_created",
    }
)
# Telegram sends these only to bots that asked for them by name in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
FOREVER_BELOW = 30
FOREVER_ABOVE = 366 * 86400
# After this long without an update Telegram may number the next one from a random value.
UPDATE_ID_RESTART_AFTER = 7 * 86400
# An offset this far past the newest update is "in the future": Telegram serves from the head.
FUTURE_OFFSET_SLACK = 10


@dataclass
class CallbackQuery:
    """A button press waiting for ``answerCallbackQuery``."""

    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: JSON | None = None


class World:
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
        self.users.update({pseudo.id: pseudo for pseudo in PSEUDO_USERS})
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
        self.webhook: Webhook | None = None
        self._next_update_id = 1
        self._last_update_at: float | None = None
        self._next_link = 1
        self._failures: dict[str, list[ApiError]] = {}
        self._pollers: set[asyncio.Event] = set()
        self._poller_arrived: asyncio.Event | None = None
        self._listeners: set[asyncio.Event] = set()

    def now(self) -> int:
        """The fake clock as a unix timestamp."""
        return int(self.clock())

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

    # ------------------------------------------------ helpers for method implementations

    def queue(self, key: str, payload: JSON, *, deliver: bool = True) -> JSON:
        """Wraps a payload in an update; queues it for ``getUpdates`` if the bot gets it.

        Every update is checked against the Bot API ``Update`` type, so a scene cannot hand the
        bot a shape Telegram would never send.
        """
        update = {"update_id": self._next_update_id, key: copy.deepcopy(payload)}
        problems = self.spec.validate_object("Update", update)
        if problems:
            raise ScriptError(f"not a Bot API Update: {'; '.join(problems)}")
        self._next_update_id += 1
        self._last_update_at = self.clock()
        self.updates.append(update)
        if deliver:
            self.pending.append(update)
            self.wake_listeners()
        return update

    def wake_listeners(self) -> None:
        """Tells long polls and the webhook deliverer that something changed."""
        for event in self._pollers | self._listeners:
            event.set()

    def listen(self) -> asyncio.Event:
        """An event set whenever an update is queued (for a webhook deliverer)."""
        event = asyncio.Event()
        self._listeners.add(event)
        return event

    def unlisten(self, event: asyncio.Event) -> None:
        """Stops waking ``event``."""
        self._listeners.discard(event)

    def restart_update_ids(
        self, rng: random.Random | None = None, *, start: int | None = None
    ) -> int:
        """After a week without updates, numbers the next update from a random lower value.

        Telegram documents that ``update_id`` may restart randomly after a week of silence;
        this lets a test show a bot that it must not drop updates by id alone. The new start
        lies far enough below the old numbering that a poller's old offset reads as "in the
        future" (as Telegram's queue treats it) rather than confirming the new updates away.
        ``start`` picks the value instead of ``rng``. Returns the id the next update carries.
        """
        quiet_since = self._last_update_at
        if quiet_since is not None and self.clock() - quiet_since < UPDATE_ID_RESTART_AFTER:
            raise ScriptError("update ids restart only after a week without updates")
        highest = self._next_update_id - 2 - FUTURE_OFFSET_SLACK
        if highest < 1:
            raise ScriptError(
                f"number more than {FUTURE_OFFSET_SLACK + 2} updates before restarting lower"
            )
        if start is not None and not 1 <= start <= highest:
            raise ScriptError(f"a restart starts between 1 and {highest}")
        self._next_update_id = start or (rng or random.Random()).randint(1, highest)
        return self._next_update_id

    @property
    def next_update_id(self) -> int:
        """The id the next queued update will carry."""
        return self._next_update_id

    def effective_offset(self, offset: int) -> int:
        """The offset Telegram acts on: one far past the newest update means "from the head".

        This is what makes a poller that kept an offset from before a restart of the numbering
        still receive the new, lower-numbered updates.
        """
        if offset > self._next_update_id + FUTURE_OFFSET_SLACK:
            return 0
        return offset

    def deliverable(self, offset: int, allowed: list[str]) -> list[JSON]:
        """Pending updates at or after ``offset`` that ``allowed_updates`` lets through."""
        offset = self.effective_offset(offset)
        return [
            u
            for u in self.pending
            if u["update_id"] >= offset and _allowed(_update_kind(u), allowed)
        ]

    def confirm(self, offset: int) -> None:
        """Forgets updates before ``offset`` (a negative one keeps the last ``-offset``)."""
        offset = self.effective_offset(offset)
        if offset < 0:
            self.pending = self.pending[offset:]
        elif offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        self.pending = [u for u in self.pending if _allowed(_update_kind(u), self.allowed_updates)]

    def allowed(self, update: JSON) -> bool:
        """Whether the current ``allowed_updates`` lets this update through."""
        return _allowed(_update_kind(update), self.allowed_updates)

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
            self.require_private_open(chat.id, for_sending=for_sending)
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

    def sender_chat_banned(self, chat: FakeChat, sender_chat_id: int) -> bool:
        """Whether posts on behalf of this chat are refused in ``chat``.

        Telegram: until a banned channel is unbanned, its owner cannot post on behalf of any
        of their channels.
        """
        if sender_chat_id in chat.banned_sender_chats:
            return True
        owner = self._owner_of(sender_chat_id)
        return owner is not None and any(
            self._owner_of(banned) == owner for banned in chat.banned_sender_chats
        )

    def open_topic(
        self, chat: FakeChat, creator: FakeUser, name: str, icon_color: int
    ) -> StoredMessage:
        """Creates a forum topic with its creation service message (the topic's root)."""
        thread = chat.next_message_id
        content: JSON = {
            "message_thread_id": thread,
            "forum_topic_created": {"name": name, "icon_color": icon_color},
            "is_topic_message": True,
        }
        message = self.new_message(chat, creator.to_api(), content)
        chat.topics[thread] = Topic(thread, name, icon_color)
        self.log(EventKind.TOPIC_CREATED, chat.id, creator.id, name, message_id=thread)
        return message

    def topic_fields(self, chat: FakeChat, thread: int, replied: StoredMessage | None) -> JSON:
        """The fields of a message in a topic: Telegram makes it reply to the topic's root
        when the sender replied to nothing."""
        target = replied if replied is not None else chat.messages[thread]
        return {
            "message_thread_id": thread,
            "is_topic_message": True,
            "reply_to_message": target.as_reply(),
        }

    # ------------------------------------------------------------------ internals

    def _owner_of(self, chat_id: int) -> int | None:
        chat = self.chats.get(chat_id)
        return chat.creator_id() if chat is not None else None

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

    def require_private_open(self, user_id: int, *, for_sending: bool) -> None:
        """Refuses to send where Telegram answers 403 (bots, blocked, never started)."""
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
        self.require_private_open(user_id, for_sending=True)
        return self.private_chat(self.users[user_id])

    def _require_bot_present(self, chat: FakeChat) -> None:
        bot = self.bot_member(chat)
        if bot.status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if not bot.present:
            raise forbidden(f"bot is not a member of the {chat.type} chat")

    def private_chat(self, user: FakeUser) -> FakeChat:
        """The user's private chat with the bot, created on first use."""
        if user.id not in self.chats:
            self.chats[user.id] = FakeChat(user.id, "private", user.first_name, user.username)
        return self.chats[user.id]

    def member_change(self, chat: FakeChat, actor: FakeUser, old: Member, user: JSON) -> JSON:
        """A ``ChatMemberUpdated`` from ``old`` to the user's current standing."""
        new = chat.members.get(old.user_id) or Member(old.user_id, "left")
        return {
            "chat": chat.to_api(),
            "from": actor.to_api(),
            "date": self.now(),
            "old_chat_member": old.to_api(user),
            "new_chat_member": new.to_api(user),
        }

    def bot_sees(self, chat: FakeChat, data: JSON) -> bool:
        """Whether Telegram delivers this message to the bot (privacy mode, other bots)."""
        if chat.type == "private":
            return True
        bot = self.bot_member(chat)
        if not bot.present or self._from_another_bot(data):
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

    def _from_another_bot(self, data: JSON) -> bool:
        # Bots never see other bots' messages; Telegram's pseudo-users are not "other bots".
        sender = data.get("from") or {}
        sender_id = sender.get("id")
        return bool(sender.get("is_bot")) and sender_id not in PSEUDO_USER_IDS | {self.bot.id}


def _update_kind(update: JSON) -> str:
    return next(k for k in update if k != "update_id")


def _allowed(kind: str, allowed: list[str]) -> bool:
    return kind in allowed if allowed else kind not in OPT_IN_UPDATES

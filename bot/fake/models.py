"""Records held by the fake Telegram, and their Bot API JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.fake.spec import load_spec

JSON = dict[str, Any]

_SPEC = load_spec()
ADMIN_RIGHTS = tuple(n for n in _SPEC.types["ChatAdministratorRights"] if n != "is_anonymous")
MODERATOR_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_restrict_members",
    "can_invite_users",
    "can_pin_messages",
)
CHAT_PERMISSIONS = tuple(_SPEC.types["ChatPermissions"])
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
PRESENT_STATUSES = frozenset({"creator", "administrator", "member"})
# Telegram's pseudo-users: they appear in ``from`` but are never members of a chat.
SERVICE_USER_ID = 777000
CHANNEL_BOT_ID = 136817688
GROUP_ANONYMOUS_BOT_ID = 1087968824
PSEUDO_USER_IDS = frozenset({SERVICE_USER_ID, CHANNEL_BOT_ID, GROUP_ANONYMOUS_BOT_ID})


@dataclass
class ManualClock:
    """A clock that moves only when told: ``FakeTelegram(clock=ManualClock())``."""

    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        """Returns the current fake unix time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Moves time forward."""
        self.now += seconds


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional response parameters."""

    def __init__(self, status: int, description: str, **parameters: int) -> None:
        """Builds the error; ``parameters`` become the ``ResponseParameters`` object."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_body(self) -> JSON:
        """Returns the JSON body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 answer, worded like Telegram's."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """A 403 answer, worded like Telegram's."""
    return ApiError(403, f"Forbidden: {reason}")


class ScriptError(ValueError):
    """A scripted scene asked for something impossible (unknown chat, banned user posting)."""


class EventKind(StrEnum):
    """What happened, for transcripts: member activity first, then bot actions."""

    MEMBER_MESSAGE = "member_message"
    MEMBER_EDIT = "member_edit"
    JOIN = "join"
    LEAVE = "leave"
    JOIN_REQUEST = "join_request"
    BUTTON_PRESS = "button_press"
    STARTED = "started"
    BLOCKED = "blocked"
    BOT_ADDED = "bot_added"
    MIGRATED = "migrated"
    BOT_MESSAGE = "bot_message"
    BOT_EDIT = "bot_edit"
    DELETE = "delete"
    BAN = "ban"
    UNBAN = "unban"
    KICK = "kick"
    RESTRICT = "restrict"
    PROMOTE = "promote"
    INVITE_LINK = "invite_link"
    REVOKE_LINK = "revoke_link"
    PIN = "pin"
    UNPIN = "unpin"
    PERMISSIONS = "permissions"
    APPROVE_JOIN = "approve_join"
    DECLINE_JOIN = "decline_join"
    CALLBACK_ANSWER = "callback_answer"
    BOT_LEFT = "bot_left"
    BAN_SENDER_CHAT = "ban_sender_chat"
    UNBAN_SENDER_CHAT = "unban_sender_chat"
    TOPIC_CREATED = "topic_created"
    WEBHOOK_SET = "webhook_set"
    WEBHOOK_DELETED = "webhook_deleted"


@dataclass(frozen=True)
class FakeEvent:
    """One line of the transcript: who did what where, and when (fake clock)."""

    time: float
    chat_id: int
    actor: int
    kind: EventKind
    text: str = ""
    target: int | None = None
    message_id: int | None = None
    buttons: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class RecordedCall:
    """One Bot API call as received: method, decoded parameters, and the answer's status."""

    method: str
    params: dict[str, Any]
    status: int
    description: str | None = None

    @property
    def ok(self) -> bool:
        """Whether Telegram would have answered ``ok: true``."""
        return self.status == 200


@dataclass
class FakeUser:
    """A Telegram account."""

    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False
    last_name: str | None = None

    def to_api(self) -> JSON:
        """Returns the Bot API ``User`` object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class Member:
    """A user's standing in one chat."""

    user_id: int
    status: str
    rights: dict[str, bool] = field(default_factory=dict)
    permissions: dict[str, bool] = field(default_factory=dict)
    until_date: int = 0
    is_member: bool = True
    can_be_edited: bool = False
    custom_title: str | None = None

    @property
    def present(self) -> bool:
        """Whether the user is in the chat (restricted users may or may not be)."""
        return self.status in PRESENT_STATUSES or (self.status == "restricted" and self.is_member)

    @property
    def is_admin(self) -> bool:
        """Creator or administrator."""
        return self.status in ("creator", "administrator")

    def has_right(self, right: str) -> bool:
        """Creators have every right; administrators what they were granted."""
        return self.status == "creator" or bool(self.rights.get(right))

    def to_api(self, user: JSON) -> JSON:
        """Returns the Bot API ``ChatMember`` subtype for this status."""
        data: JSON = {"status": self.status, "user": user}
        if self.status == "creator":
            data["is_anonymous"] = False
        elif self.status == "administrator":
            data.update(can_be_edited=self.can_be_edited, is_anonymous=False)
            data.update({right: bool(self.rights.get(right)) for right in ADMIN_RIGHTS})
        elif self.status == "restricted":
            data["is_member"] = self.is_member
            data.update({p: bool(self.permissions.get(p)) for p in CHAT_PERMISSIONS})
            data["until_date"] = self.until_date
        elif self.status == "kicked":
            data["until_date"] = self.until_date
        if self.custom_title and self.is_admin:
            data["custom_title"] = self.custom_title
        return data


@dataclass
class StoredMessage:
    """A message as the chat holds it; ``data`` is the current Bot API ``Message``."""

    data: JSON
    deleted: bool = False
    pinned: bool = False

    @property
    def message_id(self) -> int:
        """Identifier inside its chat."""
        return int(self.data["message_id"])

    @property
    def sender_id(self) -> int | None:
        """The sending user's id, if any."""
        sender = self.data.get("from")
        return int(sender["id"]) if sender else None

    @property
    def text(self) -> str:
        """Text or caption."""
        return str(self.data.get("text", self.data.get("caption", "")))

    def as_reply(self) -> JSON:
        """The message as ``reply_to_message`` shows it: one level, no nested reply."""
        return {k: v for k, v in self.data.items() if k != "reply_to_message"}

    @property
    def edited(self) -> bool:
        """Whether the message was edited."""
        return "edit_date" in self.data


@dataclass
class InviteLink:
    """An invite link and how it has been used."""

    invite_link: str
    creator_id: int
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    creates_join_request: bool = False
    is_primary: bool = False
    is_revoked: bool = False
    usage: int = 0

    def to_api(self, creator: JSON) -> JSON:
        """Returns the Bot API ``ChatInviteLink`` object."""
        data: JSON = {
            "invite_link": self.invite_link,
            "creator": creator,
            "creates_join_request": self.creates_join_request,
            "is_primary": self.is_primary,
            "is_revoked": self.is_revoked,
        }
        optional = {
            "name": self.name,
            "expire_date": self.expire_date,
            "member_limit": self.member_limit,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data


@dataclass
class Topic:
    """A forum topic: its thread id is the id of its creation service message."""

    message_thread_id: int
    name: str
    icon_color: int = 0x6FB9F0

    def to_api(self) -> JSON:
        """Returns the Bot API ``ForumTopic`` object."""
        return {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }


@dataclass
class Webhook:
    """A webhook set with ``setWebhook`` and how its deliveries went."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class FakeChat:
    """A chat and everything in it."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    linked_chat_id: int | None = None
    description: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    permissions: dict[str, bool] = field(
        default_factory=lambda: dict.fromkeys(CHAT_PERMISSIONS, True)
    )
    pinned: list[int] = field(default_factory=list)
    invite_links: dict[str, InviteLink] = field(default_factory=dict)
    join_requests: dict[int, int] = field(default_factory=dict)
    migrated_to: int | None = None
    is_forum: bool = False
    topics: dict[int, Topic] = field(default_factory=dict)
    banned_sender_chats: set[int] = field(default_factory=set)

    @property
    def is_group(self) -> bool:
        """Basic group or supergroup."""
        return self.type in ("group", "supergroup")

    def to_api(self) -> JSON:
        """Returns the short Bot API ``Chat`` object."""
        data: JSON = {"id": self.id, "type": self.type}
        name_key = "first_name" if self.type == "private" else "title"
        if self.title:
            data[name_key] = self.title
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    def creator_id(self) -> int | None:
        """The owner's user id, if the fake knows it."""
        return next((m.user_id for m in self.members.values() if m.status == "creator"), None)

    def live_messages(self) -> list[StoredMessage]:
        """Messages not deleted, oldest first."""
        return [m for m in self.messages.values() if not m.deleted]

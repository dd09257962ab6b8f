"""A transport-neutral view of one message and of what the store knows about its sender.

Handlers turn a Telegram update into `MessageFacts`; the pure core never sees Telegram objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SERVICE_USER_ID = 777000
"""Telegram's own account: it posts the automatic forwards from a group's linked channel."""
CHANNEL_BOT_ID = 136817688
"""The pseudo-user in `from` of every message sent on behalf of a channel."""
GROUP_ANONYMOUS_BOT_ID = 1087968824
"""The pseudo-user in `from` of every message an anonymous admin sends as the group."""
PSEUDO_USER_IDS = frozenset({SERVICE_USER_ID, CHANNEL_BOT_ID, GROUP_ANONYMOUS_BOT_ID})
"""Accounts that stand for a chat, never for a person: never members, never sanctioned."""


def is_chat_id(offender_id: int) -> bool:
    """Whether an offender id names a chat (a channel posting in the group), not a person:
    Telegram's chat ids of channels and groups are negative, user ids positive."""
    return offender_id < 0


def is_person(user_id: int) -> bool:
    """A real account: neither a chat nor one of Telegram's pseudo-users."""
    return user_id > 0 and user_id not in PSEUDO_USER_IDS


class ForwardKind(StrEnum):
    """Where a forwarded message came from (Bot API `MessageOrigin` types)."""

    USER = "user"
    HIDDEN_USER = "hidden_user"
    CHAT = "chat"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Everything the detectors and `decide` may look at for one message."""

    chat_id: int
    message_id: int
    user_id: int
    date: float
    text: str = ""
    user_name: str = ""
    username: str | None = None
    is_edit: bool = False
    is_bot: bool = False
    link_urls: tuple[str, ...] = ()
    """URLs from `url` and `text_link` entities, the hidden `entity.url` included."""
    mentions: tuple[str, ...] = ()
    """`@name` mentions from `mention` entities, without the `@`."""
    button_urls: tuple[str, ...] = ()
    """URLs of inline keyboard buttons attached to the message."""
    forward_kind: ForwardKind | None = None
    forward_chat_id: int | None = None
    forward_chat_username: str | None = None
    via_bot: str | None = None
    contact_phone: str | None = None
    quote_text: str = ""
    has_media: bool = False
    sender_chat_id: int | None = None
    """Set when the message was sent on behalf of a chat (a channel, or the group itself)."""
    reply_to_message_id: int | None = None
    linked_chat_id: int | None = None
    """The channel linked to this group: its posts are the shop's own."""
    sender_chat_name: str = ""
    """The title of the chat the message was sent on behalf of, if any."""
    thread_id: int | None = None
    """The forum topic the message is in (its root message id), None outside topics."""
    media_group_id: str | None = None
    """The album the message belongs to, if it is one item of an album."""
    cleared_by_admin: bool = False
    """An admin of this group said this same text is no ad (`/notspam`), and nothing but the
    text carries anything (no hidden link, button or forward): the detectors do not read it
    again, but a flood or a wave of it is still one."""

    @property
    def is_anonymous_admin(self) -> bool:
        """An admin posting as the group itself."""
        return self.sender_chat_id == self.chat_id

    @property
    def offender_id(self) -> int:
        """Who answers for the message: the channel it was sent as, else the sender. Every
        channel gets its own ladder, never the shared pseudo-user in `from`."""
        if self.sender_chat_id is not None and not self.is_anonymous_admin:
            return self.sender_chat_id
        return self.user_id

    @property
    def offender_name(self) -> str:
        return self.sender_chat_name if is_chat_id(self.offender_id) else self.user_name

    @property
    def all_text(self) -> str:
        """The visible text and any quoted text, which spammers also use to carry ads."""
        return f"{self.text}\n{self.quote_text}" if self.quote_text else self.text


@dataclass(frozen=True, slots=True)
class MemberHistory:
    """What the store knows about the sender in this group, read before deciding."""

    message_count: int = 0
    first_seen: float | None = None
    joined_at: float | None = None
    """When qunbot saw the member join; None for members who were there before it, who are
    established and never on probation."""
    trusted: bool = False
    is_admin: bool = False
    offence_times: tuple[float, ...] = ()
    """Times of earlier offences in this group, newest last."""
    recent_message_times: tuple[float, ...] = field(default=())
    """Times of this member's latest messages, for flood detection."""

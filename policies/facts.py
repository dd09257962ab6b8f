"""A transport-neutral view of one message and of what the store knows about its sender.

Handlers turn a Telegram update into `MessageFacts`; the pure core never sees Telegram objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SERVICE_USER_ID = 777000
"""Telegram's own account: it posts the automatic forwards from a group's linked channel."""


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

    @property
    def is_anonymous_admin(self) -> bool:
        """An admin posting as the group itself."""
        return self.sender_chat_id == self.chat_id

    @property
    def all_text(self) -> str:
        """The visible text and any quoted text, which spammers also use to carry ads."""
        return f"{self.text}\n{self.quote_text}" if self.quote_text else self.text


@dataclass(frozen=True, slots=True)
class MemberHistory:
    """What the store knows about the sender in this group, read before deciding."""

    message_count: int = 0
    first_seen: float | None = None
    trusted: bool = False
    is_admin: bool = False
    offence_times: tuple[float, ...] = ()
    """Times of earlier offences in this group, newest last."""
    recent_message_times: tuple[float, ...] = field(default=())
    """Times of this member's latest messages, for flood detection."""

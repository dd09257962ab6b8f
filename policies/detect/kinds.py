"""Kinds of message that are often ads whatever their text says.

Forwards from channels and other chats, inline results via bots, contact cards and messages
sent on behalf of a channel. The shop's own channels (the link allow list) never count.
"""

from __future__ import annotations

from collections.abc import Iterable

from policies.detect.base import Check, NameList
from policies.detect.config import MessageKindsConfig
from policies.detect.normalize import Normalized
from policies.facts import ForwardKind, MessageFacts
from policies.verdict import Hit

__all__ = ["make_kinds_check"]


def make_kinds_check(cfg: MessageKindsConfig, *, allow: Iterable[str] = ()) -> Check:
    """Build the message-kind check; `allow` is the policy's link allow list."""
    allowed = NameList.parse(allow)
    benign_bots = frozenset(name.lower().lstrip("@") for name in cfg.benign_inline_bots)

    def check_kinds(facts: MessageFacts, norm: Normalized) -> list[Hit]:
        if (
            facts.forward_kind is None
            and not facts.via_bot
            and not facts.contact_phone
            and facts.sender_chat_id is None
        ):
            return []  # an ordinary message, as most are
        hits: list[Hit] = []
        forward = _forward_hit(facts)
        if forward is not None:
            hits.append(forward)
        bot = (facts.via_bot or "").lower().lstrip("@")
        if bot and bot not in benign_bots and not allowed.has_name(bot):
            reason = f"inline result sent via the bot @{bot}"
            hits.append(Hit("kind.via_bot", reason, f"@{bot}", cfg.via_bot))
        if facts.contact_phone:
            reason = f"contact card shared: {facts.contact_phone}"
            hits.append(Hit("kind.contact_card", reason, facts.contact_phone, cfg.contact_card))
        if facts.sender_chat_id is not None and facts.sender_chat_id != facts.chat_id:
            reason = "message sent on behalf of a channel, not by a member"
            sender = str(facts.sender_chat_id)
            hits.append(Hit("kind.sender_chat", reason, sender, cfg.sender_chat))
        return hits

    def _forward_hit(facts: MessageFacts) -> Hit | None:
        if facts.forward_kind not in {ForwardKind.CHANNEL, ForwardKind.CHAT}:
            return None
        if facts.forward_chat_id == facts.chat_id:
            return None
        name = facts.forward_chat_username or ""
        if name and allowed.has_name(name):
            return None
        source = f"@{name}" if name else str(facts.forward_chat_id or "a hidden chat")
        if facts.forward_kind is ForwardKind.CHANNEL:
            reason = f"forwarded from the channel {source}"
            return Hit("kind.forward_channel", reason, source, cfg.forward_channel)
        reason = f"forwarded from another chat {source}"
        return Hit("kind.forward_chat", reason, source, cfg.forward_chat)

    return check_kinds

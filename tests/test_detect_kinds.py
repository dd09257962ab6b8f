"""Message kinds: forwards, inline bots, contact cards, messages sent as a channel."""

from __future__ import annotations

from typing import Any

import pytest

from policies.detect.config import MessageKindsConfig
from policies.detect.kinds import make_kinds_check
from policies.detect.normalize import normalize
from policies.facts import ForwardKind, MessageFacts

CHAT = -100100
CHECK = make_kinds_check(MessageKindsConfig(), allow=["@myshop_news"])


def rules(**facts: Any) -> list[str]:
    message = MessageFacts(chat_id=CHAT, message_id=1, user_id=1, date=0.0, text="hi", **facts)
    return [hit.rule for hit in CHECK(message, normalize(message.text))]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({}, []),
        (
            {
                "forward_kind": ForwardKind.CHANNEL,
                "forward_chat_id": -1009,
                "forward_chat_username": "deals",
            },
            ["kind.forward_channel"],
        ),
        ({"forward_kind": ForwardKind.CHANNEL, "forward_chat_username": "myshop_news"}, []),
        ({"forward_kind": ForwardKind.CHAT, "forward_chat_id": -1007}, ["kind.forward_chat"]),
        ({"forward_kind": ForwardKind.CHAT, "forward_chat_id": CHAT}, []),
        ({"forward_kind": ForwardKind.USER}, []),
        ({"via_bot": "promo_bot"}, ["kind.via_bot"]),
        ({"via_bot": "gif"}, []),
        ({"contact_phone": "+8613800138000"}, ["kind.contact_card"]),
        ({"sender_chat_id": -1005}, ["kind.sender_chat"]),
        ({"sender_chat_id": CHAT}, []),
    ],
)
def test_message_kinds(facts: dict[str, Any], expected: list[str]) -> None:
    assert rules(**facts) == expected


def test_reason_names_the_source() -> None:
    message = MessageFacts(
        chat_id=CHAT,
        message_id=1,
        user_id=1,
        date=0.0,
        forward_kind=ForwardKind.CHANNEL,
        forward_chat_username="deals",
    )
    (hit,) = CHECK(message, normalize(""))
    assert hit.reason == "forwarded from the channel @deals"
    assert hit.score == MessageKindsConfig().forward_channel

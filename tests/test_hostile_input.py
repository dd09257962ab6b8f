"""Hostile and broken input: arbitrary Unicode, huge texts, hundreds of entities, garbage
updates. Never an exception, and a bounded time per message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.policy_files import PolicyLibrary
from policies.decide import CompiledPolicy, decide
from policies.detect.classifier import train
from policies.facts import ForwardKind, MemberHistory, MessageFacts
from tests.harness import ADMIN, GROUP, Harness, make_config

POLICY = CompiledPolicy.compile(
    PolicyLibrary(None).load("shop-zh"),
    train(["加我微信 abc123 领券", "t.me/+join free"] * 5, ["谢谢", "when does it ship"] * 5),
)
HOSTILE_CHARACTERS = st.sampled_from(
    ["\u202e", "\u200b", "\ufeff", "\u0301" * 30, "𝐁", "①", "1️⃣", "点", "。", "\\ud800", "@", "/"]
)
TEXTS = st.text(max_size=600) | st.lists(
    st.one_of(HOSTILE_CHARACTERS, st.text(max_size=5)), max_size=200
).map("".join)
URLS = st.lists(st.text(max_size=40).map(lambda s: f"https://{s}.com/x"), max_size=300)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=TEXTS,
    urls=URLS,
    mentions=st.lists(st.text(max_size=20), max_size=300),
    forward=st.none() | st.sampled_from(list(ForwardKind)),
    count=st.integers(min_value=0, max_value=10),
)
def test_decide_never_raises(
    text: str, urls: list[str], mentions: list[str], forward: ForwardKind | None, count: int
) -> None:
    facts = MessageFacts(
        chat_id=-100,
        message_id=1,
        user_id=7,
        date=0.0,
        text=text,
        link_urls=tuple(urls),
        mentions=tuple(mentions),
        button_urls=tuple(urls[:50]),
        forward_kind=forward,
        quote_text=text[:100],
    )
    verdict = decide(facts, POLICY, MemberHistory(message_count=count), 0.0)
    assert verdict.explanation


def test_a_worst_case_message_is_judged_quickly() -> None:
    nasty = ("a." * 1000 + "点" * 500 + "1 " * 500 + "@" * 48 + "\u0301" * 500)[:4096]
    facts = MessageFacts(
        chat_id=-100,
        message_id=1,
        user_id=7,
        date=0.0,
        text=nasty,
        link_urls=tuple(f"https://x{n}.com" for n in range(300)),
        mentions=tuple(f"chan{n}" for n in range(300)),
    )
    started = time.perf_counter()
    decide(facts, POLICY, MemberHistory(), 0.0)
    assert time.perf_counter() - started < 1.0


async def test_strange_updates_are_logged_and_skipped(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path))
    errors: list[object] = []

    async def record(update: object, context: Any) -> None:
        errors.append(context.error)

    harness.app.add_error_handler(record)
    try:
        strange = [
            {"update_id": 900001},
            {
                "update_id": 900002,
                "message": {
                    "message_id": 5,
                    "date": 0,
                    "chat": {"id": GROUP, "type": "supergroup"},
                },
            },
            {
                "update_id": 900003,
                "edited_message": {
                    "message_id": 99999,
                    "date": 0,
                    "chat": {"id": GROUP, "type": "supergroup"},
                    "text": "x" * 5000,
                },
            },
            {
                "update_id": 900004,
                "callback_query": {
                    "id": "1",
                    "chat_instance": "x",
                    "from": {"id": 5, "is_bot": False, "first_name": "M"},
                    "data": "undo_garbage_0000",
                },
            },
        ]
        for update in strange:
            await harness.feed(update)
        assert errors == [], "a handler raised on a strange update"
        bob = harness.member("bob")
        ad = await harness.say(bob, "加我微信 vx：abc12345 领取内部优惠券")
        assert harness.fake.is_deleted(GROUP, ad)
    finally:
        await harness.stop()


async def test_wrong_command_arguments_get_a_usage_line(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        for text, usage in [
            ("/mode", "Usage: /mode"),
            ("/dryrun maybe", "Usage: /dryrun"),
            ("/set moderation.mode", "Usage: /set"),
            ("/allow", "Usage: /allow"),
            ("/why 99999", "Usage: /why"),
            ("/mute", "Whom? Usage: /mute"),
            ("/kick", "Whom? Usage: /kick"),
        ]:
            await harness.say(ADMIN, text)
            assert usage in harness.texts_in(GROUP)[-1], text
    finally:
        await harness.stop()

"""The wave rule: the same message from several accounts, never a greeting they share."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.waves import WaveTracker, signature
from tests.harness import GROUP, Harness, make_config

CHAT = -100
NOW = 1_800_000_000.0
AD = "Cheap designer bags today only, write to our store manager for the catalogue"
# An ad the content checks let through (the ad model reads AD itself as an ad), so only the wave
# can remove its copies.
QUIET_AD = "Designer bags at half price this week in our little corner store"


@pytest.mark.parametrize(
    "greeting",
    [
        "hello everyone!!",
        "Hello everyone!! I'm new here, nice to meet you all 😊",
        "Good morning everyone, how are you all doing today?",
        "大家好",
        "大家好，我是新来的，请多多关照！",
        "各位好～新人报到，很高兴认识大家",
    ],
)
def test_a_greeting_from_many_newcomers_is_no_wave(greeting: str) -> None:
    tracker = WaveTracker(window=600.0, min_length=12)
    counts = [tracker.observe(CHAT, user, greeting, NOW + user) for user in range(1, 6)]
    assert counts == [0, 0, 0, 0, 0]


def test_the_same_message_from_several_accounts_is_a_wave() -> None:
    tracker = WaveTracker(window=600.0, min_length=12)
    copies = [AD, AD.upper() + "!!! 🎉", "hello everyone! " + AD.replace("today", "today 24/7")]
    assert [tracker.observe(CHAT, user, text, NOW) for user, text in enumerate(copies)] == [
        1,
        2,
        3,
    ]


def test_texts_sharing_only_their_beginning_are_not_the_same() -> None:
    tracker = WaveTracker(window=600.0, min_length=12)
    start = (
        "We have the same long opening sentence about our lovely little shop, where the "
        "staff are friendly and the coffee is always warm, and then "
    )
    endings = ["a cat", "a dog", "a bird", "a fish"]
    counts = [tracker.observe(CHAT, n, start + end, NOW) for n, end in enumerate(endings)]
    assert counts == [1, 1, 1, 1]


def test_greetings_are_taken_out_but_the_rest_is_kept() -> None:
    assert signature("Hello everyone!! 加我微信 vx abc123") == "加我微信vxabc"
    assert signature("hi all, cheap bags") == "cheapbags"


async def test_newcomers_who_all_say_hello_everyone_keep_their_messages(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        sent = []
        for name in ("ann", "ben", "cat", "dan"):
            sent.append(await harness.say(harness.member(name), "hello everyone!!"))
        assert not any(harness.fake.is_deleted(GROUP, message) for message in sent)
        copies = []
        for name in ("eve", "fay", "gus"):
            copies.append(await harness.say(harness.member(name), QUIET_AD))
        assert [harness.fake.is_deleted(GROUP, message) for message in copies] == [
            False,
            False,
            True,
        ]
    finally:
        await harness.stop()

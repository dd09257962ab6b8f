"""Links: text, entities and buttons; allow and block lists; shorteners; invites; mentions."""

from __future__ import annotations

from typing import Any

import pytest

from policies.detect.config import LinksConfig
from policies.detect.links import make_links_check
from policies.detect.normalize import normalize
from policies.facts import MessageFacts
from policies.verdict import Hit

POLICY = LinksConfig(
    allow=["myshop.com", "@myshop_channel", "https://t.me/myshop_group"],
    block=["pinduoduo.com", "@spam_channel"],
)
CHECK = make_links_check(POLICY)
CHAT_ID = -1001234567890


def scan(text: str, **facts: Any) -> list[Hit]:
    message = MessageFacts(chat_id=CHAT_ID, message_id=1, user_id=1, date=0.0, text=text, **facts)
    return CHECK(message, normalize(text))


def found(text: str, **facts: Any) -> set[tuple[str, str]]:
    return {(hit.rule, hit.reason) for hit in scan(text, **facts)}


@pytest.mark.parametrize(
    ("text", "rule", "reason"),
    [
        ("去 pinduoduo.com 看看", "link.blocked", "blocked link: pinduoduo.com"),
        (
            "pin duo duo 点 com",
            "link.blocked",
            'blocked link: pinduoduo.com (written "pin duo duo 点 com")',
        ),
        (
            "p i n d u o d u o dot com",
            "link.blocked",
            'blocked link: pinduoduo.com (written "p i n d u o d u o dot com")',
        ),
        (
            "ｐｉｎｄｕｏｄｕｏ．ｃｏｍ",
            "link.blocked",
            'blocked link: pinduoduo.com (written "ｐｉｎｄｕｏｄｕｏ．ｃｏｍ")',
        ),
        (
            "рinduoduo.com",
            "link.blocked",
            'blocked link: pinduoduo.com (written "рinduoduo.com")',
        ),
        ("visit evil.xyz now", "link.unknown", "link: evil.xyz"),
        ("网址 ww88 点 com", "link.unknown", 'link: ww88.com (written "ww88 点 com")'),
        ("example[.]com/abc", "link.unknown", 'link: example.com (written "example[.]com/abc")'),
        ("https://www.example.org/page", "link.unknown", "link: example.org"),
        ("https://bit.ly/abc", "link.shortener", "link through a URL shortener: bit.ly"),
        ("t.cn/A6xyz123", "link.shortener", "link through a URL shortener: t.cn"),
        ("加入 t.me/+AbCdEf", "link.invite", "Telegram invite link: t.me/+abcdef"),
        ("https://t.me/joinchat/XYZ", "link.invite", "Telegram invite link: t.me/joinchat/xyz"),
        (
            "t . me / xxx_channel",
            "link.invite",
            'Telegram link to another chat: t.me/xxx_channel (written "t . me / xxx_channel")',
        ),
        (
            "telegram.me/other_group",
            "link.invite",
            'Telegram link to another chat: t.me/other_group (written "telegram.me/other_group")',
        ),
        (
            "关注 @promo_service",
            "link.mention",
            "mention of an account the shop does not list: @promo_service",
        ),
        ("快来 @spam_channel", "link.blocked", "mention of a blocked account: @spam_channel"),
        ("t.me/spam_channel", "link.blocked", "blocked link: t.me/spam_channel"),
        ("see t.me/c/999/12", "link.unknown", "link to a message in another chat: t.me/c/999"),
    ],
)
def test_links_in_text(text: str, rule: str, reason: str) -> None:
    assert (rule, reason) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "这个多少钱",
        "when will my order ship",
        "价格12.5元，两件25元",
        "官网 myshop.com 有详细说明",
        "https://www.myshop.com/item/12",
        "shop.myshop.com 也可以",
        "关注 @myshop_channel 看上新",
        "进群 t.me/myshop_group",
        "发票发到 abc@qq.com",
        "I like it. me too",
        "see readme.md and main.py",
        "我一点都不想去",
        "version 2.0.1 is out",
        "加 t.me/addstickers/Cats 表情包",
        f"看 t.me/c/{str(CHAT_ID).removeprefix('-100')}/55 那条消息",
    ],
)
def test_ordinary_and_allowed_links_are_not_reported(text: str) -> None:
    assert scan(text) == []


def test_allowed_link_does_not_shield_an_unknown_one() -> None:
    assert found("myshop.com 和 evil.xyz") == {("link.unknown", "link: evil.xyz")}


def test_hidden_entity_and_button_links() -> None:
    hits = found(
        "点这里",
        link_urls=("https://evil.example/x", "https://myshop.com/ok"),
        button_urls=("https://bit.ly/promo",),
    )
    assert hits == {
        ("link.unknown", "link: evil.example (hidden behind the link text)"),
        ("link.shortener", "link through a URL shortener: bit.ly (in a button)"),
    }


def test_visible_entity_link_is_reported_once() -> None:
    hits = scan("看 evil.xyz/abc", link_urls=("http://evil.xyz/abc",))
    assert [hit.rule for hit in hits] == ["link.unknown"]


def test_visible_invite_entity_is_reported_once() -> None:
    hits = scan("进群 t.me/+AbCdEf", link_urls=("https://t.me/+AbCdEf",))
    assert [hit.rule for hit in hits] == ["link.invite"]


def test_spaced_domain_evidence_starts_at_its_first_piece() -> None:
    (hit,) = scan("go to duo pin duo duo 点 com")
    assert hit.evidence == "duo pin duo duo 点 com"


def test_mention_entities_and_tg_urls() -> None:
    assert found("hi", mentions=("myshop_channel", "Stranger_Bot")) == {
        ("link.mention", "mention of an account the shop does not list: @stranger_bot")
    }
    assert (
        "link.invite",
        'Telegram invite link: t.me/+hash (written "tg://join?invite=hash")',
    ) in (found("tg://join?invite=hash"))


def test_weights_come_from_the_policy() -> None:
    check = make_links_check(LinksConfig(weights={"unknown": 0.25, "invite": 2.0}))
    text = "evil.xyz t.me/+abc"
    facts = MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text=text)
    assert {hit.rule: hit.score for hit in check(facts, normalize(text))} == {
        "link.unknown": 0.25,
        "link.invite": 2.0,
    }

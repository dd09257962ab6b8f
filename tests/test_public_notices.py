"""Public notices never carry evidence: every public template, rendered for the hits of every
detector, names the kind of rule broken and never the matched text, number or link."""

from __future__ import annotations

import pytest

from bot.core.policy_files import PolicyLibrary
from bot.features.moderation import render_notice
from policies.decide import CompiledPolicy, decide
from policies.facts import ForwardKind, MemberHistory, MessageFacts
from policies.schema import TEMPLATE_PLACEHOLDERS
from policies.texts import mention
from policies.verdict import Hit

NOW = 1_800_000_000.0
NEWCOMER = MemberHistory(joined_at=NOW - 60)
PUBLIC_TEMPLATES = sorted(name for name, used in TEMPLATE_PLACEHOLDERS.items() if "users" in used)
"""Templates that name offenders in the group: call-outs and announcements."""

ADS: list[tuple[str, dict[str, object], str]] = [
    ("加我微信 vx：abc12345 领取内部优惠券", {}, "contact.wechat"),
    ("加我企鹅752753636", {}, "contact.qq"),
    ("兼职日结300 来电13800138000", {}, "contact.phone"),
    ("有需要的私我 dm me for price", {}, "contact.offer"),
    ("进群 https://t.me/joinchat/AAAAAEqWq1", {}, "link.invite"),
    ("好东西 https://bit.ly/3xYzAbc", {}, "link.shortener"),
    ("best deals at spamdeals-online.xyz", {}, "link.unknown"),
    ("好物推荐 ￥AbCd12EfGh￥ 复制后打开手机淘宝", {}, "market.taobao"),
    ("拼多多帮我砍一刀 领现金", {}, "market.pinduoduo"),
    ("躺赚项目 日入过万 guaranteed profit", {}, "keyword."),
    (
        "hello",
        {"forward_kind": ForwardKind.CHANNEL, "forward_chat_username": "spamzone88"},
        "kind.",
    ),
    ("hi", {"via_bot": "adbot_9000"}, "kind.via_bot"),
    ("", {"contact_phone": "+8613800138000"}, "kind.contact_card"),
]


def verdict_hits(preset: str, text: str, extra: dict[str, object]) -> tuple[Hit, ...]:
    policy = PolicyLibrary(None).load(preset)
    compiled = CompiledPolicy.compile(policy)
    fields: dict[str, object] = {"chat_id": -1001, "message_id": 1, "user_id": 7, "date": NOW}
    facts = MessageFacts(**(fields | {"text": text} | extra))  # type: ignore[arg-type]
    return decide(facts, compiled, NEWCOMER, NOW).hits


def synthetic_hits() -> list[Hit]:
    """Rules that need more than one message (or a trained scorer) to fire, with evidence."""
    return [
        Hit("classifier.spam", "reads like spam", "全网最低 私聊拿货 9块9包邮", 1.0),
        Hit("behaviour.flood", "flood: 9 messages within 10s", "", 1.0),
        Hit("behaviour.wave", "spam wave", "", 1.0),
        Hit("members.report", "reported by 3 members", "my shop: shop-elsewhere.cn", 1.0),
        Hit("admin.spam", "marked as an ad by an admin", "VX: abc123 get rich", 1.0),
        Hit("keyword.刷单", 'keyword "刷单"', "刷单", 0.6),
    ]


@pytest.mark.parametrize("preset", ["default", "shop-zh"])
@pytest.mark.parametrize(("text", "extra", "rule"), ADS)
def test_no_public_template_carries_a_detectors_evidence(
    preset: str, text: str, extra: dict[str, object], rule: str
) -> None:
    hits = verdict_hits(preset, text, extra)
    assert any(hit.rule.startswith(rule) for hit in hits), hits
    assert_no_evidence(preset, hits)


@pytest.mark.parametrize("preset", ["default", "shop-zh"])
def test_no_public_template_carries_evidence_of_the_other_rules(preset: str) -> None:
    assert_no_evidence(preset, tuple(synthetic_hits()))


def assert_no_evidence(preset: str, hits: tuple[Hit, ...]) -> None:
    policy = PolicyLibrary(None).load(preset)
    rules = [[hit.rule for hit in hits]]
    for template in PUBLIC_TEMPLATES:
        text = render_notice(policy, template, [mention(7, "Dave")], "Sunny Snacks", rules, "1d")
        for hit in hits:
            if hit.evidence:
                assert hit.evidence not in text, (template, hit)
                assert hit.reason not in text, (template, hit)
            assert hit.rule not in text, (template, hit)
        if "{reason}" in getattr(policy.templates, template):
            assert any(kind in text for kind in policy.templates.rule_kinds.values())


def test_a_rule_is_named_by_its_own_kind_then_its_family_then_default() -> None:
    policy = PolicyLibrary(None).load("default")
    rules = [["contact.wechat", "link.unknown", "brand.new"]]
    text = render_notice(policy, "announce_removed", [mention(7, "Dave")], "Shop", rules)
    assert "(WeChat contact; link; ad)" in text


def test_a_chinese_notice_lists_the_kinds_with_a_chinese_separator() -> None:
    policy = PolicyLibrary(None).load("shop-zh")
    kinds = policy.templates.rule_kinds
    rules = [["contact.wechat", "classifier.spam"]]
    text = render_notice(policy, "announce_removed", [mention(7, "小王")], "小店", rules)
    named = [kinds.get("contact.wechat") or kinds["contact"], kinds["classifier"]]
    assert "；".join(named) in text and "; " not in text, text


@pytest.mark.parametrize(("preset", "separator"), [("shop-zh", "、"), ("default", ", ")])
def test_the_people_a_notice_names_are_joined_as_its_language_lists(
    preset: str, separator: str
) -> None:
    policy = PolicyLibrary(None).load(preset)
    people = [mention(7, "小王"), mention(8, "小李")]
    text = render_notice(policy, "announce_removed", people, "小店", [["contact.wechat"]])
    assert f"小王</a>{separator}<a" in text, text


def test_the_separator_follows_the_kinds_words_not_the_group_language() -> None:
    # /lang changes the replies, not the policy's templates: the kinds keep their own language.
    policy = PolicyLibrary(None).load("default").model_copy(update={"language": "zh"})
    rules = [["contact.wechat", "link.unknown"]]
    text = render_notice(policy, "announce_removed", [mention(7, "Dave")], "Shop", rules)
    assert "(WeChat contact; link)" in text, text


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("加薇信fl8866领福利", "加薇信…领福利"),
        ("VX abc12345 兼职日结", "VX … 兼职日结"),
        ("加Q 123456789 免费领", "加Q … 免费领"),
        ("李四 138 1234 5678", "李四 …"),
        ("加我 @spam_deals", "加我 …"),
        ("Tom2024", "Tom2024"),
        ("王小明", "王小明"),
        ("Q1 Sales", "Q1 Sales"),
        ("v2ray fan", "v2ray fan"),
    ],
)
def test_a_name_is_printed_without_the_contact_a_spammer_put_in_it(name: str, shown: str) -> None:
    assert f">{shown}</a>" in mention(7, name)

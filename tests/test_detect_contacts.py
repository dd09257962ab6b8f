"""Contact offers: WeChat, QQ, phone numbers and invitations to a private chat."""

from __future__ import annotations

import pytest

from policies.detect.config import ContactsConfig, ContactWeights
from policies.detect.contacts import make_contacts_check
from policies.detect.normalize import normalize
from policies.facts import MessageFacts
from policies.verdict import Hit

CHECK = make_contacts_check(ContactsConfig())


def scan(text: str) -> list[Hit]:
    facts = MessageFacts(chat_id=-1001, message_id=1, user_id=7, date=0.0, text=text)
    return CHECK(facts, normalize(text))


def rules(text: str) -> set[str]:
    return {hit.rule for hit in scan(text)}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("加我vx: abc123，日结", "contact.wechat"),
        ("微信号是 wxid888888", "contact.wechat"),
        ("ＶＸ：ａｂｃ１２３", "contact.wechat"),
        ("加V信 shop_2024", "contact.wechat"),
        ("加薇 abc_123", "contact.wechat"),
        ("v1514540099 看图", "contact.wechat"),
        ("薇 信 号 是 d a i k u a n 8 8", "contact.wechat"),
        ("wechat: happy_888 for details", "contact.wechat"),
        ("电话 13800138000 微信同号", "contact.wechat"),
        ("QQ 12345678", "contact.qq"),
        ("扣扣：一二三四五六七八", "contact.qq"),
        ("加企鹅752753636", "contact.qq"),
        ("🐧 2837465910", "contact.qq"),
        ("q 3345678912", "contact.qq"),
        ("群号 473151831 欢迎", "contact.qq"),
        ("qq群：56892347", "contact.qq"),
        ("13800138000 加我", "contact.phone"),
        ("电话 138 0013 8000，兼职日结", "contact.phone"),
        ("来电一三八零零一三八零零零", "contact.phone"),
        ("+44 7911 123456 text me", "contact.phone"),
        ("特价 88元 订购 13800138000", "contact.phone"),
        ("热线 400-123-4567", "contact.phone"),
        ("有需要的私我", "contact.offer"),
        ("感兴趣的私聊", "contact.offer"),
        ("需要的老板滴滴", "contact.offer"),
        ("看我名字", "contact.offer"),
        ("DM me for price", "contact.offer"),
        ("inbox me", "contact.offer"),
        ("hit me up", "contact.offer"),
    ],
)
def test_contact_offers_are_found(text: str, rule: str) -> None:
    assert rule in rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "这个多少钱",
        "when will my order ship",
        "支持微信支付吗",
        "我用微信付的，可以吗",
        "支持微信payment吗",
        "订单号 202406151234567，帮我查一下",
        "订单 20240615123456789012",
        "价格¥99，两件¥188",
        "Q1 2024 report is out",
        "vip888888",
        "version v2.0.1",
        "快递员没联系我",
        "群里的价格和店里一样吗",
        "扣了5分",
        "我QQ邮箱收不到发票",
        "我私聊客服了，还没回",
        "add this to my order",
        "weixin is the same app as wechat",
    ],
)
def test_ordinary_chat_offers_no_contact(text: str) -> None:
    assert rules(text) == set()


def test_reason_quotes_what_was_written() -> None:
    (hit,) = scan("我的 ＶＸ：ａｂｃ１２３ 谢谢")
    assert hit.rule == "contact.wechat"
    assert hit.evidence == "ＶＸ：ａｂｃ１２３"
    assert hit.reason == 'WeChat id offered: "ＶＸ：ａｂｃ１２３"'


def test_phone_reason_shows_the_disguise() -> None:
    (hit,) = scan("来电一三八零零一三八零零零")
    assert hit.reason == 'phone number: 13800138000 (written "一三八零零一三八零零零")'


def test_one_hit_per_kind_and_weights_from_policy() -> None:
    check = make_contacts_check(ContactsConfig(weights=ContactWeights(wechat=2.0, phone=0.1)))
    text = "vx abc123 vx def456 来电 13800138000"
    facts = MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text=text)
    scores = {hit.rule: hit.score for hit in check(facts, normalize(text))}
    assert scores == {"contact.wechat": 2.0, "contact.phone": 0.1}


@pytest.mark.parametrize(
    ("text", "rule", "explained"),
    [
        ("薇❤信 shop2024a", "contact.wechat", "homophones"),
        ("威芯：kk990011", "contact.wechat", "homophones"),
        ("佳喂 abc_8899", "contact.wechat", ""),
        ("喂 xyz12345 了解一下", "contact.wechat", ""),
        ("寇蔻 58392017", "contact.qq", "homophones"),
        ("口口 58392017", "contact.qq", ""),
        ("-佳-企-鹅-看 58392017", "contact.qq", ""),
        ("61820 Q 39475", "contact.qq", ""),
        ("加5839201766ᚠ", "contact.qq", "number to add"),
    ],
)
def test_aliases_and_homophones_of_wechat_and_qq(text: str, rule: str, explained: str) -> None:
    hits = [hit for hit in scan(text) if hit.rule == rule]
    assert hits, scan(text)
    assert explained in hits[0].reason


@pytest.mark.parametrize(
    "text",
    [
        "为什么还没发货",
        "我想加100元换大号",
        "再加1000000元也买不到",
        "威海的朋友在吗",
        "口口声声说包邮",
    ],
)
def test_homophones_need_an_id_after_them(text: str) -> None:
    assert not {"contact.wechat", "contact.qq"} & rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "我电话 13912345678，快递员打不通，麻烦客服联系我",
        "我电话 13800138000，快递员打不通",
        "手机号 139 1234 5678 是我的，改一下收件人",
        "请客服联系我 13912345678",
        "订单号 238827731928 还没发货，我电话 13912345678",
        "my number is +44 7911 123456 for the courier, thanks",
    ],
)
def test_a_customer_giving_their_own_number_offers_nothing(text: str) -> None:
    assert rules(text) == set()


ALLOWING = make_contacts_check(
    ContactsConfig(allow=["sunny_cs01", "400-123-4567", "+86 139 1234 5678", "752753636"])
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("加客服微信 sunny_cs01 领取优惠券", set()),
        ("客服 VX：ｓｕｎｎｙ＿ｃｓ０１", set()),
        ("售后热线 400-123-4567", set()),
        ("来电 13912345678 订购", set()),
        ("加我企鹅752753636", set()),
        ("加我微信 other_cs02", {"contact.offer", "contact.wechat"}),
        ("加客服微信 sunny_cs01 或者 vx other_cs02", {"contact.wechat"}),
    ],
)
def test_the_shops_own_contacts_never_count(text: str, expected: set[str]) -> None:
    facts = MessageFacts(chat_id=-1001, message_id=1, user_id=7, date=0.0, text=text)
    assert {hit.rule for hit in ALLOWING(facts, normalize(text))} == expected

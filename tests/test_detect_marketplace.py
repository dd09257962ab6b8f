"""Marketplace share codes and links: Taobao, Pinduoduo, JD, Meituan."""

from __future__ import annotations

from typing import Any

import pytest

from policies.detect.config import MarketplaceConfig
from policies.detect.marketplace import make_marketplace_check
from policies.detect.normalize import normalize
from policies.facts import MessageFacts
from policies.verdict import Hit

CHECK = make_marketplace_check(MarketplaceConfig(), allow=["myshop.taobao.com"])


def scan(text: str, **facts: Any) -> list[Hit]:
    message = MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text=text, **facts)
    return CHECK(message, normalize(text))


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("好物推荐 ￥AbCd12EfGh￥ 复制后打开手机淘宝", "market.taobao"),
        ("€xY12Kq7Zm0€ 限时领券", "market.taobao"),
        ("₤Xy9Kp2Lm7Q₤", "market.taobao"),
        ("复制这段描述，打开淘宝即可查看", "market.taobao"),
        ("【淘宝】宝贝分享", "market.taobao"),
        ("淘口令来了", "market.taobao"),
        ("快来 https://m.tb.cn/h.5AbCdE 抢", "market.taobao"),
        ("帮我砍一刀吧", "market.pinduoduo"),
        ("拼多多现金大转盘，帮我提现", "market.pinduoduo"),
        ("求帮我助力，谢谢", "market.pinduoduo"),
        ("mobile.yangkeduo.com/goods.html", "market.pinduoduo"),
        ("【京东】京享红包", "market.jd"),
        ("复制本条信息，打开京东APP", "market.jd"),
        ("京口令 8888", "market.jd"),
        ("item.jd.com/100012.html", "market.jd"),
        ("【美团】外卖红包", "market.meituan"),
        ("美团神券节，快来领", "market.meituan"),
        ("复制这条消息打开美团", "market.meituan"),
    ],
)
def test_share_codes_are_found(text: str, rule: str) -> None:
    assert rule in {hit.rule for hit in scan(text)}


@pytest.mark.parametrize(
    "text",
    [
        "这个多少钱",
        "价格¥99，包邮",
        "这件¥99，那件¥199",
        "$19.99 each",
        "我在淘宝也看到了",
        "你们淘宝店和这个群是一家吗",
        "拼多多上的是正品吗",
        "京东上也有卖吗",
        "美团外卖能送吗",
        "店铺地址 myshop.taobao.com",
        "xjd.com is not jd",
        "复制一下订单号给我",
    ],
)
def test_ordinary_mentions_are_not_share_codes(text: str) -> None:
    assert scan(text) == []


def test_hidden_and_button_links_count() -> None:
    hits = scan("看这里", button_urls=("https://u.jd.com/AbCd12",))
    assert [hit.rule for hit in hits] == ["market.jd"]
    assert hits[0].reason == "JD link: u.jd.com"


def test_evidence_and_reason() -> None:
    (hit,) = scan("好物 ￥AbCd12EfGh￥")
    assert hit.evidence == "￥AbCd12EfGh￥"
    assert hit.reason == 'Taobao share code: "￥AbCd12EfGh￥"'
    assert hit.score == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "【京东】您的订单已出库，预计后天送达",
        "【淘宝】您的包裹已到驿站，凭取件码领取",
        "【美团】骑手正在为您配送",
        "【拼多多】您购买的商品已发货",
        "【天猫】您申请的退款已到账",
    ],
)
def test_the_apps_own_notices_are_not_share_codes(text: str) -> None:
    assert scan(text) == []


def test_a_plain_marketplace_link_weighs_less_than_a_share_code() -> None:
    (link,) = scan("item.jd.com/100012.html")
    (code,) = scan("帮我砍一刀吧")
    assert link.score == MarketplaceConfig().link_weight < code.score == MarketplaceConfig().weight


OWN_STORE = make_marketplace_check(MarketplaceConfig(allow=["shop57301942", "阳光零食铺"]))


@pytest.mark.parametrize(
    ("text", "urls", "expected"),
    [
        ("这款在我们店有：https://shop57301942.taobao.com/item?id=1", (), set()),
        ("【淘宝】阳光零食铺 宝贝分享 ￥AbCd12EfGh￥", (), set()),
        ("店里链接", ("https://shop57301942.taobao.com/x",), set()),
        ("【淘宝】别家店 宝贝分享 ￥AbCd12EfGh￥", (), {"market.taobao"}),
        ("https://shop11112222.taobao.com/item?id=1", (), {"market.taobao"}),
    ],
)
def test_the_shops_own_store_is_not_an_ad(
    text: str, urls: tuple[str, ...], expected: set[str]
) -> None:
    message = MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text=text, link_urls=urls)
    assert {hit.rule for hit in OWN_STORE(message, normalize(text))} == expected

"""Marketplace share codes: Taobao 淘口令, Pinduoduo 砍一刀, JD and Meituan share texts.

These are other people's shops or referral rewards, so one is enough to call a message an ad.
Links to the marketplaces are counted too, unless the policy allows them (the shop's own store).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from policies.detect.base import Check, NameList, literal_led_alternation, quote
from policies.detect.config import MarketplaceConfig
from policies.detect.normalize import Normalized
from policies.detect.notices import NOTICE_WORDS
from policies.facts import MessageFacts
from policies.verdict import Hit

__all__ = ["MARKET_DOMAINS", "make_marketplace_check"]

_TAOBAO_APPS = r"(?:淘宝|淘寳|綯寳|綯宝|淘tao|taobao|(?<![a-z])tb(?![a-z])|天猫|tmall|手淘)"
_SHARE_VERBS = ("复制", "復制", "拷贝", "長按", "长按")
_CURRENCIES = "¥€$£₤₳¢₴₰฿₭₮₲₵₱₩¤"
# The apps' own notices start with the same header ("【京东】您的订单已出库"); customers paste
# them into the group, so a header followed by order, delivery or account words is no share.
_NOT_A_NOTICE = (
    f"(?![^\\n]{{0,30}}?(?:{NOTICE_WORDS}|物流|快递|您的|您已|您购买|您申请|您在|尊敬的))"
)
_SHARE_TEXTS: list[tuple[str, str]] = [
    # 淘口令: a code between two identical currency signs, such as ¥AbCd12EfGh¥.
    *[
        ("taobao", f"{re.escape(sign)}(?=[a-z0-9]{{0,13}}[a-z])[a-z0-9]{{8,14}}{re.escape(sign)}")
        for sign in _CURRENCIES
    ],
    *[("taobao", f"{verb}[^\n]{{0,60}}?{_TAOBAO_APPS}") for verb in _SHARE_VERBS],
    *[("jd", f"{verb}[^\n]{{0,60}}?京东") for verb in _SHARE_VERBS],
    *[("meituan", f"{verb}[^\n]{{0,60}}?美团") for verb in _SHARE_VERBS],
    ("taobao", "淘口令"),
    *[("taobao", f"{header}{_NOT_A_NOTICE}") for header in ("【淘宝】", "【天猫】")],
    *[
        ("pinduoduo", word)
        for word in ("砍一刀", "帮我砍", "帮忙砍", "帮砍一", "帮我助力", "助力一下", "点一下助力")
    ],
    ("pinduoduo", f"【拼多多】{_NOT_A_NOTICE}"),
    ("pinduoduo", "拼多多[^\n]{0,20}?(?:砍|助力|免费拿|领现金|提现|现金|红包)"),
    ("jd", "京口令"),
    ("jd", f"【京东】{_NOT_A_NOTICE}"),
    ("jd", "京东[^\n]{0,20}?(?:助力|砍一刀|帮我点)"),
    ("meituan", f"【美团】{_NOT_A_NOTICE}"),
    ("meituan", "美团[^\n]{0,20}?(?:助力|帮我点|神券|口令)"),
]
MARKET_DOMAINS: dict[str, str] = {
    "taobao.com": "taobao",
    "tb.cn": "taobao",
    "tmall.com": "taobao",
    "pinduoduo.com": "pinduoduo",
    "yangkeduo.com": "pinduoduo",
    "jd.com": "jd",
    "3.cn": "jd",
    "meituan.com": "meituan",
    "dpurl.cn": "meituan",
}
_HOST = "host"
_ALTERNATIVES = [
    *_SHARE_TEXTS,
    *[(_HOST, f"{re.escape(domain)}(?![a-z0-9\\-])") for domain in MARKET_DOMAINS],
]
_SHARE_TEXT, _KIND_OF_GROUP = literal_led_alternation(_ALTERNATIVES)
_SUBDOMAINS_BEFORE = re.compile(r"(?:[a-z0-9\-]{1,63}\.){1,4}$")
_LABEL_CHAR = re.compile(r"[a-z0-9\-]")
_NAMES = {
    "taobao": "Taobao share code",
    "pinduoduo": "Pinduoduo bargain/assist request",
    "jd": "JD share code",
    "meituan": "Meituan share code",
}
_SITE_NAMES = {"taobao": "Taobao", "pinduoduo": "Pinduoduo", "jd": "JD", "meituan": "Meituan"}


def make_marketplace_check(cfg: MarketplaceConfig, *, allow: Iterable[str] = ()) -> Check:
    """Build the marketplace check; `allow` is the policy's link allow list, and the shop's
    own store ids (`cfg.allow`) clear a share text or link that names them."""
    allowed = NameList.parse(allow)
    own_stores = tuple(entry.strip().lower() for entry in cfg.allow if entry.strip())
    weight, link_weight = cfg.weight, cfg.link_weight

    def check_marketplace(facts: MessageFacts, norm: Normalized) -> list[Hit]:
        if not (facts.link_urls or facts.button_urls) and not _SHARE_TEXT.search(norm.text):
            return []  # the text is the only source, and it names no marketplace
        hits: dict[str, Hit] = {}
        for text, source in _sources(facts, norm):
            if any(store in text for store in own_stores):
                continue
            for match in _SHARE_TEXT.finditer(text):
                found = _describe(_KIND_OF_GROUP[match.lastgroup or ""], match, source)
                if found is None or found[0] in hits:
                    continue
                market, host, hit = found
                if not (host and allowed.has_host(host)):
                    hits[market] = _scored(hit, link_weight if host else weight)
        return list(hits.values())

    return check_marketplace


def _sources(facts: MessageFacts, norm: Normalized) -> list[tuple[str, Normalized | None]]:
    """The message text, then every entity and button URL."""
    sources: list[tuple[str, Normalized | None]] = [(norm.text, norm)]
    sources += [(url.lower(), None) for url in (*facts.link_urls, *facts.button_urls)]
    return sources


def _describe(
    kind: str, match: re.Match[str], source: Normalized | None
) -> tuple[str, str, Hit] | None:
    """(market, host or "", hit) for one match; None for a domain inside a longer name."""
    start, end = match.span()
    text = match.string
    if kind != _HOST:
        evidence = _evidence(source, text, start, end)
        return kind, "", Hit(f"market.{kind}", f'{_NAMES[kind]}: "{evidence}"', evidence)
    domain = match.group()
    if start > 0 and text[start - 1] != "." and _LABEL_CHAR.match(text[start - 1]):
        return None
    subdomains = _SUBDOMAINS_BEFORE.search(text, max(0, start - 256), start)
    if subdomains is not None:
        start = subdomains.start()
    host = text[start:end]
    market = MARKET_DOMAINS[domain]
    evidence = _evidence(source, text, start, end)
    return market, host, Hit(f"market.{market}", f"{_SITE_NAMES[market]} link: {host}", evidence)


def _evidence(source: Normalized | None, text: str, start: int, end: int) -> str:
    return quote(source.original_span(start, end) if source else text)


def _scored(hit: Hit, weight: float) -> Hit:
    return Hit(hit.rule, hit.reason, hit.evidence, weight)

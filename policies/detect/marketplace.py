"""Marketplace share codes: Taobao 淘口令, Pinduoduo 砍一刀, JD and Meituan share texts.

These are other people's shops or referral rewards, so one is enough to call a message an ad.
Links to the marketplaces are counted too, unless the policy allows them (the shop's own store).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from policies.detect.base import Check, NameList, quote
from policies.detect.config import MarketplaceConfig
from policies.detect.normalize import Normalized
from policies.facts import MessageFacts
from policies.verdict import Hit

__all__ = ["make_marketplace_check"]

_TAOBAO_APP = (
    r"(?:手机)?(?:淘宝|淘寳|綯寳|綯宝|淘tao|taobao|(?<![a-z])tb(?![a-z])|天猫|tmall|手淘)"
)
_SHARE_VERB = r"(?:复制|復制|拷贝|長按|长按)"
_CURRENCY = r"[¥€$£₤₳¢₴₰฿₭₮₲₵₱₩¤]"
_TAOBAO = (
    rf"(?P<sym>{_CURRENCY})(?=[a-z0-9]{{0,13}}[a-z])[a-z0-9]{{8,14}}(?P=sym)"
    rf"|{_SHARE_VERB}[^\n]{{0,60}}?{_TAOBAO_APP}|淘口令|【(?:淘宝|天猫)】"
)
_PINDUODUO = (
    r"砍一刀|帮我砍|帮忙砍|帮砍一|砍价免费拿|帮我助力|助力一下|点一下助力"
    r"|拼多多[^\n]{0,20}?(?:砍|助力|免费拿|领现金|提现|现金|红包)|【拼多多】"
)
_JD = rf"京口令|【京东】|{_SHARE_VERB}[^\n]{{0,60}}?京东|京东[^\n]{{0,20}}?(?:助力|砍一刀|帮我点)"
_MEITUAN = rf"【美团】|{_SHARE_VERB}[^\n]{{0,60}}?美团|美团[^\n]{{0,20}}?(?:助力|帮我点|神券|口令)"
_SHARE_TEXT = re.compile(
    rf"(?P<taobao>{_TAOBAO})|(?P<pinduoduo>{_PINDUODUO})|(?P<jd>{_JD})|(?P<meituan>{_MEITUAN})"
)

_MARKET_HOSTS: dict[str, str] = {
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
_MARKET_HOST = re.compile(
    r"(?<![a-z0-9\-])(?P<host>(?:[a-z0-9\-]{1,63}\.){0,3}(?:"
    + "|".join(re.escape(host) for host in _MARKET_HOSTS)
    + r"))(?![a-z0-9\-])"
)
_NAMES = {
    "taobao": "Taobao share code",
    "pinduoduo": "Pinduoduo bargain/assist request",
    "jd": "JD share code",
    "meituan": "Meituan share code",
}


def make_marketplace_check(cfg: MarketplaceConfig, *, allow: Iterable[str] = ()) -> Check:
    """Build the marketplace check; `allow` is the policy's link allow list."""
    allowed = NameList.parse(allow)
    weight = cfg.weight

    def check_marketplace(facts: MessageFacts, norm: Normalized) -> list[Hit]:
        hits: dict[str, Hit] = {}
        for match in _SHARE_TEXT.finditer(norm.text):
            market = match.lastgroup or ""
            if market not in hits:
                evidence = quote(norm.original_span(*match.span()))
                reason = f'{_NAMES[market]}: "{evidence}"'
                hits[market] = Hit(f"market.{market}", reason, evidence, weight)
        for market, host, evidence in _market_links(facts, norm):
            if market not in hits and not allowed.has_host(host):
                reason = f"{_NAMES[market].split()[0]} link: {host}"
                hits[market] = Hit(f"market.{market}", reason, evidence, weight)
        return list(hits.values())

    return check_marketplace


def _market_links(facts: MessageFacts, norm: Normalized) -> Iterable[tuple[str, str, str]]:
    """(market, host, evidence) for each marketplace domain in the text, entities or buttons."""
    sources: list[tuple[str, Normalized | None]] = [(norm.text, norm)] if "." in norm.text else []
    sources += [(url.lower(), None) for url in (*facts.link_urls, *facts.button_urls)]
    for text, source in sources:
        for match in _MARKET_HOST.finditer(text):
            host = match.group("host")
            market = _market_of(host)
            evidence = source.original_span(*match.span()) if source else text
            yield market, host, quote(evidence)


def _market_of(host: str) -> str:
    for suffix, market in _MARKET_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return market
    raise ValueError(f"{host!r} matched no marketplace domain")

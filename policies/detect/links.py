"""Links: URLs in the text and in entities, disguised domains, t.me invites, buttons, @names.

The policy's allow list (the shop's own domains and channels) is checked first and its links are
never reported; every other link is weighed by kind. Links are reported once per host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from policies.detect.base import (
    TELEGRAM_HOSTS,
    Check,
    NameList,
    describe_written,
    literal_led_alternation,
    quote,
    strip_www,
)
from policies.detect.config import LinksConfig, LinkWeights
from policies.detect.normalize import Normalized
from policies.facts import MessageFacts
from policies.verdict import Hit

__all__ = ["TLDS", "make_links_check"]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


TLDS = _words(
    "com net org info biz edu gov cn hk tw mo jp kr sg th vn ph ru su ua uk ca au de fr nl eu "
    "io co cc tv ly gl gd la ws top xyz vip shop store online site club live fun icu ltd work "
    "tech app dev link click pro asia mobi cloud life today world win bet casino games pw tk ml "
    "ga cf gq buzz best cyou sbs monster rest space website fit love xin wang ink red kim bid cam "
    "me"
)
"""Top-level domains recognised in plain text. Short ones that are also common words or file
extensions (`it`, `is`, `in`, `to`, `md`, `py`) are left out on purpose."""

# A domain written with spaces around its dots must end in one of these to count.
_SPACED_TLDS = frozenset(
    _words("com net org cn cc top xyz vip info biz shop club site online app ltd icu")
)
_JOIN_STOPWORDS = frozenset(
    _words(
        "a an the to at on in of or and is my our your go see visit open search check out click "
        "please from for via www http https"
    )
)
_BENIGN_TELEGRAM_PATHS = frozenset(
    {"addstickers", "addemoji", "addtheme", "setlanguage", "iv", "share"}
)
_INVITE_PATHS = frozenset({"joinchat", "+"})

_TLD_ALTERNATION = "|".join(sorted(TLDS, key=len, reverse=True))
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
# Two scans, each starting with a plain character or class so `re` can skip ahead quickly:
# URLs with a scheme and @mentions, then bare domains (which never follow a "/" or "@").
_URL_BODY = r"[^\s<>\"'“”‘’，。！？、（）()\[\]{}]{1,2000}"
_URLS_AND_MENTIONS, _KIND_OF_GROUP = literal_led_alternation(
    [
        ("url", f"h(?<![a-z0-9]h)ttps?://{_URL_BODY}"),
        ("url", f"t(?<![a-z0-9]t)g://{_URL_BODY}"),
        ("mention", "@(?<![a-z0-9_@.]@)[a-z][a-z0-9_]{3,31}(?![a-z0-9_@])"),
    ]
)
_DOMAINS = re.compile(
    r"[a-z0-9](?<![a-z0-9@._\-/].)(?:[a-z0-9\-]{0,61}[a-z0-9])?[ ]{0,2}\.[ ]{0,2}"
    rf"(?:{_LABEL}[ ]{{0,2}}\.[ ]{{0,2}}){{0,3}}(?P<tld>{_TLD_ALTERNATION})(?![a-z0-9\-])"
    r"(?P<path>[ ]{0,2}/[ ]{0,2}[a-z0-9_+\-]{1,64}(?:/[^\s]{0,200})?)?"
)
# What every bare domain ends with, led by a literal: `_DOMAINS` starts at every letter and
# digit, so most texts with a dot (a sentence's end, a price) are ruled out with this first.
_DOT_BEFORE_TLD = re.compile(rf"\.[ ]{{0,2}}(?:{_TLD_ALTERNATION})(?![a-z0-9\-])")
_SPACED_TOKENS_BEFORE = re.compile(r"(?:[a-z0-9]{1,8}[ ]{1,2}){1,12}$")
_TOKEN = re.compile(r"[a-z0-9]+")
_WINDOW_BEFORE = 48


@dataclass(frozen=True, slots=True)
class _Link:
    """One link found in the message, before the policy weighs it."""

    host: str
    path: str
    evidence: str
    where: str = ""
    """How it was found, for the reason: '' (in the text), 'hidden' or 'button'."""


@dataclass(frozen=True, slots=True)
class _Mention:
    name: str
    evidence: str


def make_links_check(cfg: LinksConfig, *, weighed_elsewhere: Iterable[str] = ()) -> Check:
    """Build the link check for one policy.

    `weighed_elsewhere`: domains another check scores (the marketplaces), so a link to them is
    not also an unknown link.
    """
    return _LinkPolicy(
        allow=NameList.parse(cfg.allow),
        block=NameList.parse(cfg.block),
        shorteners=NameList.parse(cfg.shorteners),
        weights=cfg.weights,
        elsewhere=NameList.parse(weighed_elsewhere),
    ).check


_Keyed = tuple[tuple[str, str], Hit]
"""A hit with the key that stops one link being reported twice."""


@dataclass(frozen=True, slots=True)
class _LinkPolicy:
    allow: NameList
    block: NameList
    shorteners: NameList
    weights: LinkWeights
    elsewhere: NameList

    def check(self, facts: MessageFacts, norm: Normalized) -> list[Hit]:
        if not (facts.link_urls or facts.button_urls or facts.mentions or _may_link(norm.text)):
            return []
        hits: dict[tuple[str, str], Hit] = {}
        for item in _links_of(facts, norm):
            if isinstance(item, _Link):
                keyed = self._weigh_link(item, facts.chat_id)
            else:
                keyed = self._weigh_mention(item)
            if keyed is not None and keyed[0] not in hits:
                hits[keyed[0]] = keyed[1]
        return list(hits.values())

    def _weigh_link(self, link: _Link, chat_id: int) -> _Keyed | None:
        host = link.host
        if host in TELEGRAM_HOSTS:
            return self._weigh_telegram(link, chat_id)
        if self.allow.has_host(host):
            return None
        written = _written(link)
        if self.block.has_host(host):
            reason = f"blocked link: {host}{written}"
            return _hit("link.blocked", host, self.weights.blocked, reason, link)
        if self.shorteners.has_host(host):
            reason = f"link through a URL shortener: {host}{written}"
            return _hit("link.shortener", host, self.weights.shortener, reason, link)
        if self.elsewhere.has_host(host):
            return None
        return _hit("link.unknown", host, self.weights.unknown, f"link: {host}{written}", link)

    def _weigh_telegram(self, link: _Link, chat_id: int) -> _Keyed | None:
        first, _, rest = link.path.strip("/").partition("/")
        if not first or first in _BENIGN_TELEGRAM_PATHS or self.allow.has_name(first):
            return None
        if first == "c":
            return self._weigh_message_link(link, rest, chat_id)
        target = f"t.me/{first}"
        written = _written(link, target)
        if self.block.has_name(first):
            reason = f"blocked link: {target}{written}"
            return _hit("link.blocked", target, self.weights.blocked, reason, link)
        if first.startswith("+") or first in _INVITE_PATHS:
            target = f"t.me/{first}/{rest}".rstrip("/")
            reason = f"Telegram invite link: {target}{written}"
        else:
            reason = f"Telegram link to another chat: {target}{written}"
        return _hit("link.invite", target, self.weights.invite, reason, link)

    def _weigh_message_link(self, link: _Link, rest: str, chat_id: int) -> _Keyed | None:
        """`t.me/c/<id>/<message>` points into a private chat: fine when it is this one."""
        internal_id = rest.partition("/")[0]
        if internal_id.isdigit() and str(chat_id).removeprefix("-100") == internal_id:
            return None
        target = f"t.me/c/{internal_id}"
        reason = f"link to a message in another chat: {target}"
        return _hit("link.unknown", target, self.weights.unknown, reason, link)

    def _weigh_mention(self, mention: _Mention) -> _Keyed | None:
        name = mention.name
        if self.allow.has_name(name):
            return None
        if self.block.has_name(name):
            reason = f"mention of a blocked account: @{name}"
            hit = Hit("link.blocked", reason, mention.evidence, self.weights.blocked)
            return ("link.blocked", name), hit
        reason = f"mention of an account the shop does not list: @{name}"
        return ("link.mention", name), Hit(
            "link.mention", reason, mention.evidence, self.weights.mention
        )


def _hit(rule: str, target: str, score: float, reason: str, link: _Link) -> _Keyed:
    if link.where == "hidden":
        reason += " (hidden behind the link text)"
    elif link.where == "button":
        reason += " (in a button)"
    return (rule, target), Hit(rule, reason, quote(link.evidence), score)


def _written(link: _Link, canonical: str | None = None) -> str:
    if link.where:
        return ""
    return describe_written(canonical or link.host, link.evidence)


def _may_link(text: str) -> bool:
    return "." in text or "@" in text or "://" in text


def _links_of(facts: MessageFacts, norm: Normalized) -> Iterator[_Link | _Mention]:
    yield from _text_links(norm)
    for url in facts.link_urls:
        link = _parse_url(url, where="hidden")
        if link is not None:
            yield link if link.host not in norm.text else _Link(link.host, link.path, url)
    for url in facts.button_urls:
        link = _parse_url(url, where="button")
        if link is not None:
            yield link
    for mention in facts.mentions:
        name = mention.lower().lstrip("@")
        if name:
            yield _Mention(name, "@" + mention.lstrip("@"))


def _text_links(norm: Normalized) -> Iterator[_Link | _Mention]:
    text = norm.text
    if "@" in text or "://" in text:
        for match in _URLS_AND_MENTIONS.finditer(text):
            span = norm.original_span(*match.span())
            if _KIND_OF_GROUP[match.lastgroup or ""] == "mention":
                yield _Mention(match.group()[1:], span)
                continue
            link = _parse_url(match.group(), where="")
            if link is not None:
                yield _Link(link.host, link.path, span)
    if "." in text and _DOT_BEFORE_TLD.search(text) is not None:
        for match in _DOMAINS.finditer(text):
            link = _bare_domain(norm, match)
            if link is not None:
                yield link


def _bare_domain(norm: Normalized, match: re.Match[str]) -> _Link | None:
    """A domain written without a scheme, possibly spaced out or with the dot spelled."""
    start, domain_end = match.start(), match.end("tld")
    raw_domain = norm.text[start:domain_end]
    host = raw_domain.replace(" ", "")
    spaced = " " in raw_domain
    path = (match.group("path") or "").replace(" ", "")
    if spaced and match.group("tld") not in _SPACED_TLDS and host not in TELEGRAM_HOSTS:
        return None
    if spaced or _dot_was_spelled(norm, start, domain_end):
        start, prefix = _joined_tokens_before(norm.text, start)
        host = prefix + host
    return _Link(strip_www(host), path, norm.original_span(start, match.end()))


def _dot_was_spelled(norm: Normalized, start: int, end: int) -> bool:
    for index in range(start, end):
        if norm.text[index] == "." and norm.original_span(index, index + 1) != ".":
            return True
    return False


def _joined_tokens_before(text: str, start: int) -> tuple[int, str]:
    """Words just before a spaced-out domain that belong to it ("pin duo duo 点 com")."""
    window_start = max(0, start - _WINDOW_BEFORE)
    match = _SPACED_TOKENS_BEFORE.search(text, window_start, start)
    if match is None or (match.start() > 0 and text[match.start() - 1].isalnum()):
        return start, ""
    joined = ""
    for token in reversed(list(_TOKEN.finditer(text, match.start(), match.end()))):
        if token.group() in _JOIN_STOPWORDS:
            break
        joined = token.group() + joined
        start = token.start()
    return start, joined


def _parse_url(url: str, *, where: str) -> _Link | None:
    raw = url.strip()
    lowered = raw.lower()
    if lowered.startswith(("mailto:", "tel:")):
        return None
    if lowered.startswith("tg:"):
        return _parse_tg_url(raw, where=where)
    if "://" not in lowered:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        host, parts = "", None
    if not host:
        return _Link(quote(url, 40), "", url, where)
    return _Link(strip_www(host), parts.path.lower() if parts else "", url, where)


def _parse_tg_url(url: str, *, where: str) -> _Link:
    """`tg://resolve?domain=name` and `tg://join?invite=hash` as their t.me equivalents."""
    parts = urlsplit(url.lower())
    query = parse_qs(parts.query)
    if parts.netloc == "join":
        return _Link("t.me", "+" + "".join(query.get("invite", [""])), url, where)
    return _Link("t.me", "".join(query.get("domain", [""])), url, where)

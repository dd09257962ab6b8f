"""Rendering templates: operators write HTML, every placeholder value is escaped.

A value wrapped in `Html` was built here (a mention link) and goes in as it is; anything
else, above all names and texts members control, is escaped so it can never break the markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

MAX_NAME_LENGTH = 64


class Html(str):
    """Markup produced by qunbot itself, already safe to insert."""

    __slots__ = ()


def escape(value: object) -> Html:
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


_LONG_NUMBER = re.compile(r"[0-9](?:[ \-.·]?[0-9]){5,}")
_ID_LIKE = re.compile(r"@?[A-Za-z0-9_]*[0-9][A-Za-z0-9_]*|@[A-Za-z0-9_]{4,}")
_CONTACT_CUE = re.compile(r"加|薇|微|威|扣|企鹅|联系|私聊|私信|vx|wx|qq|[qv](?![a-z0-9])", re.I)
HIDDEN = "…"


def without_contacts(name: str) -> str:
    """A display name as qunbot may print it: spammers put their contact in their name
    ("加薇信 fl8866 领福利"), and a notice must not publish it. Long numbers always go; ids
    with digits, and @names, go when the name also offers a contact (加, 薇信, vx, QQ…)."""
    shown = _LONG_NUMBER.sub(HIDDEN, name)
    if _CONTACT_CUE.search(shown):
        shown = _ID_LIKE.sub(_hidden_if_long, shown)
    return shown


def _hidden_if_long(match: re.Match[str]) -> str:
    return HIDDEN if len(match.group()) >= 4 else match.group()


def mention(user_id: int, name: str) -> Html:
    """A link to a member that works without a username; the name is shortened, escaped and
    stripped of contacts (see `without_contacts`). A chat (a channel posting in the group) has
    no such link: its title is shown in bold."""
    shown = without_contacts(" ".join(name.split())[:MAX_NAME_LENGTH]) or str(user_id)
    if user_id < 0:
        return Html(f"<b>{html.escape(shown)}</b>")
    return Html(f'<a href="tg://user?id={int(user_id)}">{html.escape(shown)}</a>')


def join_mentions(mentions: Iterable[Html], *, separator: str = ", ") -> Html:
    return Html(separator.join(mentions))


def render(template: str, values: Mapping[str, object]) -> str:
    """Fill a template's `{placeholders}`; unknown ones were rejected when the policy loaded."""
    return template.format_map({key: escape(value) for key, value in values.items()})


MAX_MESSAGE = 4096
"""Telegram's limit for a message's text, in UTF-16 code units."""
MENTIONS_BUDGET = 900
"""UTF-16 units of names per list of mentions; the rest are counted ("+170")."""
_PARTS = re.compile(r"<[^>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z0-9-]+)")
_CHINESE = re.compile("[\u3400-\u9fff]")
ELLIPSIS = "…"


def telegram_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def clip_plain(text: str, limit: int = MAX_MESSAGE) -> str:
    """Plain text cut to `limit` units, with an ellipsis when cut."""
    if telegram_length(text) <= limit:
        return text
    return _fit_chars(text, limit - 1) + ELLIPSIS


def _fit_chars(text: str, room: int) -> str:
    used, kept = 0, []
    for char in text:
        used += telegram_length(char)
        if used > room:
            break
        kept.append(char)
    return "".join(kept)


def clip_html(text: str, limit: int = MAX_MESSAGE) -> str:
    """HTML cut to `limit` units without breaking the markup: no tag or entity is cut in half
    and every tag left open is closed, so Telegram still parses what is kept."""
    if telegram_length(text) <= limit:
        return text
    kept: list[str] = []
    open_tags: list[str] = []
    used = 0
    for part in _PARTS.findall(text):
        closers = sum(len(name) + 3 for name in open_tags)
        room = limit - len(ELLIPSIS) - closers - used
        if part.startswith("<") and part.endswith(">"):
            name_match = _TAG_NAME.match(part)
            name = name_match.group(1).lower() if name_match else ""
            opening = not part.startswith("</")
            if telegram_length(part) + (len(name) + 3 if opening else 0) > room:
                break
            if opening:
                open_tags.append(name)
            elif name in open_tags:
                open_tags.reverse()
                open_tags.remove(name)
                open_tags.reverse()
        elif part.startswith("&") and len(part) > 1:
            if telegram_length(part) > room:
                break
        else:
            fitted = _fit_chars(part, room)
            if fitted != part:
                kept.append(fitted)
                used += telegram_length(fitted)
                break
        kept.append(part)
        used += telegram_length(part)
    closing = "".join(f"</{name}>" for name in reversed(open_tags))
    return "".join(kept) + ELLIPSIS + closing


def capped_mentions(
    mentions: Iterable[Html],
    budget: int = MENTIONS_BUDGET,
    *,
    total: int | None = None,
    separator: str = ", ",
) -> Html:
    """The first people by name, then how many more: a raid's message names 200 accounts.
    `total` is how many people the list stands for, when only the first were passed."""
    shown: list[Html] = []
    used = seen = 0
    for item in mentions:
        seen += 1
        used += telegram_length(item) + 2
        if used > budget and shown:
            continue
        shown.append(item)
    hidden = max(total if total is not None else seen, seen) - len(shown)
    joined = join_mentions(shown, separator=separator)
    return Html(f"{joined} +{hidden}") if hidden else joined


def list_separator(template: str) -> str:
    """How a template's own language joins names: `、` in a Chinese template, else `, `."""
    return "、" if _CHINESE.search(template) else ", "


def pack(parts: Iterable[str], limit: int = MAX_MESSAGE, separator: str = "\n\n") -> list[str]:
    """HTML parts joined into as few messages as fit `limit`; a part too long on its own is
    clipped. Nothing is dropped but what a clip cuts."""
    messages: list[str] = []
    for part in parts:
        piece = clip_html(part, limit)
        if messages and telegram_length(messages[-1] + separator + piece) <= limit:
            messages[-1] += separator + piece
        else:
            messages.append(piece)
    return messages


def public_reason(rules: Iterable[str], kinds: Mapping[str, str]) -> str:
    """What public notices say a message broke: the kind of each rule (`WeChat contact`,
    `invite link`), never the text, number or link that matched; joined the way the kinds'
    own language joins them (`；` between Chinese names), since they come from the policy's
    templates whatever language the group's replies are in."""
    named = []
    for rule in rules:
        family = rule.partition(".")[0]
        named.append(kinds.get(rule) or kinds.get(family) or kinds.get("default", ""))
    names = list(dict.fromkeys(name for name in named if name))
    separator = "；" if any(_CHINESE.search(name) for name in names) else "; "
    return separator.join(names)

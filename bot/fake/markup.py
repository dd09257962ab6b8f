"""Telegram's HTML formatting subset: turns ``parse_mode=HTML`` text into text and entities."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

ENTITY_BY_TAG = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTR = r"""[a-zA-Z_-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?"""
_TAG_RE = re.compile(rf"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+{_ATTR})*)\s*>")
_ATTR_RE = re.compile(r"([a-zA-Z_-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_CHAR_REF_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's wording."""


@dataclass
class _Open:
    tag: str
    offset: int
    attrs: dict[str, str]


@dataclass
class _Parser:
    source: str
    text: list[str] = field(default_factory=list)
    length: int = 0
    stack: list[_Open] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)

    def append(self, chunk: str) -> None:
        self.text.append(chunk)
        self.length += utf16_len(chunk)

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode())

    def handle_tag(self, match: re.Match[str]) -> None:
        closing, tag = match.group(1) == "/", match.group(2).lower()
        attrs = {
            m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR_RE.finditer(match.group(3))
        }
        bad_span = tag == "span" and not closing and attrs.get("class") != "tg-spoiler"
        if tag not in ENTITY_BY_TAG or bad_span:
            kind = "end" if closing else "start"
            at = self.byte_offset(match.start())
            raise EntityParseError(f'Unsupported {kind} tag "{tag}" at byte offset {at}')
        if not closing:
            self.stack.append(_Open(tag, self.length, attrs))
            return
        if not self.stack:
            raise EntityParseError(
                f"Unexpected end tag at byte offset {self.byte_offset(match.start())}"
            )
        opened = self.stack.pop()
        if opened.tag != tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(match.start())}, "
                f'expected "</{opened.tag}>", found "</{tag}>"'
            )
        self.close(opened)

    def close(self, opened: _Open) -> None:
        entity: dict[str, Any] = {
            "type": ENTITY_BY_TAG[opened.tag],
            "offset": opened.offset,
            "length": self.length - opened.offset,
        }
        if opened.tag == "a":
            href = opened.attrs.get("href", "")
            user = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if user:
                entity.update(type="text_mention", user={"id": int(user.group(1))})
            else:
                entity["url"] = href
        elif opened.tag == "tg-emoji":
            entity["custom_emoji_id"] = opened.attrs.get("emoji-id", "")
        elif opened.tag == "blockquote" and "expandable" in opened.attrs:
            entity["type"] = "expandable_blockquote"
        elif opened.tag == "code" and self.stack and self.stack[-1].tag == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            language = opened.attrs.get("class", "").removeprefix("language-")
            if language:
                self.stack[-1].attrs["language"] = language
            return
        if opened.tag == "pre" and opened.attrs.get("language"):
            entity["language"] = opened.attrs["language"]
        if entity["length"] > 0:
            self.entities.append(entity)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _unescape(chunk: str) -> str:
    return _CHAR_REF_RE.sub(lambda m: html.unescape(m.group(0)), chunk)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Returns (plain text, entities) or raises ``EntityParseError`` like Telegram does."""
    parser = _Parser(source)
    position = 0
    while (start := source.find("<", position)) != -1:
        parser.append(_unescape(source[position:start]))
        match = _TAG_RE.match(source, start)
        if match is None:
            at = parser.byte_offset(start)
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        parser.handle_tag(match)
        position = match.end()
    parser.append(_unescape(source[position:]))
    if parser.stack:
        tag = parser.stack[-1].tag
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
    parser.entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.text), parser.entities


_AUTO_ENTITY_RES = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?(?!\w)")),
    ("email", re.compile(r"(?<![\w.@])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?!\w)")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w+")),
    (
        "url",
        re.compile(
            r"(?<![\w@./-])(?:https?://)?(?:[\w-]+\.)+[A-Za-z]{2,}(?::\d+)?(?:/[^\s]*)?",
            re.IGNORECASE,
        ),
    ),
)


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Finds the entities Telegram marks by itself: commands, mentions, hashtags, emails, URLs."""
    taken: list[tuple[int, int]] = []
    entities: list[dict[str, Any]] = []
    for kind, pattern in _AUTO_ENTITY_RES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            entities.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[:start]),
                    "length": utf16_len(match.group(0)),
                }
            )
    return sorted(entities, key=lambda e: int(e["offset"]))

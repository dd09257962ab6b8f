"""What every check shares: its signature, evidence quoting and allow/block name lists."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from policies.detect.normalize import Normalized
from policies.facts import MessageFacts
from policies.verdict import Hit

__all__ = [
    "TELEGRAM_HOSTS",
    "Check",
    "NameList",
    "describe_written",
    "literal_led_alternation",
    "quote",
    "strip_www",
    "word_start",
]

Check = Callable[[MessageFacts, Normalized], list[Hit]]
"""A pure check: the facts of one message and its normalized text in, the hits out."""

TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog"})

_MAX_QUOTE = 80
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]{0,15}://")
_SPACES = re.compile(r"\s+")


def quote(text: str, limit: int = _MAX_QUOTE) -> str:
    """One line of evidence, short enough for a chat message."""
    # Every white-space character but the plain space is unprintable: a printable text
    # without two spaces in a row has nothing to squeeze.
    line = text if text.isprintable() and "  " not in text else _SPACES.sub(" ", text)
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_written(canonical: str, evidence: str) -> str:
    """` (written "...")` when the member disguised `canonical`, else nothing."""
    plain = _SCHEME.sub("", evidence.strip().lower())
    if plain.startswith("www."):
        plain = plain[4:]
    if plain.startswith(canonical):
        return ""
    return f' (written "{quote(evidence)}")'


def strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True, slots=True)
class NameList:
    """Domains and Telegram names taken from a policy's allow or block list.

    An entry may be a domain (`myshop.com`, which covers its subdomains), a URL, an `@name`
    or a `t.me/name` link.
    """

    domains: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> NameList:
        domains: set[str] = set()
        names: set[str] = set()
        for entry in entries:
            kind, value = _parse_entry(entry)
            if value:
                (names if kind == "name" else domains).add(value)
        return cls(frozenset(domains), frozenset(names))

    def has_host(self, host: str) -> bool:
        """Whether `host` is a listed domain or a subdomain of one."""
        if not self.domains:
            return False
        host = strip_www(host.lower().rstrip("."))
        while True:
            if host in self.domains:
                return True
            _, dot, rest = host.partition(".")
            if not dot:
                return False
            host = rest

    def has_name(self, name: str) -> bool:
        return name.lower().lstrip("@") in self.names


def _parse_entry(entry: str) -> tuple[str, str]:
    value = _SCHEME.sub("", entry.strip().lower())
    if value.startswith("@"):
        return "name", value[1:]
    host, _, path = value.partition("/")
    host = strip_www(host.removeprefix("*."))
    if host in TELEGRAM_HOSTS and path:
        return "name", path.split("/", 1)[0].split("?", 1)[0]
    return "domain", host.rstrip(".")


def word_start(word: str) -> str:
    """`word` as a regex that must not continue a longer Latin word ("vx" but not "wvx").

    The guard comes after the first character, so the pattern still starts with a literal.
    """
    first = re.escape(word[0])
    return f"{first}(?<![a-z0-9]{first}){re.escape(word[1:])}"


def literal_led_alternation(
    alternatives: Iterable[tuple[str, str]],
) -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex for many (kind, pattern) alternatives, and the kind of each match's group.

    Each pattern should start with a literal character: `re` then collects the first
    characters into a set and skips every position that cannot start a match, which is what
    keeps a long alternation cheap. A pattern starting with a class or a lookbehind disables
    that for the whole regex. Each alternative ends in an empty named group, so
    `match.lastgroup` tells which one matched.

    When every pattern starts with a literal, the patterns sharing a first character are
    nested in one group (in their order), which `re` turns into that character followed by
    their alternation: at a candidate position it then tries one group instead of every
    pattern. Only patterns starting with the character at hand can match there, so the
    first one that matches, and so the match, is the same as in the flat alternation.
    """
    parts: list[str] = []
    by_first: dict[str | None, list[str]] = {}
    kinds: dict[str, str] = {}
    for index, (kind, pattern) in enumerate(alternatives):
        group = f"k{index}"
        parts.append(f"{pattern}(?P<{group}>)")
        by_first.setdefault(_first_literal(pattern), []).append(parts[-1])
        kinds[group] = kind
    if None in by_first:
        return re.compile("|".join(parts)), kinds
    nested = [same[0] if len(same) == 1 else f"(?:{'|'.join(same)})" for same in by_first.values()]
    return re.compile("|".join(nested)), kinds


_REGEX_SYNTAX = frozenset("\\.^$*+?{}[]|()")
_QUANTIFIERS = frozenset("*+?{")


def _first_literal(pattern: str) -> str | None:
    """The character a pattern's every match starts with, when it opens with a plain or
    escaped literal that no quantifier follows; None otherwise."""
    if pattern[:1] == "\\" and len(pattern) > 1 and not pattern[1].isalnum():
        literal, rest = pattern[1], pattern[2:]
    elif pattern and pattern[0] not in _REGEX_SYNTAX:
        literal, rest = pattern[0], pattern[1:]
    else:
        return None
    return None if rest[:1] in _QUANTIFIERS else literal

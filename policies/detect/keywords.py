"""The policy's own keywords and patterns, compiled into one matcher per policy.

Literal keywords become a single trie-shaped regex, so each position of the text costs about
the same however long the list is. Patterns marked `regex` are written by admins, so they are
compiled together by RE2, whose matching time is linear in the text whatever the pattern.
Everything is matched on the normalized text, so a keyword also catches its full-width,
homoglyph and spaced-digit disguises.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from policies.detect.base import Check, quote
from policies.detect.config import KeywordEntry, KeywordsConfig
from policies.detect.normalize import Normalized, normalize
from policies.detect.safe_regex import SafePattern, compile_safe
from policies.facts import MessageFacts
from policies.verdict import Hit

__all__ = ["make_keywords_check", "trie_regex"]

_WORD_EDGE = re.compile(r"[a-z0-9]")

_Trie = dict[str, "_Trie"]


@dataclass(frozen=True, slots=True)
class _Keyword:
    entry: KeywordEntry
    folded: str
    """The literal as normalized text reads it; empty for regex entries."""


def make_keywords_check(cfg: KeywordsConfig) -> Check:
    """Build the keyword check for one policy."""
    literals: dict[str, _Keyword] = {}
    regex_entries: list[_Keyword] = []
    for entry in cfg.entries:
        if entry.regex:
            regex_entries.append(_Keyword(entry, ""))
            continue
        folded = " ".join(normalize(entry.pattern).text.split())
        if folded:
            # A later entry for the same word wins: a group's /block after the preset's.
            literals[folded] = _Keyword(entry, folded)
    if not literals and not regex_entries:
        return _no_keywords
    matcher = _KeywordMatcher(
        literals,
        re.compile(trie_regex(list(literals))) if literals else None,
        regex_entries,
        _compile_patterns([keyword.entry.pattern for keyword in regex_entries]),
    )

    def check_keywords(facts: MessageFacts, norm: Normalized) -> list[Hit]:
        if not matcher.may_match(norm.text):
            return []
        hits: dict[str, Hit] = {}
        for span, keyword in matcher.matches(norm.text):
            pattern = keyword.entry.pattern
            if pattern not in hits:
                evidence = quote(norm.original_span(*span))
                reason, weight = _reason(keyword, evidence), keyword.entry.weight
                hits[pattern] = Hit(f"keyword.{pattern}", reason, evidence, weight)
        return list(hits.values())

    return check_keywords


@dataclass(frozen=True, slots=True)
class _KeywordMatcher:
    literals: dict[str, _Keyword]
    literal_regex: re.Pattern[str] | None
    patterns: list[_Keyword]
    pattern_regex: SafePattern | None

    def may_match(self, text: str) -> bool:
        """False when neither a literal nor a pattern occurs: one scan, nothing else built."""
        return (
            self.literal_regex is not None and self.literal_regex.search(text) is not None
        ) or (self.pattern_regex is not None and self.pattern_regex.search(text) is not None)

    def matches(self, text: str) -> Iterator[tuple[tuple[int, int], _Keyword]]:
        """Each literal found on word edges, then each pattern's match."""
        if self.literal_regex is not None:
            for match in self.literal_regex.finditer(text):
                if _on_word_edges(text, match.span()):
                    yield match.span(), self.literals[" ".join(match.group().split())]
        if self.pattern_regex is not None:
            for found in self.pattern_regex.finditer(text):
                yield found.span(), self.patterns[int((found.lastgroup or "r0")[1:])]


def _no_keywords(facts: MessageFacts, norm: Normalized) -> list[Hit]:
    return []


def _compile_patterns(patterns: list[str]) -> SafePattern | None:
    if not patterns:
        return None
    return compile_safe("|".join(f"(?P<r{index}>(?i:{p}))" for index, p in enumerate(patterns)))


def _on_word_edges(text: str, span: tuple[int, int]) -> bool:
    """A Latin keyword must not be part of a longer word: "usdt" is not in "xusdtx"."""
    start, end = span
    word = text[start:end]
    if _WORD_EDGE.match(word[0]) and start > 0 and _WORD_EDGE.match(text[start - 1]):
        return False
    return not (_WORD_EDGE.match(word[-1]) and end < len(text) and _WORD_EDGE.match(text[end]))


def _reason(keyword: _Keyword, evidence: str) -> str:
    pattern = keyword.entry.pattern
    kind = "pattern" if keyword.entry.regex else "keyword"
    written = "" if evidence.lower() == pattern.lower() else f' (written "{evidence}")'
    return f'{kind} "{pattern}"{written}'


def trie_regex(words: list[str]) -> str:
    """One regex matching any of `words`, shaped as a trie so matching never backtracks far.

    Longer words win over their prefixes, because every optional tail is greedy.
    """
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_node_regex(root)


def _trie_char(char: str) -> str:
    """A space in a keyword stands for any run of white space."""
    return r"\s+" if char == " " else re.escape(char)


def _trie_node_regex(node: _Trie) -> str:
    branches = [
        _trie_char(char) + _trie_node_regex(child) for char, child in sorted(node.items()) if char
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body

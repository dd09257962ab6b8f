"""The policy's own keywords and patterns, compiled into one matcher per policy.

Literal keywords become a single trie-shaped regex, so each position of the text costs about
the same however long the list is. Patterns marked `regex` are appended as alternatives.
Everything is matched on the normalized text, so a keyword also catches its full-width,
homoglyph and spaced-digit disguises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policies.detect.base import Check, quote
from policies.detect.config import KeywordEntry, KeywordsConfig
from policies.detect.normalize import Normalized, normalize
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
        if folded and folded not in literals:
            literals[folded] = _Keyword(entry, folded)
    matcher = _compile(list(literals), [keyword.entry.pattern for keyword in regex_entries])
    if matcher is None:
        return _no_keywords

    def check_keywords(facts: MessageFacts, norm: Normalized) -> list[Hit]:
        hits: dict[str, Hit] = {}
        for match in matcher.finditer(norm.text):
            group = match.lastgroup or ""
            if group == "literal":
                keyword = literals[" ".join(match.group().split())]
                if not _on_word_edges(norm.text, match):
                    continue
            else:
                keyword = regex_entries[int(group[1:])]
            pattern = keyword.entry.pattern
            if pattern not in hits:
                evidence = quote(norm.original_span(*match.span()))
                reason, weight = _reason(keyword, evidence), keyword.entry.weight
                hits[pattern] = Hit(f"keyword.{pattern}", reason, evidence, weight)
        return list(hits.values())

    return check_keywords


def _no_keywords(facts: MessageFacts, norm: Normalized) -> list[Hit]:
    return []


def _compile(literals: list[str], patterns: list[str]) -> re.Pattern[str] | None:
    alternatives = [f"(?P<literal>{trie_regex(literals)})"] if literals else []
    alternatives += [f"(?P<r{index}>(?i:{pattern}))" for index, pattern in enumerate(patterns)]
    return re.compile("|".join(alternatives)) if alternatives else None


def _on_word_edges(text: str, match: re.Match[str]) -> bool:
    """A Latin keyword must not be part of a longer word: "usdt" is not in "xusdtx"."""
    start, end = match.span()
    word = match.group()
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

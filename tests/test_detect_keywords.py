"""The policy's keywords: literals through one trie regex, and opt-in regexes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from policies.detect.config import KeywordEntry, KeywordsConfig
from policies.detect.keywords import make_keywords_check, trie_regex
from policies.detect.normalize import normalize
from policies.facts import MessageFacts
from policies.verdict import Hit

POLICY = KeywordsConfig(
    entries=[
        KeywordEntry(pattern="日赚", weight=0.6),
        KeywordEntry(pattern="兼职日结", weight=0.8),
        KeywordEntry(pattern="USDT", weight=0.4),
        KeywordEntry(pattern="guaranteed profit", weight=1.0),
        KeywordEntry(pattern=r"稳赚\s*不赔", weight=0.7, regex=True),
    ]
)
CHECK = make_keywords_check(POLICY)


def scan(text: str) -> list[Hit]:
    return CHECK(
        MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text=text), normalize(text)
    )


@pytest.mark.parametrize(
    ("text", "rule", "score"),
    [
        ("手机兼职，日赚三百", "keyword.日赚", 0.6),
        ("兼职日结，速来", "keyword.兼职日结", 0.8),
        ("收 usdt 出 U", "keyword.USDT", 0.4),
        ("ＵＳＤＴ承兑", "keyword.USDT", 0.4),
        ("Guaranteed  Profit every week", "keyword.guaranteed profit", 1.0),
        ("稳赚   不赔", r"keyword.稳赚\s*不赔", 0.7),
    ],
)
def test_keywords_hit(text: str, rule: str, score: float) -> None:
    assert (rule, score) in {(hit.rule, hit.score) for hit in scan(text)}


@pytest.mark.parametrize(
    "text",
    ["这个多少钱", "when will my order ship", "xusdtx is not a word here", "日子过得真快"],
)
def test_keywords_do_not_hit(text: str) -> None:
    assert scan(text) == []


def test_longest_literal_wins_and_evidence_is_original() -> None:
    (hit,) = scan("兼职日结")
    assert hit.rule == "keyword.兼职日结"
    (hit,) = scan("ＵＳＤＴ")
    assert hit.evidence == "ＵＳＤＴ"
    assert hit.reason == 'keyword "USDT" (written "ＵＳＤＴ")'


def test_no_keywords_means_no_hits() -> None:
    check = make_keywords_check(KeywordsConfig(entries=[]))
    assert (
        check(
            MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text="日赚"),
            normalize("日赚"),
        )
        == []
    )


def test_trie_regex_matches_exactly_the_words() -> None:
    import re

    words = ["ab", "abc", "abd", "b", "日赚", "日入"]
    pattern = re.compile(f"(?:{trie_regex(words)})$")
    for word in words:
        assert pattern.match(word)
    for other in ["a", "abx", "日", "c"]:
        assert not pattern.match(other)


@pytest.mark.parametrize("pattern", ["(a+)+", "(x*)*y", "[", "(?P<x", "(?P<name>a)", "a(?i)b"])
def test_dangerous_or_broken_regexes_are_refused(pattern: str) -> None:
    with pytest.raises(ValidationError):
        KeywordEntry(pattern=pattern, regex=True)


def test_a_literal_keyword_may_look_like_a_regex() -> None:
    check = make_keywords_check(KeywordsConfig(entries=[KeywordEntry(pattern="(a+)+")]))
    facts = MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text="x (a+)+ y")
    assert [hit.rule for hit in check(facts, normalize(facts.text))] == ["keyword.(a+)+"]


def test_a_later_entry_for_the_same_word_wins() -> None:
    check = make_keywords_check(
        KeywordsConfig(
            entries=[
                KeywordEntry(pattern="刷单", weight=0.6),
                KeywordEntry(pattern="刷单", weight=1.0),
            ]
        )
    )
    text = "谁要刷单"
    facts = MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text=text)
    assert [hit.score for hit in check(facts, normalize(text))] == [1.0]

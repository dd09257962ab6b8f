"""Hostile admins: a keyword or complaint pattern can never stall the bot, in YAML or by /set."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.core.policy_files import PolicyLibrary
from policies.complaints import ComplaintCue, ComplaintMatcher
from policies.detect.config import KeywordEntry, KeywordsConfig
from policies.detect.keywords import make_keywords_check
from policies.detect.normalize import normalize
from policies.detect.safe_regex import compile_safe
from policies.facts import MessageFacts
from policies.loader import PolicySource, load_policy
from policies.yamlsource import SourceError
from tests.harness import ADMIN, GROUP, Harness, make_config

CATASTROPHIC = ["(?:a|aa)+$", "(a|a)+$", "(a+)+$", "(a*)*$", "(?:a|a?)+b", "(.*a){20}$"]
"""Each takes Python's backtracking `re` seconds to years on 40 characters."""

ACCEPTED_BY_THE_SCHEMA = ["(?:a|aa)+$", "(a|a)+$", "(?:a|a?)+b", "(?:x|xx|xxx)*y$"]
INPUTS = ["a" * 40 + "!", "a" * 4096 + "!", ("a" * 30 + " ") * 130]
LIBRARY = PolicyLibrary(None)
DEADLINE = 1.0
"""Generous: RE2 takes about a millisecond; `re` takes 2 s on 35 characters and more after."""


def _facts(text: str) -> MessageFacts:
    return MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text=text)


@pytest.mark.parametrize("text", INPUTS, ids=["40", "4096", "words"])
@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_run_in_linear_time(pattern: str, text: str) -> None:
    compiled = compile_safe(f"(?i:{pattern})")
    started = time.perf_counter()
    list(compiled.finditer(text))
    assert time.perf_counter() - started < DEADLINE


@pytest.mark.parametrize("text", INPUTS, ids=["40", "4096", "words"])
def test_a_policy_full_of_hostile_keyword_patterns_judges_long_messages_quickly(
    text: str,
) -> None:
    entries = [KeywordEntry(pattern=pattern, regex=True) for pattern in ACCEPTED_BY_THE_SCHEMA]
    check = make_keywords_check(KeywordsConfig(entries=entries))
    started = time.perf_counter()
    check(_facts(text), normalize(text))
    assert time.perf_counter() - started < DEADLINE


def test_safe_patterns_still_match_what_they_say() -> None:
    check = make_keywords_check(
        KeywordsConfig(entries=[KeywordEntry(pattern="(?:a|aa)+!$", regex=True, weight=0.4)])
    )
    hits = check(_facts("AAAA!"), normalize("AAAA!"))
    assert [(hit.rule, hit.score, hit.evidence) for hit in hits] == [
        ("keyword.(?:a|aa)+!$", 0.4, "AAAA!")
    ]


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        (r"(a)\1", r"a backreference (\1)"),
        ("(?P<x>a)(?P=x)", "a named backreference (?P=name)"),
        ("vx(?=\\d)", "a lookahead (?=...)"),
        ("vx(?!\\d)", "a negative lookahead (?!...)"),
        ("(?<=加)vx", "a lookbehind (?<=...)"),
        ("(?<!加)vx", "a negative lookbehind (?<!...)"),
        ("(?>ab)c", "an atomic group (?>...)"),
        ("ab++c", "a possessive quantifier (++)"),
    ],
)
def test_patterns_needing_backtracking_are_refused_naming_the_feature(
    pattern: str, feature: str
) -> None:
    with pytest.raises(ValidationError) as keyword_error:
        KeywordEntry(pattern=pattern, regex=True)
    assert f"uses {feature}, which the safe pattern engine (RE2) does not support" in str(
        keyword_error.value
    )
    with pytest.raises(ValidationError) as complaint_error:
        ComplaintCue(name="bad", patterns=(pattern,))
    assert feature in str(complaint_error.value)


def test_a_pattern_matching_nothing_at_all_is_refused() -> None:
    with pytest.raises(ValidationError, match="fire on every message"):
        KeywordEntry(pattern="x*", regex=True)


def test_a_refused_pattern_in_a_policy_file_names_the_file_and_line() -> None:
    text = (
        "extends: default\nmoderation:\n  detectors:\n    keywords:\n      entries:\n"
        "        - {pattern: '(a)\\1', regex: true}\n"
    )
    with pytest.raises(SourceError) as error:
        load_policy(PolicySource("mine", "mine.yaml", text), LIBRARY.lookup)
    problems = [str(problem) for problem in error.value.problems]
    assert any(
        problem.startswith("mine.yaml:6:") and "a backreference" in problem for problem in problems
    ), problems


def test_hostile_complaint_patterns_are_matched_in_linear_time() -> None:
    config = LIBRARY.load("default").complaints
    hostile = ComplaintCue(name="hostile", weight=0.5, patterns=("(?:a|aa)+$",))
    matcher = ComplaintMatcher.compile(config.model_copy(update={"cues": (hostile,)}))
    started = time.perf_counter()
    assessment = matcher.assess("a" * 40 + "!")
    assert time.perf_counter() - started < DEADLINE
    assert assessment.hits == ()
    assert [hit.rule for hit in matcher.assess("a" * 4096).hits] == ["complaint.hostile"]


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.start(make_config(tmp_path))
    yield harness
    await harness.stop()


async def _command(harness: Harness, text: str) -> str:
    before = len(harness.fake.bot_messages(GROUP))
    await harness.say(ADMIN, text)
    replies = harness.fake.bot_messages(GROUP)[before:]
    return replies[-1].text if replies else ""


async def test_set_refuses_a_backreference_and_a_safe_hostile_pattern_cannot_stall(
    shop: Harness,
) -> None:
    key = "/set moderation.detectors.keywords.entries"
    refused = await _command(shop, key + r" [{pattern: '(a)\1', regex: true}]")
    assert refused.startswith("Not changed:") and "a backreference" in refused
    accepted = await _command(shop, key + " [{pattern: '(?:a|aa)+$', regex: true}]")
    assert accepted.startswith("moderation.detectors.keywords.entries =")
    started = time.perf_counter()
    await shop.say(shop.member("bob"), "a" * 60 + "!")
    assert time.perf_counter() - started < 5 * DEADLINE

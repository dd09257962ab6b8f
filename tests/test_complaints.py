"""Complaint detection, table-tested on the shipped presets: no Telegram, no storage."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.check import warnings_for
from bot.core.policy_files import PolicyLibrary
from policies.complaints import ComplaintKind, ComplaintMatcher, ComplaintsConfig
from policies.loader import PolicySource, load_policy
from policies.yamlsource import SourceError
from tests.harness import make_config

LIBRARY = PolicyLibrary(None)


def matcher(preset: str = "default", **changes: object) -> ComplaintMatcher:
    config = LIBRARY.load(preset).complaints
    return ComplaintMatcher.compile(config.model_copy(update=changes))


COMPLAINTS = [
    ("My order never arrived", ["complaint.not_arrived"]),
    ("It's been 3 weeks and my parcel hasn’t arrived", ["complaint.not_arrived"]),
    ("The cookie box arrived broken!!!", ["complaint.broken", "complaint.shouting"]),
    ("I want a refund, the biscuits are stale", ["complaint.refund", "complaint.quality"]),
    ("Worst service ever, nobody answers", ["complaint.service"]),
    ("Shipping is so slow, total scam", ["complaint.slow_shipping", "complaint.anger"]),
    ("REFUND NOW!!!", ["complaint.refund", "complaint.shouting"]),
    ("ＮＥＶＥＲ ＡＲＲＩＶＥＤ", ["complaint.not_arrived"]),
    ("买了一周了还没到，物流太慢了", ["complaint.not_arrived", "complaint.slow_shipping"]),
    ("收到的饼干都碎了", ["complaint.broken"]),
    ("质量问题，我要退款！！！", ["complaint.quality", "complaint.refund", "complaint.shouting"]),
    ("客服不理人，差评", ["complaint.service", "complaint.review"]),
    ("骗子！发的是假货！", ["complaint.quality", "complaint.anger"]),
    ("我要投诉", ["complaint.escalate"]),
    (
        "Your support is useless, I've been waiting 5 days",
        ["complaint.no_reply", "complaint.anger"],
    ),
    (
        "Still no reply from customer service, unacceptable",
        ["complaint.no_reply", "complaint.anger"],
    ),
]


@pytest.mark.parametrize(("text", "rules"), COMPLAINTS)
def test_complaints_in_chinese_and_english_are_routed(text: str, rules: list[str]) -> None:
    assessment = matcher().assess(text)
    assert assessment.kind is ComplaintKind.COMPLAINT
    assert assessment.routed
    assert [hit.rule for hit in assessment.hits] == rules
    assert assessment.score >= 1.0


QUESTIONS = [
    "How do I return an item?",
    "Can I get a refund if the size doesn't fit?",
    "请问怎么退货？",
    "退款一般多久到账？",
    "可以换货吗",
]


@pytest.mark.parametrize("text", QUESTIONS)
def test_after_sales_questions_are_not_routed_by_default(text: str) -> None:
    assessment = matcher().assess(text)
    assert assessment.kind is ComplaintKind.QUESTION
    assert not assessment.routed


@pytest.mark.parametrize("text", QUESTIONS)
def test_questions_are_routed_when_the_policy_says_so(text: str) -> None:
    assert matcher(route_questions=True).assess(text).routed


ORDINARY = [
    "Does the cookie gift box ship to Shenzhen?",
    "No reply needed, just saying thanks",
    "Great sale today!!!",
    "Return of the Jedi is my favourite film",
    "This weather is garbage",
    "好吃！已经回购三次了",
    "unreturnable? no, returnable",
    "",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_chat_and_anger_alone_are_not_complaints(text: str) -> None:
    assessment = matcher().assess(text)
    assert assessment.kind is not ComplaintKind.COMPLAINT
    assert not assessment.routed


def test_intensity_counts_only_next_to_a_complaint_cue() -> None:
    assert matcher().assess("garbage!!! scam!!!").hits == ()
    calm, angry = matcher().assess("refund please"), matcher().assess("refund please!!!")
    assert calm.kind is ComplaintKind.NONE and angry.kind is ComplaintKind.COMPLAINT


def test_every_hit_explains_itself_with_what_the_member_wrote() -> None:
    (hit,) = matcher().assess("ＭＹ ＯＲＤＥＲ ＮＥＶＥＲ ＡＲＲＩＶＥＤ").hits
    assert hit.rule == "complaint.not_arrived"
    assert hit.evidence == "ＮＥＶＥＲ ＡＲＲＩＶＥＤ"
    assert "not_arrived" in hit.reason and "ＮＥＶＥＲ" in hit.reason


def test_latin_words_match_whole_words_only() -> None:
    assert matcher().assess("It came cracked").kind is ComplaintKind.COMPLAINT
    assert matcher().assess("Unbroken record of good boxes").hits == ()


def test_the_threshold_is_the_policys() -> None:
    strict = matcher(threshold=2.0)
    assert strict.assess("My order never arrived").kind is ComplaintKind.NONE
    assert strict.assess("My order never arrived, worst service!!!").routed


def test_a_disabled_section_routes_nothing() -> None:
    assert not matcher(enabled=False).assess("My order never arrived!!!").routed


REPORTS = ["举报", "我已经向管理员举报他了", "I will report you to the admins"]


@pytest.mark.parametrize("text", REPORTS)
def test_reporting_someone_alone_is_no_complaint(text: str) -> None:
    assessment = matcher().assess(text)
    assert assessment.kind is not ComplaintKind.COMPLAINT
    assert [hit.rule for hit in assessment.hits] == ["complaint.report"]


def test_reporting_the_shop_with_a_second_cue_is_a_complaint() -> None:
    assessment = matcher().assess("东西全碎了，我要举报你们")
    assert assessment.routed
    assert [hit.rule for hit in assessment.hits] == ["complaint.broken", "complaint.report"]


def test_the_chinese_preset_shares_the_cues_and_speaks_chinese() -> None:
    zh = LIBRARY.load("shop-zh").complaints
    assert zh.cues == LIBRARY.load("default").complaints.cues
    assert "私聊" in zh.templates.open_button
    assert matcher("shop-zh").assess("东西坏了，我要退款").routed


def _problems(text: str) -> list[str]:
    source = PolicySource("mine", "mine.yaml", text)
    try:
        load_policy(source, LIBRARY.lookup)
    except SourceError as error:
        return [str(problem) for problem in error.problems]
    return []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "extends: default\ncomplaints:\n  templates:\n    reminder: 'hi {group}'\n",
            "mine.yaml:4:15: complaints.templates.reminder: template 'reminder' uses unknown "
            "placeholder {group}; it may use: {user}",
        ),
        (
            "extends: default\ncomplaints:\n  cues:\n    - {name: bad, patterns: ['(a+)+']}\n",
            "mine.yaml:4:29: complaints.cues.0.patterns: '(a+)+': nested quantifiers",
        ),
        (
            "extends: default\ncomplaints:\n  cues:\n    - {name: empty}\n",
            "mine.yaml:4:7: complaints.cues.0: cue 'empty' needs words or patterns",
        ),
        (
            "extends: default\ncomplaints:\n  original: hide\n",
            "mine.yaml:3:13: complaints.original",
        ),
    ],
)
def test_policy_mistakes_are_reported_at_load_time(text: str, expected: str) -> None:
    problems = _problems(text)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_policy_can_switch_reminders_off() -> None:
    policy = load_policy(
        PolicySource(
            "mine", "mine.yaml", "extends: default\ncomplaints:\n  remind_after: forever\n"
        ),
        LIBRARY.lookup,
    )
    assert not policy.complaints.reminds
    assert isinstance(policy.complaints, ComplaintsConfig)


def test_qunbot_check_says_when_tickets_cannot_be_relayed(tmp_path: Path) -> None:
    without = warnings_for(make_config(tmp_path, staff=False))
    assert any("complaint tickets are not relayed" in note for note in without)
    assert not any("complaint" in note for note in warnings_for(make_config(tmp_path)))

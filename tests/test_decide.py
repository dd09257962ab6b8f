"""decide() as tables: exemptions, probation, the mode and the ladder, and the actions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.policy_files import PolicyLibrary
from policies.decide import CompiledPolicy, decide, is_flood, ladder_step
from policies.facts import SERVICE_USER_ID, MemberHistory, MessageFacts
from policies.verdict import ActionKind

NOW = 1_800_000_000.0
DAY = 86400.0
GROUP = -100123
AD = "加我微信 vx：abc12345 领取内部优惠券"


def compiled(**moderation: object) -> CompiledPolicy:
    policy = PolicyLibrary(None).load("default", overrides={"moderation": moderation})
    return CompiledPolicy.compile(policy)


def facts(text: str = AD, **extra: object) -> MessageFacts:
    fields: dict[str, object] = {"chat_id": GROUP, "message_id": 1, "user_id": 42, "date": NOW}
    return MessageFacts(**(fields | {"text": text} | extra))  # type: ignore[arg-type]


REGULAR = MemberHistory(message_count=50, first_seen=NOW - 90 * DAY)


@pytest.mark.parametrize(
    ("mode", "ladder", "earlier_offences", "expected"),
    [
        ("soft", ["soft", "neutral", "hard"], 0, "soft"),
        ("soft", ["soft", "neutral", "hard"], 1, "neutral"),
        ("soft", ["soft", "neutral", "hard"], 2, "hard"),
        ("soft", ["soft", "neutral", "hard"], 7, "hard"),
        ("neutral", ["soft", "neutral", "hard"], 0, "neutral"),
        ("neutral", ["soft", "neutral", "hard"], 1, "hard"),
        ("hard", ["soft", "neutral", "hard"], 0, "hard"),
        ("soft", ["mute 1d", "mute 7d", "mute 15d", "hard"], 0, "mute 1d"),
        ("soft", ["mute 1d", "mute 7d", "mute 15d", "hard"], 2, "mute 15d"),
        ("soft", ["mute 1d", "mute 7d", "mute 15d", "hard"], 3, "hard"),
        ("neutral", ["mute 1d", "neutral", "hard"], 0, "neutral"),
    ],
)
def test_the_mode_picks_the_first_rung_and_offences_climb(
    mode: str, ladder: list[str], earlier_offences: int, expected: str
) -> None:
    policy = compiled(mode=mode, ladder=ladder)
    history = MemberHistory(
        message_count=50,
        first_seen=NOW - 90 * DAY,
        offence_times=tuple(NOW - DAY * (n + 1) for n in range(earlier_offences)),
    )
    verdict = decide(facts(), policy, history, NOW)
    assert verdict.spam
    assert verdict.step == expected
    assert verdict.offence_number == earlier_offences + 1


def test_offences_outside_the_window_are_forgotten() -> None:
    policy = compiled(mode="soft", window="7d")
    history = MemberHistory(
        message_count=50, first_seen=NOW - 90 * DAY, offence_times=(NOW - 8 * DAY,)
    )
    assert decide(facts(), policy, history, NOW).step == "soft"


@pytest.mark.parametrize(
    ("step", "kinds"),
    [
        ("soft", [ActionKind.DELETE, ActionKind.CALLOUT]),
        (
            "neutral",
            [
                ActionKind.DELETE,
                ActionKind.ANNOUNCE,
                ActionKind.KICK,
                ActionKind.SCHEDULE_REINVITE,
                ActionKind.NOTIFY_ADMINS,
            ],
        ),
        ("hard", [ActionKind.DELETE, ActionKind.BAN, ActionKind.NOTIFY_ADMINS]),
        ("mute 7d", [ActionKind.DELETE, ActionKind.MUTE, ActionKind.ANNOUNCE]),
    ],
)
def test_each_step_has_its_actions(step: str, kinds: list[ActionKind]) -> None:
    verdict = decide(facts(), compiled(mode="soft", ladder=[step]), REGULAR, NOW)
    assert list(verdict.action_kinds) == kinds


def test_mute_until_and_reinvite_time_are_absolute() -> None:
    mute = decide(facts(), compiled(mode="soft", ladder=["mute 7d"]), REGULAR, NOW)
    assert mute.actions[1].until == NOW + 7 * DAY
    neutral = decide(facts(), compiled(mode="neutral", reinvite_after="6h"), REGULAR, NOW)
    reinvite = next(a for a in neutral.actions if a.kind is ActionKind.SCHEDULE_REINVITE)
    assert reinvite.until == NOW + 6 * 3600


def test_soft_mode_can_keep_the_ad() -> None:
    verdict = decide(facts(), compiled(mode="soft", delete_ads=False), REGULAR, NOW)
    assert list(verdict.action_kinds) == [ActionKind.CALLOUT]


def test_paid_groups_remind_admins_to_refund() -> None:
    verdict = decide(facts(), compiled(mode="hard", paid_group=True), REGULAR, NOW)
    assert [a.template for a in verdict.actions if a.kind is ActionKind.NOTIFY_ADMINS] == [
        "admin_banned",
        "admin_refund",
    ]


@pytest.mark.parametrize(
    ("message", "history", "reason"),
    [
        (facts(user_id=SERVICE_USER_ID), REGULAR, "service account"),
        (facts(sender_chat_id=GROUP), REGULAR, "anonymous admin"),
        (facts(sender_chat_id=-100777, linked_chat_id=-100777), REGULAR, "linked channel"),
        (facts(), MemberHistory(is_admin=True), "admin"),
        (facts(), MemberHistory(trusted=True), "trusted"),
    ],
)
def test_exemptions_come_first(message: MessageFacts, history: MemberHistory, reason: str) -> None:
    verdict = decide(message, compiled(), history, NOW)
    assert not verdict.spam
    assert verdict.exempt_reason is not None and reason in verdict.exempt_reason


def test_ordinary_questions_are_clean() -> None:
    for text in ("Does the cookie box ship to Shenzhen?", "这个礼盒什么时候发货？", "谢谢客服！"):
        verdict = decide(facts(text), compiled(), MemberHistory(), NOW)
        assert not verdict.spam, verdict.explanation


def test_flood_is_an_offence() -> None:
    history = MemberHistory(
        message_count=50,
        first_seen=NOW - 90 * DAY,
        recent_message_times=tuple(NOW - n for n in range(8)),
    )
    verdict = decide(facts("lol"), compiled(), history, NOW)
    assert verdict.spam and verdict.hits[-1].rule == "behaviour.flood"


def test_a_flood_is_a_short_mute_off_the_ladder_never_called_an_ad() -> None:
    history = MemberHistory(
        message_count=50,
        first_seen=NOW - 90 * DAY,
        recent_message_times=tuple(NOW - n for n in range(8)),
        offence_times=(NOW - 3600,),
    )
    verdict = decide(facts("谢谢老板！"), compiled(), history, NOW)
    assert verdict.spam and is_flood(verdict)
    assert verdict.action_kinds == (ActionKind.MUTE, ActionKind.ANNOUNCE)
    assert verdict.actions[0].until == NOW + 300
    assert verdict.actions[1].template == "flood_muted"
    assert verdict.offence_number == 0 and verdict.step == "mute 5m"
    assert "not an ad" in verdict.explanation


def test_a_flood_set_to_remind_only_touches_nobody() -> None:
    history = MemberHistory(recent_message_times=tuple(NOW - n for n in range(8)))
    verdict = decide(facts("lol"), compiled(flood={"mute": 0}), history, NOW)
    assert verdict.action_kinds == (ActionKind.ANNOUNCE,)
    assert verdict.actions[0].template == "flood_warned"


def test_a_channel_flooding_gets_the_reminder_it_cannot_be_muted() -> None:
    history = MemberHistory(recent_message_times=tuple(NOW - n for n in range(8)))
    verdict = decide(facts("lol", sender_chat_id=-1001999), compiled(), history, NOW)
    assert is_flood(verdict) and verdict.action_kinds == (ActionKind.ANNOUNCE,)
    assert verdict.actions[0].template == "flood_warned"


def test_an_ad_posted_in_a_flood_still_climbs_the_ladder() -> None:
    history = MemberHistory(recent_message_times=tuple(NOW - n for n in range(8)))
    verdict = decide(facts(AD), compiled(), history, NOW)
    assert verdict.spam and not is_flood(verdict) and verdict.offence_number == 1


def test_a_spam_wave_is_an_offence() -> None:
    text = "hello friends check my profile for a surprise"
    assert not decide(facts(text), compiled(), REGULAR, NOW, wave_accounts=2).spam
    verdict = decide(facts(text), compiled(), REGULAR, NOW, wave_accounts=3)
    assert verdict.spam and any(hit.rule == "behaviour.wave" for hit in verdict.hits)


def test_every_verdict_explains_itself() -> None:
    verdict = decide(facts(), compiled(mode="neutral"), REGULAR, NOW)
    assert "WeChat" in verdict.explanation
    assert "Offence 1" in verdict.explanation and "neutral" in verdict.explanation
    assert verdict.as_dict()["hits"][0]["rule"].startswith("contact.")


def test_ladder_step_is_capped_at_the_last_rung() -> None:
    policy = compiled(mode="hard").policy
    assert ladder_step(policy, 10).label() == "hard"


@pytest.mark.parametrize(
    ("history", "on_probation"),
    [
        (MemberHistory(), False),
        (MemberHistory(message_count=0, first_seen=NOW), False),
        (MemberHistory(joined_at=NOW - 60), True),
        (MemberHistory(joined_at=NOW - 60, message_count=20), True),
        (MemberHistory(joined_at=NOW - 2 * DAY, message_count=3), True),
        (MemberHistory(joined_at=NOW - 2 * DAY, message_count=20), False),
    ],
)
def test_only_members_whose_join_was_seen_are_on_probation(
    history: MemberHistory, on_probation: bool
) -> None:
    verdict = decide(facts("vx abc12345"), compiled(), history, NOW)
    assert verdict.spam
    assert ("newcomer on probation" in verdict.explanation) is on_probation


def test_an_established_member_is_judged_at_the_normal_threshold() -> None:
    policy = compiled(probation={"spam_threshold": 0.4})
    text = "加我"
    assert not decide(facts(text), policy, MemberHistory(), NOW).spam
    assert decide(facts(text), policy, MemberHistory(joined_at=NOW - 60), NOW).spam


def test_a_group_can_choose_to_treat_unknown_members_as_newcomers() -> None:
    policy = compiled(probation={"spam_threshold": 0.4, "unknown_members": "newcomers"})
    unknown = MemberHistory(first_seen=NOW - 60)
    assert decide(facts("加我"), policy, unknown, NOW).spam
    settled = MemberHistory(first_seen=NOW - 3 * DAY, message_count=40)
    assert not decide(facts("加我"), policy, settled, NOW).spam


def test_a_shop_may_let_established_members_share_codes_but_not_newcomers() -> None:
    """The README's tuning: a share code names no shop, so the shop decides who may share."""
    share = facts("￥Xy9AbC12￥ 复制这段话打开手机淘宝，芒果干第二件半价")
    newcomer = MemberHistory(joined_at=NOW - 60)
    established = MemberHistory(message_count=50, joined_at=NOW - 90 * DAY)
    shipped = compiled()
    assert decide(share, shipped, established, NOW).spam
    tuned = compiled(detectors={"marketplace": {"weight": 0.8}})
    assert not decide(share, tuned, established, NOW).spam
    assert decide(share, tuned, newcomer, NOW).spam


def test_a_text_an_admin_cleared_is_not_read_again_but_a_flood_of_it_still_counts() -> None:
    cleared = decide(facts(cleared_by_admin=True), compiled(), REGULAR, NOW)
    assert not cleared.spam and "/notspam" in cleared.explanation
    flooding = replace(REGULAR, recent_message_times=tuple(NOW - i for i in range(12)))
    assert decide(facts(cleared_by_admin=True), compiled(), flooding, NOW).spam

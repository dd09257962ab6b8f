"""The pure side of welcomes and gifts: join waves, rewards, code files and the policy keys."""

from __future__ import annotations

import pytest

from bot.core.policy_files import PolicyLibrary
from policies.gifts import (
    GiftReward,
    hashtags_in,
    matching_reward,
    may_claim,
    parse_codes,
    pool_number,
)
from policies.loader import PolicySource, load_policy
from policies.schema import Policy
from policies.welcome import JoinWaves
from policies.yamlsource import SourceError

CHAT = -100
T0 = 1_800_000_000.0


def due(waves: JoinWaves, now: float, window: float = 10.0, per_minute: int = 3) -> float:
    return waves.due_at(CHAT, now, window=window, per_minute=per_minute)


def test_a_join_reported_twice_is_one_join_until_the_member_leaves() -> None:
    waves = JoinWaves()
    assert waves.first_report(CHAT, 7, T0)
    assert not waves.first_report(CHAT, 7, T0 + 1)
    assert waves.first_report(CHAT + 1, 7, T0 + 1)
    waves.left(CHAT, 7)
    assert waves.first_report(CHAT, 7, T0 + 2)


def test_the_first_welcome_goes_at_once_and_the_next_after_the_window() -> None:
    waves = JoinWaves()
    assert due(waves, T0) == T0
    waves.posted(CHAT, T0)
    assert due(waves, T0 + 2) == T0 + 10
    assert due(waves, T0 + 12) == T0 + 12


@pytest.mark.parametrize(
    ("posted", "now", "expected"),
    [
        ([], T0, T0),
        ([T0], T0 + 5, T0 + 10),
        ([T0, T0 + 20], T0 + 40, T0 + 60),
        ([T0, T0 + 20], T0 + 61, T0 + 61),
        ([T0 - 120], T0, T0),
    ],
)
def test_welcomes_are_capped_per_minute(posted: list[float], now: float, expected: float) -> None:
    waves = JoinWaves()
    for at in posted:
        waves.posted(CHAT, at)
    assert due(waves, now, per_minute=2) == expected


REVIEW = GiftReward(pool="review", hashtags=("#Review", "#晒单"))
ANY_POST = GiftReward(pool="chat", hashtags=("#hello",), photo=False)


@pytest.mark.parametrize(
    ("text", "photo", "expected"),
    [
        ("Arrived today #review", True, REVIEW),
        ("#REVIEW", True, REVIEW),
        ("今天到货了 #晒单", True, REVIEW),
        ("#review but no photo", False, None),
        ("#reviewer", True, None),
        ("review without a tag", True, None),
        ("#hello everyone", False, ANY_POST),
    ],
)
def test_rewards_match_whole_hashtags(text: str, photo: bool, expected: GiftReward | None) -> None:
    assert matching_reward((REVIEW, ANY_POST), text, has_photo=photo) == expected


def test_hashtags_are_case_folded() -> None:
    assert hashtags_in("#Review and #晒单!") == {"#review", "#晒单"}


def test_a_codes_file_skips_comments_blanks_and_repeats() -> None:
    assert parse_codes("# batch 1\nA-1\n\n  B-2  # vip\nA-1\n") == ("A-1", "B-2")


def test_pool_numbers_are_stable_and_short() -> None:
    assert pool_number("welcome") == pool_number("welcome") < 100_000
    assert pool_number("welcome") != pool_number("review")


def load(text: str) -> Policy:
    presets = PolicyLibrary(None)

    def lookup(name: str, asking: PolicySource | None) -> PolicySource | None:
        if name == "mine":
            return PolicySource("mine", "mine.yaml", text)
        return presets.lookup(name, asking)

    source = lookup("mine", None)
    assert source is not None
    return load_policy(source, lookup)


def problems_of(text: str) -> str:
    with pytest.raises(SourceError) as caught:
        load(text)
    return "\n".join(str(problem) for problem in caught.value.problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "extends: default\nwelcome:\n  templates:\n    text: 'hi {user}'\n",
            "mine.yaml:4:11: welcome.templates.text: template 'text' uses unknown placeholder "
            "{user}; it may use: {group}, {users}",
        ),
        (
            "extends: default\ngifts:\n  welcome_pool: welcome\n",
            "unknown gift pool 'welcome' (pools: none yet)",
        ),
        (
            "extends: default\ngifts:\n  pools:\n    welcome: {codes: [A], shared_code: B}\n",
            "give exactly one of codes, codes_file or shared_code",
        ),
        (
            "extends: default\ngifts:\n  pools:\n    welcome: {codes: [A, A]}\n",
            "a code is listed twice",
        ),
        (
            "extends: default\ngifts:\n  pools:\n    welcome: {codes: ['A B']}\n",
            "is not a code",
        ),
        (
            "extends: default\ngifts:\n  pools: {w: {shared_code: X}}\n"
            "  rewards: [{pool: w, hashtags: [review]}]\n",
            "'review' is not a hashtag",
        ),
        (
            "extends: default\nwelcome:\n  newcomer_check:\n    timeout: 10s\n",
            "welcome.newcomer_check.timeout: must be between 1m and 1d",
        ),
        (
            "extends: default\ngifts:\n  welcome_claim_within: 30m\n",
            "gifts.welcome_claim_within: must be between 1h and 90d",
        ),
        (
            "extends: default\ngifts:\n  welcome_claim_within: forever\n",
            "gifts.welcome_claim_within: must be between 1h and 90d",
        ),
        (
            "extends: default\ngifts:\n  welcome_claim_within: a week\n",
            "gifts.welcome_claim_within: 'a week' is not a duration",
        ),
        ("extends: default\nwelcome:\n  wave_windw: 5s\n", "(did you mean 'wave_window'?)"),
    ],
)
def test_policy_mistakes_are_reported_with_their_place(text: str, expected: str) -> None:
    assert expected in problems_of(text)


@pytest.mark.parametrize("name", ["default", "shop-zh"])
def test_presets_carry_every_member_facing_text(name: str) -> None:
    policy = PolicyLibrary(None).load(name)
    assert policy.welcome.enabled and not policy.welcome.newcomer_check.enabled
    assert "{users}" in policy.welcome.templates.text
    assert "{code}" in policy.gifts.templates.delivered
    assert policy.gifts.welcome_pool is None


DAY = 86400.0


@pytest.mark.parametrize(
    ("personal", "joined_at", "allowed", "reason"),
    [
        (False, T0 - 3 * DAY, True, "joined within 1w: a newcomer"),
        (False, T0 - 7 * DAY, True, "joined within 1w: a newcomer"),
        (False, T0 - 7 * DAY - 1, False, "joined more than 1w ago: no longer a newcomer"),
        (False, None, False, "qunbot never saw this member join the group: not a newcomer"),
        (True, None, True, "a personal button: the member earned this gift"),
        (True, T0 - 90 * DAY, True, "a personal button: the member earned this gift"),
    ],
)
def test_only_newcomers_may_claim_through_the_welcomes_shared_button(
    personal: bool, joined_at: float | None, allowed: bool, reason: str
) -> None:
    gifts = PolicyLibrary(None).load("default").gifts
    assert gifts.welcome_claim_within == 7 * DAY
    right = may_claim(gifts, personal=personal, joined_at=joined_at, now=T0)
    assert (right.allowed, right.reason) == (allowed, reason)


def test_a_member_with_offences_is_no_newcomer_for_the_shared_button() -> None:
    gifts = PolicyLibrary(None).load("default").gifts
    right = may_claim(gifts, personal=False, joined_at=T0 - 60, now=T0, offences=1)
    assert not right.allowed and "offences" in right.reason
    assert may_claim(gifts, personal=True, joined_at=T0 - 60, now=T0, offences=1).allowed


def test_the_claim_window_is_the_policys() -> None:
    policy = load("extends: default\ngifts:\n  welcome_claim_within: 2h\n")
    right = may_claim(policy.gifts, personal=False, joined_at=T0 - 3 * 3600, now=T0)
    assert not right.allowed and "more than 2h" in right.reason

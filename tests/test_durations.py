"""Durations that mean what they say: mutes Telegram would make permanent, absurd lengths and
digits that only look like digits are refused with a reason, in commands and in policies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.policy_files import PolicyLibrary
from policies.durations import FOREVER, DurationError, parse_duration, parse_mute_duration
from policies.loader import PolicySource, load_policy
from policies.yamlsource import SourceError
from tests.harness import ADMIN, GROUP, Harness, make_config
from tests.test_cli_language import write_config
from tests.test_config import run_check

LIBRARY = PolicyLibrary(None)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("10s", "too short"),
        ("30s", "too short"),
        ("400d", "too long"),
        ("367d", "too long"),
        ("99999999d", "too long"),
        ("9" * 40 + "d", "not a duration"),
        ("²", "not a duration"),
        ("٣d", "not a duration"),
        ("１０m", "not a duration"),
    ],
)
def test_mutes_telegram_would_make_permanent_are_refused(written: str, reason: str) -> None:
    with pytest.raises(DurationError, match=reason):
        parse_mute_duration(written)


@pytest.mark.parametrize(
    ("written", "seconds"), [("1m", 60.0), ("1d", 86400.0), ("365d", 365 * 86400.0)]
)
def test_mutes_within_telegrams_window_are_kept(written: str, seconds: float) -> None:
    assert parse_mute_duration(written) == seconds


def test_forever_is_a_mute_when_asked_for_by_name() -> None:
    assert parse_mute_duration("forever") == FOREVER


@pytest.mark.parametrize("written", ["99999999d", "9" * 12 + "w", 1e300, float("nan"), "٣h"])
def test_absurd_durations_are_refused_without_overflowing(written: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(written)


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        ("mute 10s", "too short"),
        ("mute 400d", "too long"),
        ("mute 99999999d", "too long"),
        ("mute ²", "not a duration"),
    ],
)
def test_a_ladder_step_telegram_would_misread_is_a_policy_error_with_its_line(
    step: str, reason: str
) -> None:
    text = f"extends: default\nmoderation:\n  ladder:\n    - soft\n    - {step}\n    - hard\n"
    with pytest.raises(SourceError) as error:
        load_policy(PolicySource("mine", "mine.yaml", text), LIBRARY.lookup)
    problems = [str(problem) for problem in error.value.problems]
    assert any(p.startswith("mine.yaml:5:") and reason in p for p in problems), problems


def test_a_forever_ladder_step_is_allowed() -> None:
    text = "extends: default\nmoderation:\n  ladder: [mute 1d, mute forever]\n"
    policy = load_policy(PolicySource("mine", "mine.yaml", text), LIBRARY.lookup)
    assert [step.label() for step in policy.moderation.ladder] == ["mute 1d", "mute forever"]


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.start(make_config(tmp_path))
    yield harness
    await harness.stop()


async def _command(harness: Harness, text: str, **extra: object) -> str:
    before = len(harness.fake.bot_messages(GROUP))
    await harness.say(ADMIN, text, **extra)
    replies = harness.fake.bot_messages(GROUP)[before:]
    return replies[-1].text if replies else ""


@pytest.mark.parametrize(
    ("duration", "reason"),
    [
        ("10s", "too short"),
        ("400d", "too long"),
        ("99999999d", "too long"),
        ("²", "not a duration"),
        ("٣d", "not a duration"),
    ],
)
async def test_mute_refuses_what_telegram_would_make_permanent(
    shop: Harness, duration: str, reason: str
) -> None:
    bob = shop.member("bob")
    answer = await _command(shop, f"/mute {bob} {duration}")
    assert reason in answer and "Usage: /mute" in answer, answer
    assert shop.fake.status_of(GROUP, bob) == "member"


async def test_mute_for_a_day_is_a_day(shop: Harness) -> None:
    bob = shop.member("bob")
    assert await _command(shop, f"/mute {bob} 1d") == "Bob is muted for 1d."
    assert shop.fake.status_of(GROUP, bob) == "restricted"


@pytest.mark.parametrize("text", ["/mute ² 1d", "/ban ²", "/ban ٣", "/why ²", "/why #٣"])
async def test_unicode_digits_get_the_usage_line(shop: Harness, text: str) -> None:
    answer = await _command(shop, text)
    assert "Usage: /" + text.split()[0][1:] in answer, answer


async def test_unicode_digits_as_a_group_id_in_private_are_refused(shop: Harness) -> None:
    shop.fake.start_private(ADMIN)
    await shop.feed(shop.fake.private_message(ADMIN, "/ban ² 1001"))
    replies = shop.fake.bot_messages(ADMIN)
    assert replies and replies[-1].text.startswith("In private, name the group first")


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("30秒", 30.0),
        ("10分钟", 600.0),
        ("5分", 300.0),
        ("6小时", 6 * 3600.0),
        ("3个小时", 3 * 3600.0),
        ("7天", 7 * 86400.0),
        ("2周", 14 * 86400.0),
        ("1 星期", 7 * 86400.0),
        ("10 minutes", 600.0),
        ("2 Hours", 7200.0),
        ("1day", 86400.0),
        ("永久", FOREVER),
    ],
)
def test_units_may_be_written_as_words_in_chinese_or_english(written: str, seconds: float) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("十分钟", 600.0),
        ("二十五分钟", 1500.0),
        ("两个小时", 7200.0),
        ("半小时", 1800.0),
        ("半个小时", 1800.0),
        ("一个半小时", 5400.0),
        ("1个半小时", 5400.0),
        ("半天", 43200.0),
        ("三十天", 30 * 86400.0),
        ("一百零八秒", 108.0),
        ("两周", 14 * 86400.0),
        ("三个星期", 21 * 86400.0),
        ("十 分钟", 600.0),
        ("一百一分钟", 110 * 60.0),
        ("一百零一分钟", 101 * 60.0),
        ("一千五秒", 1500.0),
        ("一个月", 30 * 86400.0),
        ("一天半", 36 * 3600.0),
        ("1天半", 36 * 3600.0),
        ("2 months", 60 * 86400.0),
    ],
)
def test_a_chinese_number_is_read_as_a_chinese_admin_says_it(written: str, seconds: float) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize(
    "written",
    ["十十分钟", "二三分钟", "个小时", "个半小时", "半", "五年", "天半", "半天半", "两万秒"],
)
def test_chinese_that_is_no_amount_is_refused(written: str) -> None:
    with pytest.raises(DurationError, match="not a duration"):
        parse_duration(written)


@pytest.mark.parametrize("written", ["10 分 钟", "10分钟钟", "10年", "分钟", "10minute s"])
def test_a_unit_word_that_is_not_one_is_refused(written: str) -> None:
    with pytest.raises(DurationError, match="not a duration"):
        parse_duration(written)


async def test_a_chinese_admin_mutes_for_ten_minutes_in_chinese(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path, policy="extends: shop-zh\n"))
    try:
        bob = harness.member("bob")
        answer = await _command(harness, f"/mute {bob} 10分钟")
        assert "10 分钟" in answer, answer
        assert harness.fake.status_of(GROUP, bob) == "restricted"
    finally:
        await harness.stop()


async def test_a_duration_set_without_a_unit_asks_for_one_and_changes_nothing(
    shop: Harness,
) -> None:
    answer = await _command(shop, "/set moderation.reinvite_after 30")
    assert answer.startswith("Not changed: moderation.reinvite_after is a duration"), answer
    assert "30m" in answer
    policy = (await shop.services.policies.policy_for(GROUP)).policy
    assert policy.moderation.reinvite_after == parse_duration("6h")
    shop.clock.advance(120)
    assert await _command(shop, "/set moderation.reinvite_after 30分钟") == (
        "moderation.reinvite_after = 30分钟"
    )
    policy = (await shop.services.policies.policy_for(GROUP)).policy
    assert policy.moderation.reinvite_after == 1800.0


async def test_a_number_for_a_key_that_is_no_duration_is_still_a_number(shop: Harness) -> None:
    assert await _command(shop, "/set moderation.flood.messages 7") == (
        "moderation.flood.messages = 7"
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "moderation.reinvite_after: 30 is read as 30 seconds: write 30s to keep it, "
            "or the unit you meant (30m, 30h, 30d)",
        ),
        (
            "zh",
            "moderation.reinvite_after: 30 会按 30 秒算："
            "确实是秒就写 30秒，否则写上想要的单位（30分钟",
        ),
    ],
)
def test_check_warns_of_a_duration_written_without_a_unit_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], language: str, expected: str
) -> None:
    policy = "extends: shop-zh\nmoderation:\n  window: 7d\n  reinvite_after: 30\n"
    config = write_config(
        tmp_path,
        f"language: {language}\ndefault_policy: shop\n"
        "groups: [{chat_id: -1001, policy: shop}]\n",
        policy,
    )
    code, out, _ = run_check(config, capsys)
    assert code == 0
    file = tmp_path / "policies" / "shop.yaml"
    warned = [line for line in out.splitlines() if str(file) in line]
    assert len(warned) == 1 and f"{file}:4:19: {expected}" in warned[0], out


def test_check_says_nothing_of_durations_with_units_or_of_the_presets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = (
        "extends: shop-zh\nmoderation:\n  reinvite_after: 30m\n  probation:\n    messages: 9\n"
    )
    config = write_config(
        tmp_path, "default_policy: shop\ngroups: [{chat_id: -1001, policy: shop}]\n", policy
    )
    code, out, _ = run_check(config, capsys)
    assert code == 0 and "is read as" not in out, out


async def test_a_chinese_mute_may_put_a_space_before_the_unit_and_forever_reads_well(
    tmp_path: Path,
) -> None:
    harness = await Harness.start(make_config(tmp_path, policy="extends: shop-zh\n"))
    try:
        bob, carol = harness.member("bob"), harness.member("carol")
        assert "10 分钟" in await _command(harness, f"/mute {bob} 10 分钟")
        assert harness.fake.status_of(GROUP, bob) == "restricted"
        harness.clock.advance(120)
        assert await _command(harness, f"/mute {carol} 永久") == "Carol 已被永久禁言。"
        harness.clock.advance(120)
        assert await _command(harness, f"/mute {carol} 半个小时") == "Carol 已被禁言 30 分钟。"
        harness.clock.advance(120)
        answer = await _command(harness, "/mute 10 分钟")
        assert answer.startswith("要对谁操作？"), answer
    finally:
        await harness.stop()

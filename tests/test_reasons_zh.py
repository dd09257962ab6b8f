"""Why a value is refused reaches an admin in the group's language: /set, /ladder, /mute and
/reload in a Chinese group answer in Chinese, an English group in English, and every pydantic
error type with a template reads in both languages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.i18n import Messages
from bot.core.policy_files import PolicyLibrary
from bot.core.reasons import (
    PYDANTIC_TEMPLATES,
    UNKNOWN_KEY_WITH_SUGGESTION,
    say_located,
    say_reason,
)
from policies.base import Names
from policies.durations import FOREVER
from policies.schema import STEP_WORDS, LadderStep, Policy, StepKind
from policies.yamlsource import Position, Problem, SourceError, parse_yaml, validate
from tests.english import english_phrases
from tests.harness import ADMIN, GROUP, Harness, make_config

ZH, EN = Messages("zh"), Messages("en")
BAD_VALUES = (
    "/set moderation.flood.messages lots",
    "/set moderation.flood.messages 1",
    "/set moderation.flood.messages 3.7",
    "/set moderation.probation.duration -5",
    "/set moderation.probation.duration later",
    "/set moderation.mode gentle",
    "/set moderation.unknownkey 1",
    "/set moderation.mdoe soft",
    "/set moderation.window forever",
    "/set moderation.ladder 4",
    "/set moderation.flood.enabled perhaps",
    "/set rhythm.timezone Moon/Crater",
    "/set templates.callout '{who}'",
    "/set templates.callout 'hi {who'",
    "/ladder mute",
    "/ladder neutral, mute 10s",
    "/ladder soft, shout",
    "/mute 1001 3s",
)


async def _answer(harness: Harness, text: str) -> str:
    """The bot's last reply to an admin's command (past the command rate limit)."""
    harness.clock.advance(120)
    before = len(harness.fake.bot_messages(GROUP))
    await harness.say(ADMIN, text)
    replies = harness.fake.bot_messages(GROUP)[before:]
    return replies[-1].text if replies else ""


async def _start(tmp_path: Path, preset: str) -> Harness:
    return await Harness.start(make_config(tmp_path, policy=f"extends: {preset}\n"))


@pytest.fixture
async def zh_shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await _start(tmp_path, "shop-zh")
    yield harness
    await harness.stop()


@pytest.fixture
async def en_shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await _start(tmp_path, "default")
    yield harness
    await harness.stop()


async def test_a_chinese_group_hears_every_refusal_in_chinese(zh_shop: Harness) -> None:
    for text in BAD_VALUES:
        answer = await _answer(zh_shop, text)
        assert answer.startswith(("未修改：", "禁言 3s 太短")), (text, answer)
        assert english_phrases(answer) == [], (text, answer)
    mode = (await zh_shop.services.policies.policy_for(GROUP)).policy.moderation.mode
    assert mode.value != "gentle"


async def test_chinese_refusals_keep_the_path_and_the_choices(zh_shop: Harness) -> None:
    assert await _answer(zh_shop, "/set moderation.flood.messages lots") == (
        "未修改：moderation.flood.messages: 应为整数"
    )
    assert await _answer(zh_shop, "/set moderation.flood.messages 1") == (
        "未修改：moderation.flood.messages: 不能小于 2"
    )
    assert await _answer(zh_shop, "/set moderation.mode gentle") == (
        "未修改：moderation.mode: 「gentle」不是模式："
        "只能是 提醒（soft）、踢出（neutral）或 封禁（hard）"
    )
    unknown = await _answer(zh_shop, "/set moderation.mdoe soft")
    assert unknown.startswith("未修改：moderation.mdoe: 没有 'mdoe' 这个键（是不是 'mode'？）")
    assert "mode、ladder、window" in unknown
    assert "不是有效时长" in await _answer(zh_shop, "/set moderation.probation.duration -5")
    assert "禁言步骤要写时长" in await _answer(zh_shop, "/ladder mute")
    assert "可设 1 分钟到 365 天" in await _answer(zh_shop, "/mute 1001 3s")


async def test_an_english_group_hears_refusals_in_english(en_shop: Harness) -> None:
    assert await _answer(en_shop, "/set moderation.flood.messages lots") == (
        "Not changed: moderation.flood.messages: input should be a whole number"
    )
    assert await _answer(en_shop, "/set moderation.mode gentle") == (
        "Not changed: moderation.mode: 'gentle' is not a mode: use soft, neutral or hard"
    )
    assert await _answer(en_shop, "/set moderation.probation.duration -5") == (
        "Not changed: moderation.probation.duration: -5 is not a duration: it must be 0 or more"
    )
    unknown = await _answer(en_shop, "/set moderation.mdoe soft")
    assert "unknown key 'mdoe' (did you mean 'mode'?); known keys here: mode, ladder" in unknown
    assert "mute for 1m to 365d, or write forever" in await _answer(en_shop, "/mute 1001 3s")


async def test_reload_of_a_broken_policy_is_explained_in_chinese(tmp_path: Path) -> None:
    harness = await _start(tmp_path, "shop-zh")
    try:
        policy = tmp_path / "policies" / "shop.yaml"
        policy.write_text(
            "extends: shop-zh\nmoderation:\n  flood:\n    messages: many\n  wndow: 10m\n",
            encoding="utf-8",
        )
        answer = await _answer(harness, "/reload")
        assert "shop.yaml:4:15: moderation.flood.messages: 应为整数" in answer
        assert "shop.yaml:5:3: moderation.wndow: 没有 'wndow' 这个键" in answer
        assert english_phrases(answer) == [], answer
        policy.write_text("extends: shop-zh\nmoderation: [\n", encoding="utf-8")
        broken = await _answer(harness, "/reload")
        assert "YAML 语法错误（第 " in broken
        assert english_phrases(broken.split("）：", 1)[0]) == [], broken
        policy.write_text(
            "extends: shop-zh\nmoderation:\n  mode：soft\n  window: 30d\n", encoding="utf-8"
        )
        colon = await _answer(harness, "/reload")
        assert "shop.yaml:3:7: 键名后面用了中文冒号“：”" in colon, colon
        assert english_phrases(colon) == [] and ": -:" not in colon, colon
    finally:
        await harness.stop()


CONTEXTS: dict[str, dict[str, object]] = {
    "greater_than": {"gt": 0},
    "greater_than_equal": {"ge": 2},
    "less_than": {"lt": 9},
    "less_than_equal": {"le": 9},
    "literal_error": {"expected": "'soft', 'neutral' or 'hard'"},
    "enum": {"expected": "'soft', 'neutral' or 'hard'"},
    "string_too_short": {"min_length": 1},
    "string_too_long": {"max_length": 64},
    "string_pattern_mismatch": {"pattern": "^[a-z]+$"},
    "too_short": {"min_length": 1, "actual_length": 0},
    "too_long": {"max_length": 3, "actual_length": 5},
    "extra_forbidden": {"key": "colour", "known": Names(("mode", "ladder", "window"))},
}


@pytest.mark.parametrize("kind", [*PYDANTIC_TEMPLATES, "extra_forbidden with a suggestion"])
def test_every_pydantic_type_in_the_table_reads_in_both_languages(kind: str) -> None:
    values = CONTEXTS.get(kind, {})
    if kind == "extra_forbidden with a suggestion":
        kind, values = "extra_forbidden", {**CONTEXTS["extra_forbidden"], "suggestion": "mode"}
    problem = Problem(Position("x.yaml", 1, 1), "a.b", "ENGLISH FALLBACK", kind, "", values)
    chinese, english = say_reason(ZH, problem), say_reason(EN, problem)
    assert "ENGLISH FALLBACK" not in (chinese, english)
    assert english_phrases(chinese) == [], chinese
    assert english_phrases(english), english
    for value in values.values():
        shown = ZH.listing(value) if isinstance(value, Names) else str(value)
        if kind not in {"literal_error", "enum"}:
            assert shown in chinese, (value, chinese)
    if "suggestion" in values:
        assert say_reason(EN, problem).startswith(UNKNOWN_KEY_WITH_SUGGESTION.split("{key")[0])
        assert "'mode'？" in chinese


def test_an_unknown_type_falls_back_to_the_english_message() -> None:
    problem = Problem(Position("x.yaml", 1, 1), "a", "input is odd", "no_such_type", "", {})
    assert say_reason(ZH, problem) == "input is odd"


def test_a_validator_reason_reaches_the_problem_as_data_with_the_english_unchanged() -> None:
    located = parse_yaml("moderation:\n  ladder: [soft, mute]\n", "mine.yaml")
    with pytest.raises(SourceError) as raised:
        validate(Policy, located)
    (problem,) = [item for item in raised.value.problems if item.path == "moderation.ladder.1"]
    assert problem.message == "a mute step needs a duration, for example 'mute 1d'"
    assert problem.template == problem.message and problem.values == {}
    assert str(problem) == f"mine.yaml:2:18: moderation.ladder.1: {problem.message}"
    assert say_reason(ZH, problem) == "禁言步骤要写时长，例如「禁言 1天」"


async def test_a_wrong_single_step_is_named_once(zh_shop: Harness) -> None:
    assert await _answer(zh_shop, "/ladder mute") == (
        "未修改：moderation.ladder.0: 禁言步骤要写时长，例如「禁言 1天」"
    )


async def test_reload_after_the_policy_file_is_gone_or_unreadable_keeps_the_old_one(
    tmp_path: Path,
) -> None:
    harness = await Harness.start(make_config(tmp_path, policy="extends: shop-zh\n"))
    try:
        policy = tmp_path / "policies" / "shop.yaml"
        policy.write_bytes(b"extends: shop-zh\n\xff\xfe\n")
        unreadable = await _answer(harness, "/reload")
        assert f"仍使用原来的策略：{policy} 不是 UTF-8 文本" in unreadable, unreadable
        assert english_phrases(unreadable.replace(str(policy), "")) == [], unreadable
        policy.unlink()
        gone = await _answer(harness, "/reload")
        assert "仍使用原来的策略：策略 shop 在策略目录里已没有文件" in gone, gone
        assert english_phrases(gone) == [], gone
        # The old policy still judges the group.
        kept = await harness.services.policies.policy_for(GROUP)
        assert kept.policy.language == "zh"
    finally:
        await harness.stop()


async def test_the_ladder_says_where_the_mode_starts_or_that_it_is_not_on_it(
    zh_shop: Harness,
) -> None:
    await _answer(zh_shop, "/mode neutral")
    off = await _answer(zh_shop, "/ladder mute 1d, mute 7d, hard")
    assert "不在阶梯上，从第一步开始" in off, off
    on = await _answer(zh_shop, "/ladder soft, neutral, hard")
    assert on.endswith("（当前模式「踢出」为第一步）"), on
    assert await _answer(zh_shop, "/ladder") == on


async def test_a_chinese_admin_may_name_the_mode_in_chinese(zh_shop: Harness) -> None:
    assert (await _answer(zh_shop, "/mode")).startswith("当前模式为「")
    assert await _answer(zh_shop, "/mode 踢出") == "模式已切换为「踢出」。"
    for typed in ("/ladder 禁言 1 天 -> 踢出 -> 封禁", "/ladder 禁言 1天；踢出; 封禁"):
        answer = await _answer(zh_shop, typed)
        assert answer.startswith("处罚阶梯：禁言 1 天 → 踢出 → 封禁"), (typed, answer)
    wrong = await _answer(zh_shop, "/mode 随便")
    choices = "soft（提醒）、neutral（踢出）、hard（封禁）"
    assert wrong == f"没有「随便」这个模式，请从以下模式中选择：{choices}。"


def test_a_full_width_colon_in_a_text_is_not_blamed_for_another_error() -> None:
    broken = "templates:\n  welcome: |\n    欢迎光临：\n  bad: [unclosed\n"
    with pytest.raises(SourceError) as raised:
        parse_yaml(broken, "f.yaml")
    (problem,) = raised.value.problems
    assert "is not closed" in problem.message, problem


async def test_a_chinese_admin_types_back_the_step_names_the_bot_shows(zh_shop: Harness) -> None:
    assert await _answer(zh_shop, "/set moderation.mode 提醒") == ("moderation.mode = 提醒")
    policy = (await zh_shop.services.policies.policy_for(GROUP)).policy
    assert policy.moderation.mode.value == "soft"
    answer = await _answer(zh_shop, "/ladder 禁言 1天 → 踢出，封禁、永久禁言")
    assert answer.startswith("处罚阶梯：禁言 1 天 → 踢出 → 封禁 → 永久禁言"), answer
    assert await _answer(zh_shop, "/mode 踢出") == "模式已切换为「踢出」。"
    for typed in ("/ladder 禁言 1 天 -> 踢出 -> 封禁", "/ladder 禁言 1天；踢出; 封禁"):
        answer = await _answer(zh_shop, typed)
        assert answer.startswith("处罚阶梯：禁言 1 天 → 踢出 → 封禁"), (typed, answer)


async def test_the_chinese_help_gives_examples_an_admin_can_type_back(zh_shop: Harness) -> None:
    shown = await _answer(zh_shop, "/help")
    example = "/ladder 禁言 1天, 禁言 7天, 封禁"
    assert example in shown and "/mode 提醒|踢出|封禁" in shown, shown
    assert "/mute 十分钟" in shown, shown
    assert not re.search(r"\b(soft|neutral|hard)\b", shown), shown
    answer = await _answer(zh_shop, example)
    assert answer.startswith("处罚阶梯：禁言 1 天 → 禁言 1 周 → 封禁"), answer


def test_the_step_names_the_catalog_shows_are_the_ones_the_schema_reads() -> None:
    for kind in StepKind:
        step = "mute 1d" if kind is StepKind.MUTE else kind.value
        shown = ZH.step(step).split(" ")[0]
        assert STEP_WORDS[shown] == kind.value, (kind, shown)
    assert LadderStep.model_validate(ZH.step("mute forever")).duration == FOREVER


async def test_policy_and_allow_speak_chinese_without_raw_codes(zh_shop: Harness) -> None:
    await _answer(zh_shop, "/set moderation.reinvite_after 30分钟")
    assert await _answer(zh_shop, "/allow contact sunny_cs01") == "已放行（联系方式）：sunny_cs01"
    await _answer(zh_shop, "/mode 踢出")
    await _answer(zh_shop, "/ladder 禁言 1天，踢出")
    await _answer(zh_shop, "/block 代购")
    shown = await _answer(zh_shop, "/policy")
    assert "语言：中文" in shown, shown
    assert "moderation.reinvite_after = 30分钟" in shown and "{" not in shown, shown
    assert "moderation.mode = 踢出" in shown and "neutral" not in shown, shown
    assert "moderation.ladder = 禁言 1 天 → 踢出" in shown, shown
    assert "、代购" in shown and "pattern" not in shown, shown


async def test_a_member_named_by_id_is_answered_by_name_and_an_unknown_username_is_said(
    zh_shop: Harness,
) -> None:
    bob = zh_shop.member("bob")
    await zh_shop.say(bob, "你好")
    assert await _answer(zh_shop, f"/mute {bob} 10分钟") == "Bob 已被禁言 10 分钟。"
    unknown = await _answer(zh_shop, "/mute @nobody_here 10分钟")
    assert unknown.startswith("我还不认识 @nobody_here：请回复他发过的消息，或写他的数字 ID。")


def test_a_duplicate_key_says_where_its_first_copy_is_in_chinese() -> None:
    text = "extends: shop-zh\nmoderation:\n  mode: soft\n  window: 7d\n  mode: hard\n"
    with pytest.raises(SourceError) as error:
        parse_yaml(text, "shop.yaml")
    (problem,) = error.value.problems
    assert say_located(ZH, problem) == (
        "shop.yaml:5:3: moderation.mode: 键重复了：第 3 行也有这个键，请只保留一个"
    )


def test_the_owners_words_for_the_modes_work_in_a_policy_as_in_mode() -> None:
    overrides = {"moderation": {"mode": "温柔", "ladder": ["温柔", "中性", "暴力"]}}
    policy = PolicyLibrary(None).load("shop-zh", overrides)
    assert policy.moderation.mode.value == "soft"
    assert [step.label() for step in policy.moderation.ladder] == ["soft", "neutral", "hard"]

"""What a Chinese shop owner following the README meets in `qunbot check`: names refused in
words instead of a regex, Chinese names where they are safe, a ladder written with Chinese
commas, a mode named in Chinese, and warnings shown alongside errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.policy_files import PolicyLibrary
from policies.schema import Policy
from policies.yamlsource import Located, parse_yaml, validate
from tests.english import english_phrases
from tests.test_cli_language import write_config
from tests.test_config import run_check

USED = "（策略 'shop'，用于 群 -1001）"


def check_zh(
    folder: Path, policy: str, capsys: pytest.CaptureFixture[str], config: str = ""
) -> tuple[int, str, str]:
    body = config or "language: zh\ngroups: [{chat_id: -1001, policy: shop}]\n"
    return run_check(write_config(folder, body, policy), capsys)


def test_a_chinese_policy_name_is_refused_in_words_with_where_chinese_goes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = check_zh(
        tmp_path,
        "extends: shop-zh\n",
        capsys,
        "language: zh\ngroups: [{chat_id: -1001, policy: 阳光零食}]\n",
    )
    assert code == 1
    assert "^" not in err and "A-Za-z" not in err
    assert (
        "groups.0.policy: 只能用英文字母、数字、下划线（_）、点（.）和连字符（-），例如 shop_2："
        "策略的名字就是它的文件名（policies/shop_2.yaml）；中文名称请写在策略文件的 `name:` 里"
    ) in err


def test_chinese_gift_pool_names_and_schedule_ids_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = (
        "extends: shop-zh\ngifts:\n  welcome_pool: 新人券\n"
        "  pools:\n    新人券: {codes: [A1, B2]}\n"
        "rhythm:\n  schedules:\n    - {id: 早安, at: '08:00', text: 早上好}\n"
    )
    code, out, err = check_zh(tmp_path, policy, capsys)
    assert code == 0, err
    assert "检查通过" in out


def test_a_schedule_id_with_a_space_is_refused_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = (
        "extends: shop-zh\nrhythm:\n  schedules:\n    - {id: 早安 问候, at: '08:00', text: 好}\n"
    )
    code, _, err = check_zh(tmp_path, policy, capsys)
    assert code == 1
    assert (
        "rhythm.schedules.0.id: 只能用汉字、小写英文字母、数字、下划线（_）和连字符（-），"
        f"最多 32 个字，例如 morning{USED}"
    ) in err
    assert "^" not in err


@pytest.mark.parametrize(
    "ladder",
    [
        "[提醒， 踢出， 封禁]",
        "提醒，踢出，封禁",
        "提醒 → 踢出 → 封禁",
        "[提醒、踢出, 封禁]",
        "提醒; 踢出；封禁",
    ],
)
def test_a_ladder_on_one_line_reads_like_the_ladder_command(ladder: str) -> None:
    written = parse_yaml(f"ladder: {ladder}\n", "shop.yaml").data["ladder"]
    preset = PolicyLibrary(None).resolve("shop-zh").data
    data = {**preset, "moderation": {**preset["moderation"], "ladder": written}}
    policy = validate(Policy, Located(data, {}, {}, "shop.yaml"))
    assert [step.label() for step in policy.moderation.ladder] == ["soft", "neutral", "hard"]


def test_a_ladder_with_chinese_commas_passes_check_and_a_wrong_step_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check_zh(
        tmp_path, "extends: shop-zh\nmoderation:\n  ladder: [禁言 1天， 踢出， 封禁]\n", capsys
    )
    assert code == 0 and "检查通过" in out, err
    (tmp_path / "policies" / "shop.yaml").unlink()
    (tmp_path / "policies").rmdir()
    code, _, err = check_zh(
        tmp_path, "extends: shop-zh\nmoderation:\n  ladder: 提醒，踢出，拉黑\n", capsys
    )
    assert code == 1
    assert "「拉黑」不是处罚步骤" in err, err


def test_a_mute_as_the_mode_is_explained_with_the_chinese_mode_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = check_zh(tmp_path, "extends: shop-zh\nmoderation:\n  mode: 禁言\n", capsys)
    assert code == 1
    assert (
        "moderation.mode: 「禁言」是处罚阶梯里的一步，不能当模式：模式只能是 提醒（soft）、"
        "踢出（neutral）或 封禁（hard）；禁言请写进 ladder，例如「禁言 1天」"
    ) in err


def test_warnings_are_shown_alongside_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = "extends: shop-zh\nmoderation:\n  mode: 禁言\n  window: 30\n"
    code, out, err = check_zh(tmp_path, policy, capsys)
    assert code == 1 and out == ""
    lines = err.splitlines()
    shop = tmp_path / "policies" / "shop.yaml"
    assert lines[0].startswith(f"{shop}:3:9: moderation.mode: ")
    assert lines[1] == (
        f"警告：{shop}:4:11: moderation.window: 30 会按 30 秒算：确实是秒就写 30秒，"
        "否则写上想要的单位（30分钟、30小时、30天）"
    )
    assert lines[2].startswith("发现 1 个问题")
    assert english_phrases(err.replace(str(tmp_path), ".")) == []


def test_warnings_are_shown_alongside_a_missing_codes_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = (
        "extends: shop-zh\nmoderation:\n  window: 30\ngifts:\n  welcome_pool: 新人券\n"
        "  pools:\n    新人券: {codes_file: coupons.txt}\n"
    )
    code, _, err = check_zh(tmp_path, policy, capsys)
    assert code == 1
    assert "找不到券码文件" in err
    assert "警告：" in err and "moderation.window: 30 会按 30 秒算" in err

"""`qunbot check` and `qunbot run`'s start-up refusals speak the config's `language`: a Chinese
operator reads every problem, warning and refusal in Chinese, with file names, keys and line
numbers kept as written; an English config stays English."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.english import english_phrases
from tests.test_config import run_check, run_command

BROKEN_POLICY = "extends: shop-zh\nmoderation:\n  modee: soft\n  mode: sofft\n"
"""An unknown key (a typo of `mode`) and a value that is not one of the modes."""


def write_config(folder: Path, body: str, policy: str | None = None) -> Path:
    if policy is not None:
        (folder / "policies").mkdir()
        (folder / "policies" / "shop.yaml").write_text(policy, encoding="utf-8")
    config = folder / "config.yaml"
    config.write_text(body, encoding="utf-8")
    return config


def prose(output: str, folder: Path) -> list[str]:
    """The English phrases of an output, the test's own folder (a path, not prose) left out."""
    return english_phrases(output.replace(str(folder), "."))


def test_a_valid_chinese_config_is_passed_and_warned_about_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "language: zh\ngroups: [{chat_id: -1001, policy: shop-zh}]\n")
    code, out, err = run_check(config, capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert "警告：未设置 staff_chat：移除通知、重新邀请按钮和权限提醒只会写进日志" in lines
    assert any(line.startswith("警告：未设置 staff_chat：投诉工单不会转给客服") for line in lines)
    assert lines[-1] == f"{config}：检查通过（已配置 1 个群；策略：shop-zh）"
    assert prose(out, tmp_path) == []


def test_a_policy_problem_is_told_in_chinese_at_its_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        "language: zh\ndefault_policy: shop\ngroups:\n"
        "  - {chat_id: -1001, policy: shop}\n  - {chat_id: -1002, policy: shopp}\n",
        BROKEN_POLICY,
    )
    code, out, err = run_check(config, capsys)
    assert code == 1 and out == "" and "Traceback" not in err
    policy = tmp_path / "policies" / "shop.yaml"
    used = "（策略 'shop'，用于 default_policy、群 -1001）"
    lines = err.splitlines()
    assert lines[0].startswith(f"{config}:5:30: groups.1.policy: 没有叫 'shopp' 的策略或预设")
    assert lines[1].startswith(
        f"{policy}:3:3: moderation.modee: 没有 'modee' 这个键（是不是 'mode'？）"
    )
    assert lines[1].endswith(used)
    assert lines[2] == (
        f"{policy}:4:9: moderation.mode: 「sofft」不是模式："
        f"只能是 提醒（soft）、踢出（neutral）或 封禁（hard）{used}"
    )
    assert lines[3] == f"发现 3 个问题；改好后再运行 `qunbot check {config}`。"
    assert prose(err, tmp_path) == []


def test_a_missing_codes_file_is_told_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = (
        "extends: shop-zh\ngifts:\n  welcome_pool: welcome\n"
        "  pools:\n    welcome: {codes_file: coupons/welcome.txt}\n"
    )
    config = write_config(tmp_path, "language: zh\ndefault_policy: shop\n", policy)
    code, _, err = run_check(config, capsys)
    assert code == 1
    missing = tmp_path / "coupons" / "welcome.txt"
    assert f"{config}: 策略 'shop'：红包池 'welcome'：找不到券码文件 {missing}" in err
    assert "发现 1 个问题" in err and prose(err, tmp_path) == []


def test_an_english_config_stays_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "en").mkdir()
    config = write_config(tmp_path / "en", "language: en\ndefault_policy: shop\n", BROKEN_POLICY)
    code, _, err = run_check(config, capsys)
    assert code == 1
    assert "moderation.modee: unknown key 'modee' (did you mean 'mode'?)" in err
    assert "(policy 'shop', used by default_policy)" in err
    assert "2 problems found; fix them and run `qunbot check" in err
    assert not any("\u4e00" <= character <= "\u9fff" for character in err)
    valid = write_config(tmp_path, "groups: [{chat_id: -1001, policy: default}]\n")
    code, out, _ = run_check(valid, capsys)
    assert code == 0
    assert "warning: no staff_chat: removal notices" in out
    assert out.splitlines()[-1] == f"{valid}: OK (1 group configured; policies: default)"


def test_a_broken_chinese_config_is_still_explained_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A YAML syntax error keeps the file from being read as settings; its `language:` line
    still says whom the explanation is for."""
    config = write_config(tmp_path, "language: zh\ngroups:\n  - {chat_id: -1001, policy: x\n")
    code, _, err = run_check(config, capsys)
    assert code == 1
    assert f"{config}:4:1: YAML 语法错误（第 4 行第 1 列）" in err
    assert err.splitlines()[-1] == f"发现 1 个问题；改好后再运行 `qunbot check {config}`。"


def test_a_config_that_cannot_be_read_is_explained_in_both_languages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_bytes("language: zh\n# 我的店\n".encode("gbk"))
    code, _, err = run_check(config, capsys)
    assert code == 1
    assert err.splitlines() == [
        f"{config}:1:1: (top): the config is not UTF-8 text: save it as UTF-8",
        f"1 problem found; fix it and run `qunbot check {config}` again.",
        f"{config}:1:1: 配置文件不是 UTF-8 文本：请另存为 UTF-8",
        f"发现 1 个问题；改好后再运行 `qunbot check {config}`。",
    ]


def test_run_refuses_a_broken_chinese_config_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUNBOT_TOKEN", "123456:not-used")
    config = write_config(tmp_path, "language: zh\ndefault_policy: shop\n", BROKEN_POLICY)
    code, out, err = run_command(["run", str(config)], capsys)
    assert code == 1 and out == "" and "Traceback" not in err
    assert "moderation.modee: 没有 'modee' 这个键" in err
    assert err.splitlines()[-1] == f"发现 2 个问题；改好后再运行 `qunbot check {config}`。"
    assert prose(err, tmp_path) == []


def test_run_refuses_a_missing_token_and_a_bad_webhook_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUNBOT_TOKEN", raising=False)
    monkeypatch.delenv("QUNBOT_SIGNING_SECRET", raising=False)
    config = write_config(tmp_path, "language: zh\n")
    code, _, err = run_command(["run", str(config)], capsys)
    assert code == 1
    assert err.strip() == (
        "qunbot: 请把 BotFather 给你的令牌设置到环境变量 QUNBOT_TOKEN"
        "（或先试试 `qunbot simulate`，不需要令牌）"
    )
    monkeypatch.setenv("QUNBOT_TOKEN", "123456:not-used")
    code, _, err = run_command(["run", str(config), "--webhook", "http://shop.example"], capsys)
    assert code == 1 and "Traceback" not in err
    assert err.strip() == (
        "qunbot: webhook 设置无效：url: 请写以 https:// 开头、不带空格的地址，"
        "例如 https://bot.example.com/qunbot"
    )
    assert prose(err, tmp_path) == []

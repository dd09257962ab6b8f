"""`qunbot simulate shop-zh`: the default script's day in a Chinese shop group, end to end. No
line the bot sends holds an English phrase, and the charts are drawn in Chinese."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.english import bot_lines, english_phrases
from tests.test_flows_stats import png_size

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("charts-zh")


@pytest.fixture(scope="module")
def transcript(charts: Path) -> str:
    environment = {**os.environ, "NO_PROXY": "127.0.0.1"}
    completed = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "shop-zh", "--out", str(charts)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=environment,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
    assert "missing from font" not in completed.stderr, completed.stderr
    return completed.stdout


def test_no_line_the_bot_sends_holds_an_english_phrase(transcript: str) -> None:
    said = bot_lines(transcript)
    assert len(said) > 60
    assert [line for line in said if english_phrases(line)] == []


def test_the_day_is_played_in_chinese(transcript: str) -> None:
    said = "\n".join(bot_lines(transcript))
    for expected in (
        "欢迎 小博",  # the welcome, with its gift
        "SUNNY-NEW-7Q2K",
        "这个红包是送给新成员的见面礼哦",  # an old member pressing the welcome's red envelope
        "#3 踢出：规则",  # /why on the notice: the removal, by the id the staff chat gave it
        "只有本群管理员可以使用这个命令。",
        "模式已切换为「提醒」。",
        "[↩️ 撤销 #3 大伟] [✅ 确认 #3] [🌐 全部群封禁 #3] [📨 立即重新邀请 #3 大伟]",  # whose
        "6 小时后可重新邀请",
        "已撤销 #",  # undo, answered in the staff chat
        "新工单 #1",
        "开始还有 30 分钟",  # the last call with `last_call: 30m`
        "日期",  # the /stats table
        "每周报告",
    ):
        assert expected in said, expected


def test_the_charts_are_saved_for_both_chats(transcript: str, charts: Path) -> None:
    saved = sorted(path.name.split("-")[0] for path in charts.glob("*.png"))
    assert saved == ["group", "staff"]
    for path in charts.glob("*.png"):
        assert png_size(path.read_bytes()) == (800, 450)


def test_the_table_shows_no_zeros_for_the_days_before_the_bot(transcript: str) -> None:
    stats = transcript[transcript.index("📊 阳光零食") :].splitlines()
    assert stats[1].split()[0] == "日期"
    assert stats[2].split() == ["周三", "05-06", *["–"] * 7], "before the simulated Monday"
    monday = next(line for line in stats if "05-11" in line)
    assert "–" not in monday

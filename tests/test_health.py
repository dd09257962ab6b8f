"""The heartbeat `qunbot status` reads: what it says right after the bot handled something,
after a clean stop, and after the process died."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.health import Heartbeat, describe, heartbeat_path
from bot.core.i18n import Messages
from bot.fake import FakeTelegramServer
from tests.harness import GROUP, make_world
from tests.test_config import run_command
from tests.test_crash_safety import WallClock, start_bot, tail, until


def test_the_first_update_handled_is_written_at_once_even_right_after_an_idle_beat(
    tmp_path: Path,
) -> None:
    heart = Heartbeat(tmp_path / "qunbot.db.heartbeat")
    heart.beat(handled=False)
    assert "no update handled yet" in describe(heart.path)[1]
    heart.beat()
    healthy, line = describe(heart.path)
    assert healthy and "last update handled 0s ago, 1 since start" in line, line


def test_later_updates_are_written_at_most_once_a_beat(tmp_path: Path) -> None:
    heart = Heartbeat(tmp_path / "qunbot.db.heartbeat")
    heart.beat()
    heart.beat()
    heart.beat()
    assert "1 since start" in describe(heart.path)[1]


def test_a_clean_stop_is_told_as_not_running(tmp_path: Path) -> None:
    heart = Heartbeat(tmp_path / "qunbot.db.heartbeat")
    heart.beat()
    heart.stopped()
    healthy, line = describe(heart.path)
    assert not healthy
    assert line.startswith("qunbot is not running: it stopped cleanly 0s ago"), line
    healthy, line = describe(heart.path, Messages("zh"))
    assert line.startswith("qunbot 没有在运行：它在 0 秒前正常停止"), line


def test_a_bot_whose_process_is_gone_is_not_running_however_fresh_its_heartbeat(
    tmp_path: Path,
) -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    heart = Heartbeat(tmp_path / "qunbot.db.heartbeat")
    heart.beat()
    record = json.loads(heart.path.read_text(encoding="utf-8"))
    heart.path.write_text(json.dumps(record | {"pid": finished.pid}), encoding="utf-8")
    healthy, line = describe(heart.path)
    assert not healthy
    assert line.startswith(f"qunbot is not running: process {finished.pid} is gone"), line


def test_a_heartbeat_from_another_host_is_judged_by_its_age_alone(tmp_path: Path) -> None:
    path = tmp_path / "qunbot.db.heartbeat"
    record = {"pid": 2**22 + 7, "host": "another-container", "alive_at": 1000.0}
    path.write_text(json.dumps(record), encoding="utf-8")
    assert describe(path, now=1010.0)[0]
    healthy, line = describe(path, now=1100.0)
    assert not healthy and line.startswith("qunbot seems stuck: pid"), line


async def test_status_says_in_the_config_language_that_a_sigtermed_bot_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"language: zh\ndatabase: ./qunbot.db\ngroups: [{{chat_id: {GROUP}, policy: shop-zh}}]\n",
        encoding="utf-8",
    )
    log = tmp_path / "bot.log"
    fake = make_world(WallClock())
    async with FakeTelegramServer(fake) as server:
        bot = start_bot(config, server, log)
        try:
            await until(lambda: fake.pollers_waiting > 0, "the first poll", log)
            await until(lambda: heartbeat_path(tmp_path / "qunbot.db").exists(), "a beat", log)
            code, out, _ = run_command(["status", str(config)], capsys)
            assert code == 0 and out.startswith(f"进程 {bot.pid}："), out
            bot.send_signal(signal.SIGTERM)
            assert bot.wait(20) == 0, tail(log)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait(10)
            await asyncio.sleep(0.3)  # let the server see the bot's connections close
    code, out, _ = run_command(["status", str(config)], capsys)
    assert code == 1
    assert out.startswith("qunbot 没有在运行：它在"), out
    assert f"（进程 {bot.pid}）" in out

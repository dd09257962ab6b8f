"""Crash safety: `qunbot run` as a real process against the HTTP fake, killed mid-raid."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bot.fake import FakeTelegram, FakeTelegramServer
from bot.fake.models import StoredMessage
from tests.harness import GROUP, STAFF, TestClock, make_world

ROOT = Path(__file__).resolve().parents[1]
SPAMMERS = 60
AD = "加我微信 vx：abc{n:05d} 领取内部优惠券"
KILL_AFTER = (12, 30)
"""The bot is SIGKILLed once this many ads of the raid are deleted, then started again."""
DEADLINE = 30.0


class WallClock(TestClock):
    """The fake follows real time, like the bot process."""

    def now(self) -> float:
        return time.time()


def write_config(workdir: Path) -> Path:
    policies = workdir / "policies"
    policies.mkdir()
    (policies / "shop.yaml").write_text(
        "extends: default\nmoderation:\n  mode: neutral\n  reinvite_after: 1s\n",
        encoding="utf-8",
    )
    config = workdir / "config.yaml"
    config.write_text(
        f"database: ./qunbot.db\npolicies_dir: ./policies\ndefault_policy: shop\n"
        f"groups: [{{chat_id: {GROUP}, policy: shop}}]\nstaff_chat: {STAFF}\n",
        encoding="utf-8",
    )
    return config


def start_bot(config: Path, server: FakeTelegramServer, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "QUNBOT_TOKEN": "123456:CRASHTEST",
        "QUNBOT_BASE_URL": server.base_url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", str(config)],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=sink,
        )


async def until(condition: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; bot log:\n{tail(log)}")
        await asyncio.sleep(0.002)


def tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-4000:]


def deleted(fake: FakeTelegram, ads: list[int]) -> int:
    return sum(fake.is_deleted(GROUP, message_id) for message_id in ads)


def check_database(path: Path, spammers: list[int], ads: list[int]) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        offenders = Counter(
            user
            for (user,) in db.execute("SELECT user_id FROM offences WHERE chat_id = ?", (GROUP,))
        )
        enforced = [m for (m,) in db.execute("SELECT message_id FROM enforced_messages")]
        audited = Counter(
            m
            for (m,) in db.execute(
                "SELECT message_id FROM audit WHERE action NOT IN ('notice', 'reinvite')"
            )
        )
        owed = db.execute("SELECT COUNT(*) FROM enforced_messages WHERE delete_pending = 1")
        assert owed.fetchone() == (0,)
    assert offenders == Counter(dict.fromkeys(spammers, 1)), "one offence per ad, none lost"
    assert sorted(enforced) == sorted(ads)
    assert audited == Counter(dict.fromkeys(ads, 1)), "each ad audited exactly once"


def mentioned(message: StoredMessage) -> list[int]:
    ids = []
    for entity in message.data.get("entities", []):
        if entity["type"] == "text_mention":
            ids.append(int(entity["user"]["id"]))
        elif entity["type"] == "text_link" and entity["url"].startswith("tg://user?id="):
            ids.append(int(entity["url"].rsplit("=", 1)[1]))
    return ids


def check_no_double_posts(fake: FakeTelegram, spammers: list[int]) -> None:
    announced = Counter(user for m in fake.bot_messages(GROUP) for user in mentioned(m))
    assert announced, "the raid was announced"
    assert max(announced.values()) == 1, f"someone announced twice: {announced}"
    digests = "\n".join(m.text for m in fake.bot_messages(STAFF))
    for number in set(_action_numbers(digests)):
        assert digests.count(f"(#{number},") == 1


def _action_numbers(text: str) -> list[str]:
    return [part.split(",", 1)[0] for part in text.split("(#")[1:]]


async def test_a_bot_killed_mid_raid_loses_and_repeats_nothing(tmp_path: Path) -> None:
    config, log = write_config(tmp_path), tmp_path / "bot.log"
    fake = make_world(WallClock())
    spammers = list(range(900_001, 900_001 + SPAMMERS))
    for n, user in enumerate(spammers):
        fake.add_user(user, f"Spammer{n}")
        fake.add_member(GROUP, user)
    async with FakeTelegramServer(fake) as server:
        bot = start_bot(config, server, log)
        try:
            await until(lambda: fake.pollers_waiting > 0, "the first poll", log)
            ads = [
                int(fake.user_message(GROUP, user, AD.format(n=n))["message"]["message_id"])
                for n, user in enumerate(spammers)
            ]
            for threshold in KILL_AFTER:
                await until(
                    lambda t=threshold: deleted(fake, ads) >= t, f"{threshold} deletes", log
                )
                bot.send_signal(signal.SIGKILL)
                bot.wait(10)
                assert deleted(fake, ads) < len(ads), "the raid was over before the kill"
                bot = start_bot(config, server, log)
            await until(lambda: deleted(fake, ads) == len(ads), "every ad deleted", log)
            await asyncio.sleep(1.2)  # reinvite_after
            fake.start_private(spammers[0])
            fake.private_message(spammers[0], "/start")
            await until(lambda: bool(fake.bot_messages(spammers[0])), "the re-invite", log)
            assert "https://t.me/+" in fake.bot_messages(spammers[0])[0].text
            await until(lambda: fake.pollers_waiting > 0 and not fake.pending, "a quiet bot", log)
            await asyncio.sleep(0.3)  # let the last confirmations and deletes land
        finally:
            bot.send_signal(signal.SIGKILL)  # a third crash, once the raid is over
            bot.wait(10)
    check_database(tmp_path / "qunbot.db", spammers, ads)
    check_no_double_posts(fake, spammers)

"""Crash safety: `qunbot run` as a real process against the HTTP fake, killed while several
groups are raided at once (their updates handled side by side)."""

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
from bot.telegram.door import DELETE_RETRY_DELAYS
from tests.harness import GROUP, STAFF, TestClock, make_world

ROOT = Path(__file__).resolve().parents[1]
SPAMMERS = 30
"""Per group."""
OTHER_GROUPS = (-1001000000002, -1001000000003, -1001000000004)
GROUPS = (GROUP, *OTHER_GROUPS)
AD = "加我微信 vx：abc{n:05d} 领取内部优惠券"
KILL_AFTER = (20, 50)
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
    groups = ", ".join(f"{{chat_id: {chat_id}, policy: shop}}" for chat_id in GROUPS)
    config.write_text(
        f"database: ./qunbot.db\npolicies_dir: ./policies\ndefault_policy: shop\n"
        f"groups: [{groups}]\nstaff_chat: {STAFF}\n",
        # qunbot serves only the groups a config lists.
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


async def until(
    condition: Callable[[], bool], what: str, log: Path, within: float = DEADLINE
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; bot log:\n{tail(log)}")
        await asyncio.sleep(0.002)


def tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-4000:]


Ad = tuple[int, int]
"""(chat id, message id)"""


def deleted(fake: FakeTelegram, ads: list[Ad]) -> int:
    return sum(fake.is_deleted(chat_id, message_id) for chat_id, message_id in ads)


def check_database(path: Path, spammers: dict[int, list[int]], ads: list[Ad]) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        offenders = Counter(db.execute("SELECT chat_id, user_id FROM offences"))
        enforced = list(db.execute("SELECT chat_id, message_id FROM enforced_messages"))
        audited = Counter(
            db.execute(
                "SELECT chat_id, message_id FROM audit WHERE action NOT IN ('notice', 'reinvite')"
            )
        )
        owed = db.execute("SELECT COUNT(*) FROM enforced_messages WHERE delete_pending = 1")
        assert owed.fetchone() == (0,)
    everyone = [(chat, user) for chat, users in spammers.items() for user in users]
    assert offenders == Counter(dict.fromkeys(everyone, 1)), "one offence per ad, none lost"
    assert sorted(enforced) == sorted(ads)
    assert audited == Counter(dict.fromkeys(ads, 1)), "each ad audited exactly once"


def owed_deletes(path: Path) -> int:
    """Deletes the bot still owes, as the file says (read by another connection)."""
    with sqlite3.connect(path) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM enforced_messages WHERE delete_pending = 1"
        ).fetchone()
    return int(count)


def mentioned(message: StoredMessage) -> list[int]:
    ids = []
    for entity in message.data.get("entities", []):
        if entity["type"] == "text_mention":
            ids.append(int(entity["user"]["id"]))
        elif entity["type"] == "text_link" and entity["url"].startswith("tg://user?id="):
            ids.append(int(entity["url"].rsplit("=", 1)[1]))
    return ids


def check_no_double_posts(fake: FakeTelegram) -> None:
    for chat_id in GROUPS:
        announced = Counter(user for m in fake.bot_messages(chat_id) for user in mentioned(m))
        assert announced, f"the raid in {chat_id} was announced"
        assert max(announced.values()) == 1, f"someone announced twice: {announced}"
    digests = "\n".join(m.text for m in fake.bot_messages(STAFF))
    for number in set(_action_numbers(digests)):
        assert digests.count(f"(#{number},") == 1


def _action_numbers(text: str) -> list[str]:
    return [part.split(",", 1)[0] for part in text.split("(#")[1:]]


def raided_world() -> tuple[FakeTelegram, dict[int, list[int]]]:
    """The harness's world with three more groups, and a band of spammers in each."""
    fake = make_world(WallClock())
    for number, chat_id in enumerate(OTHER_GROUPS, start=2):
        fake.add_chat(chat_id, "supergroup", f"Branch {number}")
        fake.bot_is_admin(chat_id)
    spammers: dict[int, list[int]] = {}
    for index, chat_id in enumerate(GROUPS):
        first = 900_001 + index * 1000
        spammers[chat_id] = list(range(first, first + SPAMMERS))
        for user in spammers[chat_id]:
            fake.add_user(user, f"Spammer{user}")
            fake.add_member(chat_id, user)
    return fake, spammers


def post_raids(fake: FakeTelegram, spammers: dict[int, list[int]]) -> list[Ad]:
    """Every group's ads, interleaved, so the groups' updates arrive mixed."""
    ads = []
    for n in range(min(len(users) for users in spammers.values())):
        for chat_id in GROUPS:
            user = spammers[chat_id][n]
            update = fake.user_message(chat_id, user, AD.format(n=user))
            ads.append((chat_id, int(update["message"]["message_id"])))
    return ads


async def test_a_bot_killed_mid_raid_loses_and_repeats_nothing(tmp_path: Path) -> None:
    config, log = write_config(tmp_path), tmp_path / "bot.log"
    fake, spammers = raided_world()
    async with FakeTelegramServer(fake) as server:
        bot = start_bot(config, server, log)
        try:
            await until(lambda: fake.pollers_waiting > 0, "the first poll", log)
            ads = post_raids(fake, spammers)
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
            first = spammers[GROUP][0]
            fake.start_private(first)
            fake.private_message(first, "/start")
            await until(lambda: bool(fake.bot_messages(first)), "the re-invite", log)
            assert "https://t.me/+" in fake.bot_messages(first)[0].text
            await until(lambda: fake.pollers_waiting > 0 and not fake.pending, "a quiet bot", log)
            database = tmp_path / "qunbot.db"
            # A delete whose answer was lost (a timeout under load) is sent again in the
            # background after the door's first two retry pauses.
            await until(
                lambda: owed_deletes(database) == 0,
                "every delete recorded as done",
                log,
                within=DEADLINE + sum(DELETE_RETRY_DELAYS[:2]),
            )
        finally:
            bot.send_signal(signal.SIGKILL)  # a third crash, once the raid is over
            bot.wait(10)
    check_database(tmp_path / "qunbot.db", spammers, ads)
    check_no_double_posts(fake)


LOCKED_FOR = 8.0


async def test_a_database_locked_by_another_process_loses_no_ad(tmp_path: Path) -> None:
    config, log = write_config(tmp_path), tmp_path / "bot.log"
    fake, spammers = raided_world()
    async with FakeTelegramServer(fake) as server:
        bot = start_bot(config, server, log)
        try:
            await until(lambda: fake.pollers_waiting > 0, "the first poll", log)
            await until(lambda: heartbeat(tmp_path).exists(), "the first heartbeat", log)
            locker = sqlite3.connect(tmp_path / "qunbot.db", timeout=10, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
            locked_at = time.monotonic()
            ads = post_raids(fake, {chat: users[:3] for chat, users in spammers.items()})
            await asyncio.sleep(LOCKED_FOR)
            locker.execute("ROLLBACK")
            locker.close()
            assert bot.poll() is None, f"the bot gave up on a lock of {LOCKED_FOR}s:\n{tail(log)}"
            await until(lambda: deleted(fake, ads) == len(ads), "every ad deleted", log)
            handled_after = time.monotonic() - locked_at
            status = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "bot", "status", str(config)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            bot.send_signal(signal.SIGKILL)
            bot.wait(10)
    assert handled_after >= LOCKED_FOR
    assert status.returncode == 0, status.stdout + status.stderr
    assert "last update handled" in status.stdout
    with sqlite3.connect(tmp_path / "qunbot.db") as db:
        audited = Counter(db.execute("SELECT chat_id, message_id FROM enforced_messages"))
    assert audited == Counter(dict.fromkeys(ads, 1))


def heartbeat(workdir: Path) -> Path:
    return workdir / "qunbot.db.heartbeat"

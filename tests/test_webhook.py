"""Webhook mode end to end: `qunbot run --webhook` as a real process, the fake Telegram
delivering updates to it as Telegram does, and a request without the right secret refused."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.fake import FakeTelegramServer
from bot.fake.webhook import WebhookDeliverer
from tests.harness import GROUP
from tests.test_crash_safety import (
    AD,
    ROOT,
    raided_world,
    tail,
    until,
    write_config,
)

SECRET = "s3cret-Token_for-tests"
PUBLIC_URL = "https://shop.example/qunbot/hook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_webhook_bot(
    config: Path, server: FakeTelegramServer, port: int, log: Path
) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "QUNBOT_TOKEN": "123456:WEBHOOKTEST",
        "QUNBOT_BASE_URL": server.base_url,
        "QUNBOT_WEBHOOK_SECRET": SECRET,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    command = [sys.executable, "-m", "bot", "run", str(config), "--webhook", PUBLIC_URL]
    with log.open("ab") as sink:
        return subprocess.Popen(
            [*command, "--listen", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=sink,
        )


async def post(session: aiohttp.ClientSession, url: str, update: Any, secret: str) -> int:
    async with session.post(url, json=update, headers={SECRET_HEADER: secret}) as response:
        await response.read()
        return response.status


def enforced(database: Path, message_id: int) -> bool:
    with sqlite3.connect(database) as db:
        found = db.execute(
            "SELECT 1 FROM enforced_messages WHERE chat_id = ? AND message_id = ?",
            (GROUP, message_id),
        ).fetchone()
    return found is not None


async def test_webhook_end_to_end_with_a_wrong_secret_refused(tmp_path: Path) -> None:
    config, log = write_config(tmp_path), tmp_path / "bot.log"
    fake, spammers = raided_world()
    port = free_port()
    hook = f"http://127.0.0.1:{port}/qunbot/hook"
    async with FakeTelegramServer(fake) as server:
        bot = start_webhook_bot(config, server, port, log)
        try:
            await until(lambda: fake.webhook is not None, "setWebhook", log)
            assert fake.webhook is not None
            assert (fake.webhook.url, fake.webhook.secret_token) == (PUBLIC_URL, SECRET)
            first, second = spammers[GROUP][:2]
            forged = fake.user_message(GROUP, first, AD.format(n=1))
            fake.pending.clear()
            async with aiohttp.ClientSession() as session:
                assert await post(session, hook, forged, "guessed") == 403
                assert await post(session, hook, forged, "") == 403
            await asyncio.sleep(0.3)
            assert not fake.is_deleted(GROUP, forged["message"]["message_id"])
            ad = fake.user_message(GROUP, second, AD.format(n=2))["message"]["message_id"]
            telegram = WebhookDeliverer(fake, route_to=f"http://127.0.0.1:{port}", max_attempts=1)
            assert await telegram.deliver_pending(), tail(log)
            assert [attempt.status for attempt in telegram.attempts] == [200]
            assert enforced(tmp_path / "qunbot.db", ad), "answered only once handled"
            await until(lambda: fake.is_deleted(GROUP, ad), "the ad deleted", log)
            await until(lambda: bool(fake.calls_to("unbanChatMember")), "the kick", log)
            assert await telegram.deliver_pending(), "the kick's chat_member updates"
            assert not fake.pending
        finally:
            bot.terminate()
            bot.wait(15)
    assert bot.returncode == 0, tail(log)

"""`qunbot run` as a real process that cannot start: a refused token, an unreachable Telegram,
an empty or damaged database. Each ends with one line on stderr saying what to check, a
non-zero exit, no traceback, and the token nowhere in the output or the log file."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bot.fake import FakeTelegramServer
from tests.english import english_phrases
from tests.harness import TestClock, make_world

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
TIMEOUT = 30.0


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    log: str


def write_config(workdir: Path, language: str = "en") -> Path:
    (workdir / "policies").mkdir()
    (workdir / "policies" / "shop.yaml").write_text("extends: default\n", encoding="utf-8")
    config = workdir / "config.yaml"
    config.write_text(
        "database: ./qunbot.db\npolicies_dir: ./policies\ndefault_policy: shop\n"
        f"logging: {{level: DEBUG, file: logs/qunbot.log}}\nlanguage: {language}\n",
        encoding="utf-8",
    )
    return config


async def run_bot(workdir: Path, base_url: str, language: str = "en") -> Outcome:
    """`qunbot run` started from the repository root, so a path relative to the working
    directory instead of the config's folder would land elsewhere."""
    env = os.environ | {
        "QUNBOT_TOKEN": TOKEN,
        "QUNBOT_BASE_URL": base_url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        str(write_config(workdir, language)),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"qunbot run was still running after {TIMEOUT}s") from None
    log = workdir / "logs" / "qunbot.log"
    return Outcome(
        process.returncode if process.returncode is not None else -1,
        stdout.decode(),
        stderr.decode(),
        log.read_text(encoding="utf-8") if log.exists() else "",
    )


def assert_one_line(outcome: Outcome, *expected: str) -> str:
    assert outcome.code != 0
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("qunbot: ") and "Traceback" not in outcome.stderr
    for part in expected:
        assert part in lines[0], lines[0]
    for text in (outcome.stdout, outcome.stderr, outcome.log):
        assert TOKEN not in text and TOKEN.split(":")[1] not in text
    return lines[0]


@pytest.fixture
async def refusing_telegram() -> AsyncIterator[str]:
    """A Bot API over HTTP that answers every call with 401 Unauthorized."""

    async def refuse(request: web.Request) -> web.Response:
        body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
        return web.json_response(body, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    yield f"http://127.0.0.1:{port}/bot"
    await runner.cleanup()


@pytest.fixture
async def telegram() -> AsyncIterator[str]:
    async with FakeTelegramServer(make_world(TestClock())) as server:
        yield server.base_url


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_refused_token_is_one_line_and_appears_nowhere(
    tmp_path: Path, refusing_telegram: str
) -> None:
    outcome = await run_bot(tmp_path, refusing_telegram)
    assert_one_line(outcome, "Telegram refused the token", "QUNBOT_TOKEN")
    assert "rejected" in outcome.log, "the log file keeps the detail, redacted"


async def test_a_refused_token_is_told_in_the_config_language(
    tmp_path: Path, refusing_telegram: str
) -> None:
    outcome = await run_bot(tmp_path, refusing_telegram, language="zh")
    line = assert_one_line(outcome, "Telegram 拒绝了这个令牌", "请检查 QUNBOT_TOKEN")
    assert english_phrases(line) == []


async def test_an_unreachable_telegram_is_one_line(tmp_path: Path) -> None:
    outcome = await run_bot(tmp_path, f"http://127.0.0.1:{closed_port()}/bot")
    assert_one_line(outcome, "cannot reach Telegram", "QUNBOT_BASE_URL")


async def test_the_log_file_is_beside_the_config_and_private(
    tmp_path: Path, refusing_telegram: str
) -> None:
    await run_bot(tmp_path, refusing_telegram)
    log = tmp_path / "logs" / "qunbot.log"
    assert log.exists(), "logging.file is relative to the config's folder"
    assert not (ROOT / "logs" / "qunbot.log").exists()
    assert log.stat().st_mode & 0o777 == 0o600


async def test_an_empty_database_is_refused_not_replaced(tmp_path: Path, telegram: str) -> None:
    (tmp_path / "qunbot.db").write_bytes(b"")
    outcome = await run_bot(tmp_path, telegram)
    assert_one_line(outcome, "qunbot.db is empty", "restore it from a backup", "delete it")
    assert (tmp_path / "qunbot.db").stat().st_size == 0, "nothing was written over it"


async def test_an_empty_database_is_refused_in_the_config_language(
    tmp_path: Path, telegram: str
) -> None:
    (tmp_path / "qunbot.db").write_bytes(b"")
    outcome = await run_bot(tmp_path, telegram, language="zh")
    line = assert_one_line(outcome, "qunbot.db 是空文件（0 字节），数据已丢失：请从备份恢复")
    assert english_phrases(line.replace(str(tmp_path), ".")) == []


async def test_a_damaged_database_is_refused(tmp_path: Path, telegram: str) -> None:
    database = tmp_path / "qunbot.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE filler (text TEXT)")
        db.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 200)
    data = bytearray(database.read_bytes())
    data[4096 * 2 : 4096 * 2 + 64] = b"\xff" * 64
    database.write_bytes(bytes(data))
    outcome = await run_bot(tmp_path, telegram)
    assert_one_line(outcome, "qunbot.db is damaged", "restore it from a backup")

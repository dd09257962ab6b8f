"""Secrets stay secret: the token is redacted in tracebacks on every sink, the database and its
WAL and SHM files are private to their owner, and the signing secret may come from the
environment."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger
from telegram.error import InvalidToken

from bot.core.config import LoggingConfig, signing_secret_from_environment
from bot.core.logging import register_secret, setup_logging
from bot.core.signing import Signer
from bot.store import StorageError, Store
from tests.harness import Harness, make_config

TOKEN = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
ODD_TOKEN = "0:an-odd-token-shape"
SECRET = "ab" * 32


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    setup_logging(None, level="WARNING")


@pytest.mark.parametrize("json_lines", [False, True])
def test_a_refused_token_in_a_traceback_reaches_no_sink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None, json_lines: bool
) -> None:
    log_file = tmp_path / "qunbot.log"
    register_secret(ODD_TOKEN)
    setup_logging(LoggingConfig(level="DEBUG", file=str(log_file), json_lines=json_lines))
    try:
        try:
            raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
        except InvalidToken as error:
            raise RuntimeError(f"starting with {ODD_TOKEN} failed") from error
    except RuntimeError:
        logger.exception("could not start")
    logger.complete()
    for written in (capsys.readouterr().err, log_file.read_text(encoding="utf-8")):
        assert "could not start" in written and "was rejected by the server" in written
        assert "InvalidToken" in written, "the traceback is kept, only the secret goes"
        assert TOKEN not in written and ODD_TOKEN not in written


def test_an_uncaught_error_prints_no_token(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    setup_logging(None)
    try:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    except InvalidToken as error:
        sys.excepthook(type(error), error, error.__traceback__)
    printed = capsys.readouterr().err
    assert "was rejected" in printed and TOKEN not in printed


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_the_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    path = tmp_path / "qunbot.db"
    store = await Store.open(path)
    try:
        await store.meta.get_or_create("probe", lambda: "value")
        companions = [path, path.with_name("qunbot.db-wal"), path.with_name("qunbot.db-shm")]
        assert all(companion.exists() for companion in companions)
        assert [mode(companion) for companion in companions] == [0o600, 0o600, 0o600]
    finally:
        await store.close()


async def test_a_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "qunbot.db"
    await (await Store.open(path)).close()
    path.chmod(0o644)
    store = await Store.open(path)
    await store.close()
    assert mode(path) == 0o600


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "is empty"), (b"this is not a database at all" * 200, "is damaged")],
)
async def test_an_unusable_database_file_is_refused_with_what_to_do(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "qunbot.db"
    path.write_bytes(content)
    with pytest.raises(StorageError, match=reason) as error:
        await Store.open(path)
    assert "restore it from a backup" in str(error.value)
    assert path.read_bytes() == content


async def test_the_signing_secret_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUNBOT_SIGNING_SECRET", SECRET.upper())
    harness = await Harness.start(make_config(tmp_path))
    try:
        signer = harness.services.signer
        assert Signer(SECRET).verify(signer.sign("gift", -1001, 42), "gift") == [-1001, 42]
        async with harness.services.store.db.execute(
            "SELECT COUNT(*) FROM meta WHERE key = 'signing_secret'"
        ) as cursor:
            assert await cursor.fetchone() == (0,), "none is stored in the database"
    finally:
        await harness.stop()


@pytest.mark.parametrize("value", ["short", "zz" * 32, "ab" * 31])
def test_a_malformed_signing_secret_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUNBOT_SIGNING_SECRET", value)
    with pytest.raises(SystemExit, match="at least 64 hexadecimal digits"):
        signing_secret_from_environment()

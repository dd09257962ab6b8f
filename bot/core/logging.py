"""Logging through loguru, with secrets redacted before anything is written.

Redaction runs as loguru's patcher, once per record and before any sink sees it: the message
and, because a refused token is quoted inside exception texts, the formatted traceback too.
Log files are created readable by their owner only.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from loguru import logger

if TYPE_CHECKING:
    from loguru import Record

    from bot.core.config import LoggingConfig

TOKEN_PATTERN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
"""The shape of a bot token; also caught inside URLs such as /bot<token>/getMe."""
PRIVATE_FILE_MODE = 0o600
_SECRETS: set[str] = set()
_SHORTEST_SECRET = 8
"""Shorter values would blank ordinary words out of the logs."""


def register_secret(value: str) -> None:
    """Redact this exact value too, whatever its shape (the configured token, for one)."""
    if len(value) >= _SHORTEST_SECRET:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "<token>")
    return TOKEN_PATTERN.sub("<token>", text)


def _redact_record(record: Record) -> None:
    """Fold the traceback into the message, then redact the whole text."""
    message = record["message"]
    exception = record["exception"]
    if exception is not None and exception.type is not None:
        formatted = traceback.format_exception(
            exception.type, exception.value, exception.traceback
        )
        message = f"{message}\n{''.join(formatted).rstrip()}"
        record["exception"] = None
    record["message"] = redact(message)


def _redact_message(record: Record) -> bool:
    record["message"] = redact(record["message"])
    return True


class _InterceptHandler(logging.Handler):
    """Sends python-telegram-bot's and httpx's stdlib logging through loguru (and redaction)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(exception=record.exc_info).log(level, redact(record.getMessage()))


class _HeldWhileStarting:
    """stderr, holding lines back while `qunbot run` starts. A start that fails is told in one
    line by the CLI (the log file keeps the detail); once started, the held lines follow."""

    def __init__(self) -> None:
        self.held: list[str] | None = None

    def write(self, message: str) -> None:
        if self.held is None:
            sys.stderr.write(message)
        elif len(self.held) < _MOST_HELD_LINES:
            self.held.append(message)

    def flush(self) -> None:
        sys.stderr.flush()

    def release(self) -> None:
        held, self.held = self.held or [], None
        for message in held:
            sys.stderr.write(message)


_MOST_HELD_LINES = 1000
_STDERR = _HeldWhileStarting()


def started() -> None:
    """The bot is up: print what was held back while it started."""
    _STDERR.release()


def discard_start_up_lines() -> None:
    """The start failed and the caller says why in one line; the log file keeps the rest."""
    _STDERR.held = None


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, PRIVATE_FILE_MODE)


def _redacted_excepthook(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """An error nobody caught still never prints a secret."""
    sys.stderr.write(redact("".join(traceback.format_exception(kind, error, trace))))


def setup_logging(
    config: LoggingConfig | None,
    *,
    level: str | None = None,
    file: Path | None = None,
    hold_while_starting: bool = False,
) -> None:
    """Configure sinks once at start-up; every record passes the redaction patcher.

    `file` overrides `config.file`, resolved by the caller against the config's folder. With
    `hold_while_starting`, stderr shows nothing until `started()` (or the caller's one line).
    """
    chosen = level or (config.level if config else "INFO")
    log_file = file or (Path(config.file) if config is not None and config.file else None)
    logger.remove()
    logger.configure(patcher=_redact_record)
    _STDERR.held = [] if hold_while_starting else None
    logger.add(_STDERR, level=chosen, filter=_redact_message, backtrace=False, diagnose=False)
    if log_file is not None:
        if log_file.exists():
            log_file.chmod(PRIVATE_FILE_MODE)
        logger.add(
            log_file,
            level=chosen,
            filter=_redact_message,
            rotation="1 day",
            retention="14 days",
            serialize=config.json_lines if config is not None else False,
            backtrace=False,
            diagnose=False,
            opener=_private_opener,
        )
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.WARNING, force=True)
    sys.excepthook = _redacted_excepthook

"""Logging through loguru, with secrets redacted before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from typing import TYPE_CHECKING

from loguru import logger

if TYPE_CHECKING:
    from loguru import Record

    from bot.core.config import LoggingConfig

TOKEN_PATTERN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
"""The shape of a bot token; also caught inside URLs such as /bot<token>/getMe."""


def redact(text: str) -> str:
    return TOKEN_PATTERN.sub("<token>", text)


def _redact_record(record: Record) -> bool:
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


def setup_logging(config: LoggingConfig | None, *, level: str | None = None) -> None:
    """Configure sinks once at start-up; every message passes the redaction filter."""
    chosen = level or (config.level if config else "INFO")
    logger.remove()
    logger.add(sys.stderr, level=chosen, filter=_redact_record, backtrace=False, diagnose=False)
    if config is not None and config.file:
        logger.add(
            config.file,
            level=chosen,
            filter=_redact_record,
            rotation="1 day",
            retention="14 days",
            serialize=config.json_lines,
            diagnose=False,
        )
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.WARNING, force=True)

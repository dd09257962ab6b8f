"""Per-user limits on commands and on the private chat, checked before any other handler, so
one member cannot keep the bot (and Telegram's send budget) busy."""

from __future__ import annotations

from collections import deque

from loguru import logger
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.core.runtime import runtime

THROTTLE_GROUP = -100
PER_USER_LIMIT = 12
WINDOW_SECONDS = 60.0


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, limit_user), group=THROTTLE_GROUP)


def _counted(update: Update) -> bool:
    """Commands anywhere and everything in the private chat; ordinary group chat is free."""
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return False
    return message.chat.type == "private" or (message.text or "").startswith("/")


async def limit_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop a user's commands and private messages beyond the limit per window."""
    user = update.effective_user
    if user is None or not _counted(update):
        return
    rt = runtime(context)
    now = rt.now()
    recent = rt.command_times.setdefault(user.id, deque(maxlen=PER_USER_LIMIT))
    if len(recent) == PER_USER_LIMIT and now - recent[0] < WINDOW_SECONDS:
        logger.info("user {} is over {} commands a minute; ignored", user.id, PER_USER_LIMIT)
        raise ApplicationHandlerStop
    recent.append(now)

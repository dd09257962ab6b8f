"""Per-user limits on commands and on the private chat, checked before any other handler."""

from __future__ import annotations

from loguru import logger
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.features.bot_data import Context
from bot.features.throttle import PER_USER_LIMIT

THROTTLE_GROUP = -100


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, limit_user), group=THROTTLE_GROUP)


def _counted(update: Update) -> bool:
    """Commands anywhere and everything in the private chat; ordinary group chat is free."""
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return False
    return message.chat.type == "private" or (message.text or "").startswith("/")


async def limit_user(update: Update, context: Context) -> None:
    """Drop a user's commands and private messages beyond the limit per window."""
    user = update.effective_user
    if user is None or not _counted(update):
        return
    if not context.bot_data.limiter.allow(user.id):
        logger.info("user {} is over {} commands a minute; ignored", user.id, PER_USER_LIMIT)
        raise ApplicationHandlerStop

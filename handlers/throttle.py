"""Per-user limits on commands and on the private chat, checked before any other handler.
A group's admins are not limited in their group.

Nothing is dropped silently: a user over the limit is told once to slow down, and a member's
messages inside an open ticket are never dropped (they are relayed at the pace Telegram's send
budget allows, queued by the rate limiter)."""

from __future__ import annotations

from loguru import logger
from telegram import Message, Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.features.bot_data import Context
from bot.features.command_call import reply_to
from bot.features.throttle import PER_USER_LIMIT
from bot.telegram.permissions import sent_by_admin

THROTTLE_GROUP = -100


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, limit_user), group=THROTTLE_GROUP)


def _is_command(message: Message) -> bool:
    return (message.text or "").startswith("/")


def _counted(update: Update) -> bool:
    """Commands anywhere and everything in the private chat; ordinary group chat is free."""
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return False
    return message.chat.type == "private" or _is_command(message)


async def limit_user(update: Update, context: Context) -> None:
    """Stop a user's commands and private messages beyond the limit per window, telling them
    once; a ticket's conversation always goes through."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or not _counted(update):
        return
    app = context.bot_data
    if app.limiter.allow(message.chat_id, user.id):
        return
    # An admin setting the bot up sends many commands at once; only past the limit is Telegram
    # asked, so ordinary traffic costs no call.
    if message.chat.type != "private" and await _is_admin(context, message, user.id):
        return
    in_ticket = message.chat.type == "private" and not _is_command(message)
    if in_ticket and await app.tickets.has_open_ticket(user.id):
        return
    logger.info("user {} is over {} commands a minute; ignored", user.id, PER_USER_LIMIT)
    if app.limiter.first_refusal(message.chat_id, user.id):
        policy = (await app.services.policies.policy_for(message.chat_id)).policy
        await reply_to(app.services, message, policy.templates.slow_down, html=False)
    raise ApplicationHandlerStop


async def _is_admin(context: Context, message: Message, user_id: int) -> bool:
    limiter = context.bot_data.limiter
    known = limiter.admin_verdict(message.chat_id, user_id)
    if known is None:
        known = await sent_by_admin(context.bot, message)
        limiter.remember_admin(message.chat_id, user_id, known)
    return known

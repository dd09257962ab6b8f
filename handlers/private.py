"""The private chat with the bot: /start (and its deep links), and re-invites after a removal."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.core.runtime import runtime
from bot.features.reinvite import offer_reinvites
from policies.texts import render

PRIVATE_GROUP = 20


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", start_private, private), group=PRIVATE_GROUP)
    application.add_handler(
        MessageHandler(private & ~filters.COMMAND, private_message), group=PRIVATE_GROUP
    )


async def start_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Serve a deep link (`/start <kind>_...`), hand out a due re-invite, or greet the user."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    rt = runtime(context)
    payload = context.args[0] if context.args else ""
    kind = payload.split("_", 1)[0]
    if kind in rt.deep_links:
        await rt.deep_links[kind](update, context, payload)
        return
    if await offer_reinvites(rt, context.bot, user.id):
        return
    if await rt.store.reinvites.pending_for(user.id):
        return
    language_policy = rt.loaded.policies.get(rt.loaded.config.default_policy)
    template = language_policy.templates.start_private if language_policy else "{bot}"
    text = render(template, {"bot": context.bot.first_name})
    await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML)


async def private_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any private message counts as the member getting in touch."""
    user = update.effective_user
    if user is not None:
        await offer_reinvites(runtime(context), context.bot, user.id)

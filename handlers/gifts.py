"""Red envelopes: the gift button, the private claim through its deep link, and rewards."""

from __future__ import annotations

from functools import partial

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.features.bot_data import BotData, Context
from bot.features.gifts import BUTTON_KIND, LINK_KIND

GIFTS_GROUP = 31
"""After moderation: a removed ad earns no reward."""

REWARDABLE = (
    filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION)
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    app = application.bot_data
    app.services.deep_links[LINK_KIND] = partial(claim_gift, app)
    application.add_handler(
        CallbackQueryHandler(open_red_envelope, pattern=rf"^{BUTTON_KIND}_"), group=GIFTS_GROUP
    )
    application.add_handler(MessageHandler(REWARDABLE, reward_member), group=GIFTS_GROUP)


async def open_red_envelope(update: Update, context: Context) -> None:
    """A gift button: answer with a deep link made for the member who pressed it."""
    if update.callback_query is not None:
        await context.bot_data.gifts.open_envelope(update.callback_query)


async def claim_gift(app: BotData, message: Message, payload: str) -> None:
    """`/start gift_...`: deliver the member's gift in the private chat, once."""
    if message.from_user is not None:
        await app.gifts.serve_link(message.from_user, payload)


async def reward_member(update: Update, context: Context) -> None:
    """A message the policy rewards (a buyer's photo tagged #review) gets a gift prompt."""
    if update.effective_message is not None:
        await context.bot_data.gifts.reward(update.effective_message)

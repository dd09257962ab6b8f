"""Red envelopes: the gift button, the private claim through its deep link, and rewards."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.runtime import runtime_of
from bot.features.gifts import BUTTON_KIND, GIFTS_KEY, LINK_KIND, GiftDesk, gift_desk_of

GIFTS_GROUP = 31
"""After moderation: a removed ad earns no reward."""

REWARDABLE = (
    filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION)
)


def register(application: Application) -> None:  # type: ignore[type-arg]
    rt = runtime_of(application)
    application.bot_data[GIFTS_KEY] = GiftDesk(rt, application)
    rt.deep_links[LINK_KIND] = claim_gift
    application.add_handler(
        CallbackQueryHandler(open_red_envelope, pattern=rf"^{BUTTON_KIND}_"), group=GIFTS_GROUP
    )
    application.add_handler(MessageHandler(REWARDABLE, reward_member), group=GIFTS_GROUP)


async def open_red_envelope(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A gift button: answer with a deep link made for the member who pressed it."""
    if update.callback_query is not None:
        await gift_desk_of(context.application).open_envelope(update.callback_query)


async def claim_gift(
    update: Update, context: CallbackContext[Any, Any, Any, Any], payload: str
) -> None:
    """`/start gift_...`: deliver the member's gift in the private chat, once."""
    if update.effective_user is not None:
        await gift_desk_of(context.application).serve_link(update.effective_user, payload)


async def reward_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message the policy rewards (a buyer's photo tagged #review) gets a gift prompt."""
    if update.effective_message is not None:
        await gift_desk_of(context.application).reward(update.effective_message)

"""Answering a pressed button: within Telegram's limits, and never failing the handler."""

from __future__ import annotations

from loguru import logger
from telegram import CallbackQuery
from telegram.error import TelegramError

from policies.texts import clip_plain

MAX_ANSWER = 200
"""Telegram's limit for the text of a callback answer."""


async def answer_button(
    query: CallbackQuery,
    text: str | None = None,
    *,
    show_alert: bool = False,
    url: str | None = None,
) -> None:
    """Answer a button press. A query Telegram no longer knows (too old, or the bot restarted
    meanwhile) cannot be answered; the press is still handled, so that is only logged."""
    if text is not None:
        text = clip_plain(text, MAX_ANSWER)
    try:
        await query.answer(text, show_alert=show_alert, url=url)
    except TelegramError as error:
        logger.info("button press {} not answered: {}", query.id, error.message)

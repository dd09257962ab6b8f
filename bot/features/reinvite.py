"""Neutral mode's second half: a removed member who writes to the bot after the cool-down
gets an apology and a fresh single-use invite; before it, the bot stays silent."""

from __future__ import annotations

import datetime as dt

from loguru import logger
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.core.runtime import Runtime
from policies.texts import render

INVITE_NAME = "qunbot re-invite"


async def offer_reinvites(rt: Runtime, bot: Bot, user_id: int) -> int:
    """Send every re-invite that is due for this user; returns how many were sent."""
    now = rt.now()
    sent = 0
    for pending in await rt.store.reinvites.pending_for(user_id):
        if pending.eligible_at > now:
            continue
        if not await rt.store.reinvites.claim(pending.chat_id, user_id, now):
            continue
        if await _send_reinvite(rt, bot, pending.chat_id, user_id):
            sent += 1
        else:
            await rt.store.reinvites.release(pending.chat_id, user_id)
    return sent


async def _send_reinvite(rt: Runtime, bot: Bot, chat_id: int, user_id: int) -> bool:
    policy = (await rt.policy_for(chat_id)).policy
    now = rt.now()
    expires = dt.datetime.fromtimestamp(now + policy.moderation.invite_ttl, tz=dt.UTC)
    try:
        link = await bot.create_chat_invite_link(
            chat_id, name=INVITE_NAME, expire_date=expires, member_limit=1
        )
        group = (await rt.chat_info.get(bot, chat_id)).title or str(chat_id)
        text = render(
            policy.templates.reinvite_apology, {"group": group, "invite": link.invite_link}
        )
        await bot.send_message(user_id, text, parse_mode=ParseMode.HTML)
    except Forbidden:
        logger.info("re-invite of {} to {} waits until they write to the bot", user_id, chat_id)
        return False
    except TelegramError as error:
        logger.warning("re-invite of {} to {} failed: {}", user_id, chat_id, error.message)
        return False
    await rt.store.reinvites.record_link(chat_id, user_id, link.invite_link)
    await rt.store.audit.add(chat_id, now, "reinvite", target_id=user_id, text=link.invite_link)
    return True

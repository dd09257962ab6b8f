"""Neutral mode's second half: a removed member who writes to the bot after the cool-down
gets an apology and a fresh single-use invite; before it, what they write is an appeal
(`bot.features.appeals`)."""

from __future__ import annotations

from loguru import logger
from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot.core.i18n import N_
from bot.core.services import Services
from policies.texts import render

INVITE_NAME = N_("qunbot re-invite")
"""The invite link's name, which admins see in the group's list of links."""


class Reinvites:
    """Pending re-invites: sent when due and the member writes to the bot, or at once when an
    admin says so."""

    def __init__(self, services: Services, bot: Bot) -> None:
        self.services, self.bot = services, bot

    async def offer(self, user_id: int) -> int:
        """Send every re-invite that is due for this user; returns how many were sent."""
        rt = self.services
        now = rt.now()
        sent = 0
        for pending in await rt.store.reinvites.pending_for(user_id):
            if pending.eligible_at > now:
                continue
            if not await rt.store.reinvites.claim(pending.chat_id, user_id, now):
                continue
            if await self._send(pending.chat_id, user_id, after_undo=pending.after_undo):
                sent += 1
            else:
                await rt.store.reinvites.release(pending.chat_id, user_id)
        return sent

    async def now(self, chat_id: int, user_id: int, actor_id: int) -> int:
        """An admin lets a removed member back before the cool-down ends."""
        rt = self.services
        await rt.store.reinvites.make_eligible(chat_id, user_id, rt.now())
        sent = await self.offer(user_id)
        await rt.store.audit.add(
            chat_id, rt.now(), "reinvite-now", actor_id=actor_id, target_id=user_id
        )
        return sent

    async def link_for_staff(self, chat_id: int, user_id: int) -> str | None:
        """A single-use invite the staff can pass on themselves (a member who never opened the
        bot's private chat cannot be sent one); None if Telegram refuses."""
        rt = self.services
        policy = (await rt.policies.policy_for(chat_id)).policy
        name = (await rt.messages_for(chat_id)).tp(INVITE_NAME)
        door = await rt.doors.for_chat(chat_id)
        try:
            link = await door.create_invite(
                chat_id, expires=rt.now() + policy.moderation.invite_ttl, name=name
            )
        except TelegramError as error:
            logger.warning("no invite link for the staff in {}: {}", chat_id, error.message)
            return None
        if link is not None:
            await rt.store.audit.add(chat_id, rt.now(), "reinvite", target_id=user_id, text=link)
        return link

    async def _send(self, chat_id: int, user_id: int, *, after_undo: bool) -> bool:
        """The invite, with the policy's apology: for qunbot's mistake when an admin undid the
        removal, else for the removal a member's ad earned."""
        rt = self.services
        policy = (await rt.policies.policy_for(chat_id)).policy
        now = rt.now()
        door = await rt.doors.for_chat(chat_id)
        name = (await rt.messages_for(chat_id)).tp(INVITE_NAME)
        try:
            link = await door.create_invite(
                chat_id, expires=now + policy.moderation.invite_ttl, name=name
            )
            if link is None:
                return False
            group = (await rt.chat_info.get(self.bot, chat_id)).title or str(chat_id)
            template = (
                policy.templates.reinvite_after_undo
                if after_undo
                else policy.templates.reinvite_apology
            )
            text = render(template, {"group": group, "invite": link})
            await rt.door.post(user_id, text)
        except Forbidden:
            logger.info(
                "re-invite of {} to {} waits until they write to the bot", user_id, chat_id
            )
            return False
        except TelegramError as error:
            logger.warning("re-invite of {} to {} failed: {}", user_id, chat_id, error.message)
            return False
        await rt.store.reinvites.record_link(chat_id, user_id, link)
        await rt.store.audit.add(chat_id, now, "reinvite", target_id=user_id, text=link)
        return True

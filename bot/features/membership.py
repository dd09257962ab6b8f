"""Who is in each group: joins and leaves (for newcomers, stats and the admin cache), qunbot's
own membership (added, promoted, demoted, removed), and groups that became supergroups."""

from __future__ import annotations

from loguru import logger
from telegram import Bot, ChatMember, ChatMemberUpdated
from telegram.error import TelegramError

from bot.core.i18n import N_
from bot.core.services import Services
from bot.features.stats import watch_size
from bot.telegram.permissions import is_admin_now, is_present, joined, left
from bot.telegram.rights import rights_report
from bot.telegram.staff import StaffNote
from policies.schema import ForeignBots
from policies.texts import mention

BOT_REMOVED = N_("🤖 {adder} added the bot {bot} to {group}; removed (moderation.foreign_bots).")
BOT_ALLOWED = N_("🤖 {adder} added the bot {bot} to {group} (allowed by moderation.foreign_bots).")


class Membership:
    """Keeps the member records, the admin cache and the idle groups in step with Telegram."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def member_changed(self, bot: Bot, change: ChatMemberUpdated) -> None:
        """Keep the cached admin list in step, and start a newcomer's probation clock."""
        rt, chat = self.services, change.chat
        user = change.new_chat_member.user
        rt.chat_info.member_changed(chat.id, user.id, change.new_chat_member.status)
        if joined(change) and user.is_bot and user.id != bot.id:
            await self._foreign_bot_joined(bot, change)
        if joined(change):
            await rt.policies.note_group(chat.id, chat.title or "")
            await rt.store.members.state(chat.id, user.id, rt.now())
            await rt.store.members.mark_present(chat.id, user.id)
            rt.stats.count(chat.id, "joins")
            await watch_size(rt, bot, chat.id, chat.title or "")
        elif left(change):
            await rt.store.members.mark_left(chat.id, user.id, rt.now())
            rt.stats.count(chat.id, "leaves")

    async def _foreign_bot_joined(self, bot: Bot, change: ChatMemberUpdated) -> None:
        """Another bot was added: removed if a member who is not an admin added it and the
        group's policy says so; the staff hear of it either way."""
        rt, chat, added = self.services, change.chat, change.new_chat_member.user
        adder = change.from_user
        policy = (await rt.policies.policy_for(chat.id)).policy
        if adder.id == added.id or await is_admin_now(bot, chat.id, adder.id):
            return
        values = {
            "bot": mention(added.id, added.full_name),
            "adder": mention(adder.id, adder.full_name),
            "group": chat.title or chat.id,
        }
        if policy.moderation.foreign_bots is not ForeignBots.REMOVE:
            rt.staff.add(StaffNote(rt.staff.messages.t(BOT_ALLOWED, **values)))
            return
        door = await rt.doors.for_chat(chat.id)
        try:
            await door.kick(chat.id, added.id, rt.now())
        except TelegramError as error:
            await rt.staff.failed(chat.id, error, "kick", chat.title or "")
            return
        await rt.store.audit.add(
            chat.id, rt.now(), "remove bot", actor_id=adder.id, target_id=added.id
        )
        rt.staff.add(StaffNote(rt.staff.messages.t(BOT_REMOVED, **values)))

    async def bot_changed(self, bot: Bot, change: ChatMemberUpdated) -> None:
        """qunbot was added, promoted, demoted or removed: drop what it cached about the group,
        and say at once what it may do there and what it still needs."""
        rt, chat = self.services, change.chat
        rt.chat_info.forget(chat.id)
        status = change.new_chat_member.status
        if status == ChatMember.ADMINISTRATOR:
            rt.idle_chats.discard(chat.id)
        else:
            rt.idle_chats.add(chat.id)
        logger.info("qunbot is now {} in chat {} ({})", status, chat.id, chat.title)
        if is_present(change.new_chat_member):
            await rt.policies.note_group(chat.id, chat.title or "")
            if chat.type in {"group", "supergroup"}:
                await self._report_rights(bot, chat.id)

    async def _report_rights(self, bot: Bot, chat_id: int) -> None:
        try:
            messages = await self.services.messages_for(chat_id)
            report = await rights_report(bot, chat_id, messages)
            await self.services.door.post(chat_id, report, html=False)
        except TelegramError as error:
            logger.warning("cannot report my rights in {}: {}", chat_id, error.message)

    async def migrated(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: move its state to the new chat id."""
        rt = self.services
        await rt.store.move_chat(old_id, new_id)
        rt.chat_info.forget(old_id)
        rt.policies.invalidate(old_id)
        await rt.follow_move(old_id, new_id)
        logger.info("group {} became supergroup {}; its state moved with it", old_id, new_id)

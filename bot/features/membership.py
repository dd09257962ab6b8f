"""Who is in each group: joins and leaves (for newcomers, stats and the admin cache), qunbot's
own membership (added, promoted, demoted, removed), and groups that became supergroups."""

from __future__ import annotations

from typing import Any, cast

from loguru import logger
from telegram import Bot, Chat, ChatMember, ChatMemberUpdated, User
from telegram.error import TelegramError
from telegram.ext import CallbackContext, JobQueue

from bot.core.i18n import N_
from bot.core.services import Services
from bot.features.stats import watch_size
from bot.telegram.permissions import is_admin_now, is_present, joined, left
from bot.telegram.rights import lacking, rights_report, sees_every_message
from bot.telegram.staff import StaffNote
from policies.schema import ForeignBots
from policies.texts import mention

BOT_REMOVED = N_("🤖 {adder} added the bot {bot} to {group}; removed (moderation.foreign_bots).")
BOT_ALLOWED = N_("🤖 {adder} added the bot {bot} to {group} (allowed by moderation.foreign_bots).")

UNKNOWN_GROUP_NOTE = N_(
    "🚪 {user} added qunbot to {group} (chat id <code>{chat_id}</code>), which config.yaml "
    "does not list, so qunbot serves nobody there and {outcome}. To serve it, add this under "
    "<code>groups:</code> and restart:\n<pre>{snippet}</pre>"
)
REMOVED_NOTE = N_(
    "🚫 {actor} removed qunbot from {group}: nobody moderates it now. Add qunbot back as an"
    " admin to resume."
)
DEMOTED_NOTE = N_(
    "⚠️ {actor} took rights from qunbot in {group}: it now lacks {rights}, so it cannot"
    " moderate there fully. Give them back to resume."
)
ADDED_READY_NOTE = N_("✅ {actor} added qunbot to {group}: it has every right it needs.")
ADDED_LACKING_NOTE = N_(
    "⚠️ {actor} added qunbot to {group}, but it lacks {rights}: make it an admin with these rights."
)
PROMOTED_READY_NOTE = N_(
    "✅ {actor} gave qunbot the rights it needs in {group}: it moderates there fully now."
)
PROMOTED_LACKING_NOTE = N_(
    "ℹ️ {actor} gave qunbot more rights in {group}; it still lacks {rights}."
)
PRIVACY_NOTE = N_(
    "It cannot see ordinary messages there (privacy mode): make it an admin, or turn privacy"
    " off in @BotFather and add it again."
)
UNKNOWN_GROUP_OUTCOMES = {"leave": N_("left it"), "idle": N_("stays there, idle")}
UNKNOWN_SUPERGROUP_GRACE = 30.0
"""Seconds qunbot waits, while it serves a basic group, before it treats a supergroup it was
added to as unknown: when a basic group becomes a supergroup, Telegram tells the bot it joined
the new chat before it says which group that was, and leaving then would leave the shop's own
group."""
UNKNOWN_GROUP_JOB = "qunbot.UnknownGroup.{}"
CONFIG_SNIPPET = '  - chat_id: {chat_id}\n    policy: {policy}\n    title: "{title}"'
GROUP_TYPES = {Chat.GROUP, Chat.SUPERGROUP}


class Membership:
    """Keeps the member records, the admin cache and the idle groups in step with Telegram."""

    def __init__(self, services: Services, jobs: JobQueue[Any] | None = None) -> None:
        self.services = services
        self.jobs = jobs

    async def member_changed(self, bot: Bot, change: ChatMemberUpdated) -> None:
        """Keep the cached admin list in step, and start a newcomer's probation clock."""
        rt, chat = self.services, change.chat
        user = change.new_chat_member.user
        rt.chat_info.member_changed(chat.id, user.id, change.new_chat_member.status)
        if joined(change) and user.is_bot and user.id != bot.id:
            await self._foreign_bot_joined(bot, change)
        if joined(change):
            await rt.policies.note_group(chat.id, chat.title or "")
            await self.saw_join(chat.id, user.id)
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

    async def saw_join(self, chat_id: int, user_id: int) -> None:
        """A join qunbot saw (an update or Telegram's "X joined"): a newcomer on probation."""
        rt = self.services
        await rt.store.members.joined(chat_id, user_id, rt.now())
        await rt.store.members.mark_present(chat_id, user_id)

    async def bot_changed(self, bot: Bot, change: ChatMemberUpdated) -> None:
        """qunbot was added, promoted, demoted or removed: drop what it cached about the group,
        and tell the staff at once what it may do there and what it still needs."""
        rt, chat = self.services, change.chat
        rt.chat_info.forget(chat.id)
        if chat.type in GROUP_TYPES and not rt.loaded.config.serves(chat.id):
            if is_present(change.new_chat_member):
                await self._unknown_group_soon(chat, change.from_user)
            return
        status = change.new_chat_member.status
        if status == ChatMember.ADMINISTRATOR:
            rt.idle_chats.discard(chat.id)
        else:
            rt.idle_chats.add(chat.id)
        logger.info("qunbot is now {} in chat {} ({})", status, chat.id, chat.title)
        if is_present(change.new_chat_member):
            await rt.policies.note_group(chat.id, chat.title or "")
        if chat.type not in GROUP_TYPES:
            return
        if rt.staff.staff_chat is not None and chat.id != rt.staff.staff_chat:
            self._tell_staff(bot, change)
        elif is_present(change.new_chat_member):
            await self._report_rights(bot, chat.id)

    def _tell_staff(self, bot: Bot, change: ChatMemberUpdated) -> None:
        """The staff hear of every change that matters to moderation, in their language; the
        customers hear nothing: only an admin can act on it, and a public "I cannot delete
        yet" would tell spammers when the group is open to them."""
        staff, old, new = self.services.staff, change.old_chat_member, change.new_chat_member
        template = bot_change_note(old, new)
        if template is None:
            return
        say = staff.messages
        rights = say.tp(" and ").join(say.tp(right) for right in lacking(new))
        values = {
            "actor": mention(change.from_user.id, change.from_user.full_name),
            "group": change.chat.title or change.chat.id,
            "rights": rights,
        }
        note = say.t(template, **values)
        if is_present(new) and not sees_every_message(bot, new):
            note += " " + say.t(PRIVACY_NOTE)
        staff.add(StaffNote(note))

    async def _unknown_group_soon(self, chat: Chat, added_by: User) -> None:
        """At once, unless it may be a served basic group's new id: then after
        `UNKNOWN_SUPERGROUP_GRACE`, if it has not turned out to be one by then."""
        config = self.services.loaded.config
        may_be_moving = chat.type == Chat.SUPERGROUP and config.serves_a_basic_group()
        if not may_be_moving or self.jobs is None:
            await self._unknown_group(chat, added_by)
            return
        self.jobs.run_once(
            self._unknown_group_job,
            when=UNKNOWN_SUPERGROUP_GRACE,
            data=(chat, added_by),
            name=UNKNOWN_GROUP_JOB.format(chat.id),
        )

    async def _unknown_group_job(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        assert context.job is not None
        chat, added_by = cast(tuple[Chat, User], context.job.data)
        if self.services.loaded.config.serves(chat.id):
            logger.info("the supergroup {} qunbot joined is a served group's new id", chat.id)
            return
        await self._unknown_group(chat, added_by)

    async def _unknown_group(self, chat: Chat, added_by: User) -> None:
        """A group the config does not list: tell the staff how to serve it, then leave it or
        stay idle as `unknown_groups` says. Nobody there is welcomed or gets anything."""
        rt = self.services
        choice = rt.loaded.config.unknown_groups
        title = chat.title or ""
        snippet = CONFIG_SNIPPET.format(
            chat_id=chat.id,
            policy=rt.loaded.config.default_policy,
            title=title.replace('"', "'").replace("\\", "/"),
        )
        values = {
            "user": mention(added_by.id, added_by.full_name),
            "group": title or chat.id,
            "chat_id": chat.id,
            "outcome": rt.staff.messages.tp(UNKNOWN_GROUP_OUTCOMES[choice]),
            "snippet": snippet,
        }
        rt.staff.add(StaffNote(rt.staff.messages.t(UNKNOWN_GROUP_NOTE, **values)))
        logger.warning("added to unconfigured group {} ({}) by {}", chat.id, title, added_by.id)
        if choice == "leave":
            try:
                await rt.door.leave(chat.id)
            except TelegramError as error:
                logger.warning("cannot leave {}: {}", chat.id, error.message)

    async def _report_rights(self, bot: Bot, chat_id: int) -> None:
        """Without a staff chat, the group's admins read the rights report in the group."""
        try:
            messages = await self.services.messages_for(chat_id)
            report = await rights_report(bot, chat_id, messages)
            await self.services.door.post(chat_id, report, html=False)
        except TelegramError as error:
            logger.warning("cannot report my rights in {}: {}", chat_id, error.message)

    async def migrated(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: move its state to the new chat id."""
        rt = self.services
        rt.loaded.config.adopt(old_id, new_id)
        await rt.store.move_chat(old_id, new_id)
        rt.chat_info.forget(old_id)
        rt.policies.invalidate(old_id)
        # A message in the new chat may have been judged while the rows moved, caching the
        # settings of a group with no row yet: the moved row (dry-run, /set) is the truth.
        rt.policies.invalidate(new_id)
        await rt.follow_move(old_id, new_id)
        logger.info("group {} became supergroup {}; its state moved with it", old_id, new_id)


def bot_change_note(old: ChatMember, new: ChatMember) -> str | None:
    """The staff note (`N_` id) for qunbot's standing going from `old` to `new`, or None when
    nothing it needs changed (a custom title, a right it does not use)."""
    if not is_present(new):
        return REMOVED_NOTE if is_present(old) else None
    missing = lacking(new)
    if not is_present(old):
        return ADDED_LACKING_NOTE if missing else ADDED_READY_NOTE
    lost = set(missing) - set(lacking(old))
    if lost:
        return DEMOTED_NOTE
    if len(missing) < len(lacking(old)):
        return PROMOTED_LACKING_NOTE if missing else PROMOTED_READY_NOTE
    return None

"""Membership changes: keep the admin cache right, note newcomers, follow group migrations."""

from __future__ import annotations

from loguru import logger
from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.runtime import runtime
from bot.features.stats import watch_size
from bot.telegram.rights import rights_report

MEMBERS_GROUP = -20
"""Before moderation, so a promotion is known before the promoted admin's next message."""

PRESENT = {ChatMember.MEMBER, ChatMember.RESTRICTED, ChatMember.ADMINISTRATOR, ChatMember.OWNER}


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        ChatMemberHandler(track_member, ChatMemberHandler.CHAT_MEMBER), group=MEMBERS_GROUP
    )
    application.add_handler(
        ChatMemberHandler(track_bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        group=MEMBERS_GROUP,
    )
    application.add_handler(
        MessageHandler(filters.StatusUpdate.MIGRATE, follow_migration), group=MEMBERS_GROUP
    )


def joined(change: ChatMemberUpdated) -> bool:
    was = change.old_chat_member.status in PRESENT
    return not was and change.new_chat_member.status in PRESENT


def left(change: ChatMemberUpdated) -> bool:
    was = change.old_chat_member.status in PRESENT
    return was and change.new_chat_member.status not in PRESENT


async def track_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep the cached admin list in step, and start a newcomer's probation clock."""
    change = update.chat_member
    if change is None:
        return
    rt = runtime(context)
    user = change.new_chat_member.user
    rt.chat_info.member_changed(change.chat.id, user.id, change.new_chat_member.status)
    if joined(change):
        await rt.note_group(change.chat.id, change.chat.title or "")
        await rt.store.members.state(change.chat.id, user.id, rt.now())
        await rt.store.members.mark_present(change.chat.id, user.id)
        rt.stats.count(change.chat.id, "joins")
        await watch_size(rt, context.bot, change.chat.id, change.chat.title or "")
    elif left(change):
        await rt.store.members.mark_left(change.chat.id, user.id, rt.now())
        rt.stats.count(change.chat.id, "leaves")


async def track_bot_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added, promoted, demoted or removed: drop what it cached about the group."""
    change = update.my_chat_member
    if change is None:
        return
    rt = runtime(context)
    rt.chat_info.forget(change.chat.id)
    status = change.new_chat_member.status
    if status == ChatMember.ADMINISTRATOR:
        rt.idle_chats.discard(change.chat.id)
    else:
        rt.idle_chats.add(change.chat.id)
    logger.info("qunbot is now {} in chat {} ({})", status, change.chat.id, change.chat.title)
    if status in PRESENT:
        await rt.note_group(change.chat.id, change.chat.title or "")
        if change.chat.type in {"group", "supergroup"}:
            await _report_rights(context, change.chat.id)


async def _report_rights(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    """Say at once what qunbot may do in its new group and what it still needs."""
    try:
        await context.bot.send_message(chat_id, await rights_report(context.bot, chat_id))
    except TelegramError as error:
        logger.warning("cannot report my rights in {}: {}", chat_id, error.message)


async def follow_migration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: move its whole state to the new chat id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    rt = runtime(context)
    old_id, new_id = message.chat_id, message.migrate_to_chat_id
    await rt.store.move_chat(old_id, new_id)
    rt.chat_info.forget(old_id)
    rt.invalidate_group(old_id)
    logger.info("group {} became supergroup {}; its state moved with it", old_id, new_id)

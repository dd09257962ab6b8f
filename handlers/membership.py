"""Membership changes: joins and leaves, qunbot's own rights, and group migrations."""

from __future__ import annotations

from telegram import Chat, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    ChatMemberHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.features.bot_data import Context

MEMBERS_GROUP = -20
"""Before moderation, so a promotion is known before the promoted admin's next message."""
GATE_GROUP = -200
"""Before everything: a group the config does not list gets nothing at all."""
SERVED_EVERYWHERE = ("/id",)
"""Commands answered in any group, so an operator can learn a new group's chat id."""
GATED_CHAT_TYPES = {Chat.GROUP, Chat.SUPERGROUP, Chat.CHANNEL}


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, ignore_unknown_groups), group=GATE_GROUP)
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


async def track_member(update: Update, context: Context) -> None:
    """A member joined, left, or changed rank."""
    if update.chat_member is not None:
        await context.bot_data.membership.member_changed(context.bot, update.chat_member)


async def track_bot_membership(update: Update, context: Context) -> None:
    """The bot was added, promoted, demoted or removed."""
    if update.my_chat_member is not None:
        await context.bot_data.membership.bot_changed(context.bot, update.my_chat_member)


async def follow_migration(update: Update, context: Context) -> None:
    """A group became a supergroup: its state follows it to the new chat id."""
    message = update.effective_message
    if message is not None and message.migrate_to_chat_id is not None:
        old_id, new_id = message.chat_id, message.migrate_to_chat_id
        await context.bot_data.membership.migrated(old_id, new_id)
        await context.bot_data.welcome.moved(new_id)


async def ignore_unknown_groups(update: Update, context: Context) -> None:
    """Only configured groups are served: no welcome, gift, moderation or command elsewhere.
    qunbot's own membership changes still pass (the staff hear who added it), and so does
    `/id`."""
    chat = update.effective_chat
    if chat is None or chat.type not in GATED_CHAT_TYPES:
        return
    if context.bot_data.services.loaded.config.serves(chat.id):
        return
    if update.my_chat_member is not None or _asks_for_the_id(update):
        return
    raise ApplicationHandlerStop


def _asks_for_the_id(update: Update) -> bool:
    message = update.message
    if message is None or not message.text:
        return False
    command = message.text.split(maxsplit=1)[0].split("@", 1)[0].lower()
    return command in SERVED_EVERYWHERE

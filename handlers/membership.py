"""Membership changes: joins and leaves, qunbot's own rights, and group migrations."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ChatMemberHandler, MessageHandler, filters

from bot.features.bot_data import Context

MEMBERS_GROUP = -20
"""Before moderation, so a promotion is known before the promoted admin's next message."""


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

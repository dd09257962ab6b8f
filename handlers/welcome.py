"""Joins: the welcome script, the newcomer check and its button, and the group rules."""

from __future__ import annotations

from typing import Any

from telegram import ChatMember, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.runtime import runtime, runtime_of
from bot.features.welcome import (
    CHECK_KIND,
    RULES_KIND,
    WELCOME_KEY,
    Welcomer,
    rules_text,
    welcomer_of,
)

WELCOME_GROUP = 30
"""After moderation and the admin commands: a welcome never delays a removal."""


def register(application: Application) -> None:  # type: ignore[type-arg]
    rt = runtime_of(application)
    application.bot_data[WELCOME_KEY] = Welcomer(rt, application)
    rt.deep_links[RULES_KIND] = show_rules_privately
    rt.on_ready.append(reschedule_newcomer_checks)
    groups = filters.ChatType.GROUPS
    for handler in (
        ChatMemberHandler(greet_member, ChatMemberHandler.CHAT_MEMBER),
        MessageHandler(groups & filters.StatusUpdate.NEW_CHAT_MEMBERS, greet_service_message),
        MessageHandler(groups & filters.StatusUpdate.LEFT_CHAT_MEMBER, note_leaving),
        CommandHandler("rules", show_rules, groups),
        CallbackQueryHandler(confirm_newcomer, pattern=rf"^{CHECK_KIND}_"),
    ):
        application.add_handler(handler, group=WELCOME_GROUP)


async def greet_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A `chat_member` update: welcome a newcomer, or note that a member left."""
    change = update.chat_member
    if change is None:
        return
    welcomer = welcomer_of(context.application)
    user = change.new_chat_member.user
    was, now = _present(change.old_chat_member), _present(change.new_chat_member)
    if now and not was:
        await welcomer.member_joined(
            change.chat.id,
            change.chat.title or "",
            user,
            added_by=change.from_user,
            status=change.new_chat_member.status,
        )
    elif was and not now:
        welcomer.member_left(change.chat.id, user.id)


def _present(member: ChatMember) -> bool:
    """In the chat: a restricted user may or may not be (a muted newcomer who left is not)."""
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER}


async def greet_service_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram's 'X joined' message: the fallback without `chat_member` updates; deleted if
    the policy asks."""
    message = update.effective_message
    if message is None:
        return
    welcomer = welcomer_of(context.application)
    for user in message.new_chat_members:
        await welcomer.member_joined(
            message.chat_id,
            message.chat.title or "",
            user,
            added_by=message.from_user,
            status="member",
        )
    await welcomer.remove_service_message(message)


async def note_leaving(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Telegram's 'X left' message: a later join of the same member is a new one."""
    message = update.effective_message
    if message is not None and message.left_chat_member is not None:
        welcomer_of(context.application).member_left(message.chat_id, message.left_chat_member.id)


async def show_rules(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/rules` in a group: the group's rules."""
    message = update.effective_message
    if message is None:
        return
    policy = (await runtime(context).policy_for(message.chat_id)).policy
    await message.reply_html(rules_text(policy, message.chat.title or ""))


async def show_rules_privately(
    update: Update, context: CallbackContext[Any, Any, Any, Any], payload: str
) -> None:
    """The rules button's deep link: the group's rules in the private chat."""
    chat = update.effective_chat
    rt = runtime(context)
    parts = rt.signer.verify(payload, RULES_KIND) if rt.signer else None
    if chat is None or parts is None or len(parts) != 1:
        return
    group = parts[0]
    policy = (await rt.policy_for(group)).policy
    title = (await rt.chat_info.get(context.bot, group)).title
    await context.bot.send_message(chat.id, rules_text(policy, title), parse_mode=ParseMode.HTML)


async def confirm_newcomer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "I'm not a bot": lift the presser's newcomer check, if one is pending."""
    query = update.callback_query
    if query is None:
        return
    rt = runtime(context)
    parts = rt.signer.verify(query.data or "", CHECK_KIND) if rt.signer else None
    if parts is None or len(parts) != 1:
        await query.answer()
        return
    gate = welcomer_of(context.application).gate
    if await gate.passed(parts[0], query.from_user.id):
        policy = (await rt.policy_for(parts[0])).policy
        await query.answer(policy.welcome.newcomer_check.templates.passed)
    else:
        await query.answer()


async def reschedule_newcomer_checks(application: Application) -> None:  # type: ignore[type-arg]
    """post_init: every pending newcomer check gets its timeout back after a restart."""
    await welcomer_of(application).gate.reschedule_pending()

"""Joins: the welcome script, the newcomer check and its button, and the group rules."""

from __future__ import annotations

from functools import partial

from telegram import Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    filters,
)

from bot.features.bot_data import BotData, Context
from bot.features.command_call import CommandCall
from bot.features.welcome import CHECK_KIND, RULES_KIND, rules_text
from bot.telegram.callbacks import answer_button
from bot.telegram.permissions import joined, left

WELCOME_GROUP = 30
"""After moderation and the admin commands: a welcome never delays a removal."""


def register(application: Application) -> None:  # type: ignore[type-arg]
    app = application.bot_data
    app.services.deep_links[RULES_KIND] = partial(show_rules_privately, app)
    groups = filters.ChatType.GROUPS
    for handler in (
        ChatMemberHandler(greet_member, ChatMemberHandler.CHAT_MEMBER),
        MessageHandler(groups & filters.StatusUpdate.NEW_CHAT_MEMBERS, greet_service_message),
        MessageHandler(groups & filters.StatusUpdate.LEFT_CHAT_MEMBER, note_leaving),
        CallbackQueryHandler(confirm_newcomer, pattern=rf"^{CHECK_KIND}_"),
    ):
        application.add_handler(handler, group=WELCOME_GROUP)


async def greet_member(update: Update, context: Context) -> None:
    """A `chat_member` update: welcome a newcomer, or note that a member left."""
    change = update.chat_member
    if change is None:
        return
    welcomer = context.bot_data.welcome
    user = change.new_chat_member.user
    if joined(change):
        await welcomer.member_joined(
            change.chat.id,
            change.chat.title or "",
            user,
            added_by=change.from_user,
            status=change.new_chat_member.status,
        )
    elif left(change):
        await welcomer.member_left(change.chat.id, user.id)


async def greet_service_message(update: Update, context: Context) -> None:
    """Telegram's 'X joined' message: the fallback without `chat_member` updates; deleted if
    the policy asks."""
    message = update.effective_message
    if message is None:
        return
    welcomer = context.bot_data.welcome
    for user in message.new_chat_members:
        await context.bot_data.membership.saw_join(message.chat_id, user.id)
        await welcomer.member_joined(
            message.chat_id,
            message.chat.title or "",
            user,
            added_by=message.from_user,
            status="member",
        )
    await welcomer.remove_service_message(message)


async def note_leaving(update: Update, context: Context) -> None:
    """Telegram's 'X left' message: a later join of the same member is a new one."""
    message = update.effective_message
    if message is not None and message.left_chat_member is not None:
        await context.bot_data.welcome.member_left(message.chat_id, message.left_chat_member.id)


async def show_rules(call: CommandCall, app: BotData) -> None:
    """`/rules` in a group: the group's rules."""
    policy = (await call.services.policies.policy_for(call.group)).policy
    await call.answer_html(rules_text(policy, call.chat_title))


async def show_rules_privately(app: BotData, message: Message, payload: str) -> None:
    """The rules button's deep link: the group's rules in the private chat."""
    chat = message.chat
    rt = app.services
    parts = rt.signer.verify(payload, RULES_KIND)
    if chat is None or parts is None or len(parts) != 1:
        return
    group = parts[0]
    policy = (await rt.policies.policy_for(group)).policy
    title = (await rt.chat_info.get(message.get_bot(), group)).title
    await rt.door.post(chat.id, rules_text(policy, title))


async def confirm_newcomer(update: Update, context: Context) -> None:
    """ "I'm not a bot": lift the presser's newcomer check, if one is pending."""
    query = update.callback_query
    if query is None:
        return
    rt = context.bot_data.services
    parts = rt.signer.verify(query.data or "", CHECK_KIND)
    if parts is None or len(parts) != 1:
        await answer_button(query)
        return
    gate = context.bot_data.welcome.gate
    if await gate.passed(parts[0], query.from_user.id):
        policy = (await rt.policies.policy_for(parts[0])).policy
        await answer_button(query, policy.welcome.newcomer_check.templates.passed)
    else:
        await answer_button(query)

"""Who may do what, asked of Telegram at the moment it matters."""

from __future__ import annotations

from telegram import Bot, ChatMember, Message
from telegram.error import TelegramError

ADMIN_STATUSES = {ChatMember.ADMINISTRATOR, ChatMember.OWNER}


async def is_admin_now(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Ask Telegram, not a cache: admin buttons and commands must see demotions at once."""
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return False
    return member.status in ADMIN_STATUSES


async def sent_by_admin(bot: Bot, message: Message) -> bool:
    """A message from an admin of its chat, anonymous admins (posting as the group) included."""
    if message.sender_chat is not None:
        return message.sender_chat.id == message.chat_id
    user = message.from_user
    return user is not None and await is_admin_now(bot, message.chat_id, user.id)


STAFF_STATUSES = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER}


async def is_staff_now(bot: Bot, staff_chat: int | None, user_id: int) -> bool:
    """A member of the staff chat right now; a private staff chat has exactly one person."""
    if staff_chat is None:
        return False
    if staff_chat > 0:
        return user_id == staff_chat
    try:
        member = await bot.get_chat_member(staff_chat, user_id)
    except TelegramError:
        return False
    return member.status in STAFF_STATUSES

"""Who may do what, and who is in a group, asked of Telegram at the moment it matters."""

from __future__ import annotations

from telegram import Bot, ChatMember, ChatMemberRestricted, ChatMemberUpdated, Message
from telegram.error import TelegramError

ADMIN_STATUSES = {ChatMember.ADMINISTRATOR, ChatMember.OWNER}
IN_CHAT_STATUSES = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER}


def is_present(member: ChatMember) -> bool:
    """Still in the group: a restricted member counts only while `is_member` says so (a muted
    member who left keeps the restricted status but is gone)."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in IN_CHAT_STATUSES


def joined(change: ChatMemberUpdated) -> bool:
    return not is_present(change.old_chat_member) and is_present(change.new_chat_member)


def left(change: ChatMemberUpdated) -> bool:
    return is_present(change.old_chat_member) and not is_present(change.new_chat_member)


async def is_member_now(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Asked of Telegram now; False when Telegram cannot say."""
    try:
        return is_present(await bot.get_chat_member(chat_id, user_id))
    except TelegramError:
        return False


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


async def is_staff_now(bot: Bot, staff_chat: int | None, user_id: int) -> bool:
    """A member of the staff chat right now; a private staff chat has exactly one person."""
    if staff_chat is None:
        return False
    if staff_chat > 0:
        return user_id == staff_chat
    return await is_member_now(bot, staff_chat, user_id)

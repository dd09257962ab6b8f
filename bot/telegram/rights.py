"""What qunbot may do in a group, in the words an admin needs to fix it."""

from __future__ import annotations

from telegram import Bot, ChatMember, ChatMemberAdministrator
from telegram.error import TelegramError

from bot.core.i18n import N_, Messages

NEEDED_RIGHTS = {
    "can_delete_messages": N_("Delete messages"),
    "can_restrict_members": N_("Ban users"),
    "can_invite_users": N_("Invite users via link"),
}


def lacking(member: ChatMember) -> list[str]:
    """The needed rights (`N_` labels) a standing of qunbot lacks: all of them unless admin."""
    if not isinstance(member, ChatMemberAdministrator):
        return list(NEEDED_RIGHTS.values())
    return [label for right, label in NEEDED_RIGHTS.items() if not getattr(member, right)]


def sees_every_message(bot: Bot, member: ChatMember) -> bool:
    """An admin sees every message; otherwise only with privacy mode off in @BotFather."""
    return isinstance(member, ChatMemberAdministrator) or bool(bot.can_read_all_group_messages)


async def missing_rights(bot: Bot, chat_id: int) -> tuple[list[str], bool]:
    """The rights qunbot lacks in a group, and whether it sees every message there."""
    member = await bot.get_chat_member(chat_id, bot.id)
    return lacking(member), sees_every_message(bot, member)


async def rights_report(bot: Bot, chat_id: int, messages: Messages) -> str:
    """One message (plain text): what is missing and what to do about it, or that all is well."""
    try:
        missing, sees_all = await missing_rights(bot, chat_id)
    except TelegramError as error:
        return messages.tp(
            "Cannot read my rights here ({error}). Is qunbot still in this group?",
            error=error.message,
        )
    lines = []
    if missing:
        rights = messages.tp(" and ").join(messages.tp(right) for right in missing)
        lines.append(
            messages.tp("I need {rights}: make me an admin with these rights.", rights=rights)
        )
    else:
        lines.append(
            messages.tp("I have every right I need: Delete messages, Ban users, Invite users.")
        )
    if not sees_all:
        lines.append(
            messages.tp(
                "I cannot see ordinary messages (privacy mode): make me an admin, or disable "
                "privacy in @BotFather and add me again."
            )
        )
    return "\n".join(lines)

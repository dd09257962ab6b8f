"""What admins do to members by hand, and undoing what qunbot or an admin did.

Every action goes through here, so it is audited the same way whoever started it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from loguru import logger
from telegram import Bot, ChatPermissions
from telegram.error import TelegramError

from bot.core.runtime import Runtime
from bot.features.reinvite import offer_reinvites
from bot.store import AuditEntry

KICK_BAN_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Member:
    chat_id: int
    user_id: int
    name: str


def _date(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


async def mute(bot: Bot, member: Member, until: float | None) -> None:
    """Restrict every permission; `until` is absolute, None means until lifted."""
    await bot.restrict_chat_member(
        member.chat_id,
        member.user_id,
        permissions=ChatPermissions.no_permissions(),
        until_date=_date(until) if until is not None else None,
        use_independent_chat_permissions=True,
    )


async def unmute(bot: Bot, member: Member) -> None:
    """Give back the group's default permissions, each named, so nothing is left off."""
    chat = await bot.get_chat(member.chat_id)
    defaults = chat.permissions or ChatPermissions.all_permissions()
    explicit = ChatPermissions.de_json(
        {name: bool(getattr(defaults, name)) for name in _PERMISSION_FIELDS}, bot
    )
    await bot.restrict_chat_member(
        member.chat_id, member.user_id, permissions=explicit, use_independent_chat_permissions=True
    )


_PERMISSION_FIELDS = tuple(
    name for name in ChatPermissions.all_permissions().to_dict() if name.startswith("can_")
)


async def kick(bot: Bot, member: Member, now: float) -> None:
    await bot.ban_chat_member(
        member.chat_id, member.user_id, until_date=_date(now + KICK_BAN_SECONDS)
    )
    await bot.unban_chat_member(member.chat_id, member.user_id, only_if_banned=True)


async def ban(bot: Bot, member: Member, *, revoke_messages: bool = False) -> None:
    await bot.ban_chat_member(member.chat_id, member.user_id, revoke_messages=revoke_messages)


async def unban(bot: Bot, member: Member) -> None:
    """Lift a ban; `only_if_banned` keeps a present member from being kicked by it."""
    await bot.unban_chat_member(member.chat_id, member.user_id, only_if_banned=True)


def network_of(rt: Runtime, chat_id: int) -> tuple[int, ...]:
    """The other groups that share bans with this one."""
    return rt.loaded.config.network_peers(chat_id)


async def ban_in_network(rt: Runtime, bot: Bot, member: Member) -> list[int]:
    """Ban in every other group of the network where qunbot may; returns where it worked."""
    done = []
    for peer in network_of(rt, member.chat_id):
        try:
            await bot.ban_chat_member(peer, member.user_id)
        except TelegramError as error:
            logger.warning(
                "network ban of {} in {} failed: {}", member.user_id, peer, error.message
            )
            continue
        done.append(peer)
        await rt.store.audit.add(
            peer, rt.now(), "network ban", target_id=member.user_id, text=f"from {member.chat_id}"
        )
    return done


async def undo(rt: Runtime, bot: Bot, entry: AuditEntry, actor_id: int | None) -> str:
    """Reverse an action: lift the ban or mute, forgive the offence, offer the way back in."""
    if entry.target_id is None:
        return "nothing to undo for that action"
    member = Member(entry.chat_id, entry.target_id, str(entry.target_id))
    muted = "mute" in entry.action
    try:
        await (unmute(bot, member) if muted else unban(bot, member))
    except TelegramError as error:
        return f"could not undo #{entry.id}: {error.message}"
    await rt.store.offences.forgive(entry.chat_id, entry.target_id, entry.id)
    await rt.store.members.refresh_offences(entry.chat_id, entry.target_id)
    outcome = "mute lifted"
    if not muted:
        await _unban_in_network(rt, bot, member)
        await rt.store.reinvites.add(entry.chat_id, entry.target_id, rt.now(), rt.now())
        invited = await offer_reinvites(rt, bot, entry.target_id)
        outcome = "ban lifted, " + (
            "invite sent" if invited else "an invite waits for them in the bot's private chat"
        )
    await rt.store.audit.add(
        entry.chat_id,
        rt.now(),
        "undo",
        actor_id=actor_id,
        target_id=entry.target_id,
        text=f"undo #{entry.id}",
    )
    return f"Undone #{entry.id}: {outcome}, offence forgiven."


async def _unban_in_network(rt: Runtime, bot: Bot, member: Member) -> None:
    """A ban that spread across the network is lifted everywhere it reached."""
    for peer in network_of(rt, member.chat_id):
        try:
            await bot.unban_chat_member(peer, member.user_id, only_if_banned=True)
        except TelegramError as error:
            logger.warning("network unban of {} in {}: {}", member.user_id, peer, error.message)

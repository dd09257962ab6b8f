"""Long-silent ("zombie") members: listing them, and removing them once an admin confirms.

Removal is a kick (a short ban lifted at once), never touches admins (asked of Telegram at the
moment of removal) or trusted members, and every removal is in the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from loguru import logger
from telegram import Bot
from telegram.error import TelegramError

from bot.core.i18n import Messages
from bot.core.services import Services
from bot.features.stats import zone_of
from bot.store import SilentMember
from bot.telegram.permissions import is_present
from policies.texts import Html, mention

REMOVE_KIND = "inr"
CANCEL_KIND = "inc"
SHOWN = 20
"""Members named in the list; the rest are counted."""
REMOVE_LIMIT = 200
"""Members removed per confirmation at most, so one press cannot empty a large group."""
CONFIRM_VALID = 3600.0


@dataclass(frozen=True, slots=True)
class SilentList:
    """Members silent since a cutoff: how many (up to the removal limit), and some names."""

    count: int
    lines: list[Html]


async def silent_members(
    rt: Services, bot: Bot, chat_id: int, cutoff: float
) -> list[SilentMember]:
    """Members silent since `cutoff` who may be removed: never admins (asked now) or
    trusted members."""
    admins = {member.user.id for member in await bot.get_chat_administrators(chat_id)}
    silent = await rt.store.members.silent_since(chat_id, cutoff, REMOVE_LIMIT + len(admins))
    removable = [m for m in silent if m.user_id not in admins and m.user_id != bot.id]
    return removable[:REMOVE_LIMIT]


async def list_silent(rt: Services, bot: Bot, chat_id: int, cutoff: float) -> SilentList:
    """The silent members, the first few by name, checking that they are still in the group."""
    members = await silent_members(rt, bot, chat_id, cutoff)
    zone = await zone_of(rt, chat_id)
    lines: list[Html] = []
    gone = 0
    for member in members:
        if len(lines) >= SHOWN:
            break
        try:
            found = await bot.get_chat_member(chat_id, member.user_id)
        except TelegramError:
            continue
        if not is_present(found):
            await rt.store.members.mark_left(chat_id, member.user_id, rt.now())
            gone += 1
            continue
        seen = dt.datetime.fromtimestamp(member.last_seen, zone)
        name = mention(member.user_id, found.user.full_name)
        lines.append(Html(f"• {name}: last seen {seen:%Y-%m-%d}, {member.message_count} messages"))
    return SilentList(len(members) - gone, lines)


async def remove_silent(
    rt: Services, bot: Bot, chat_id: int, cutoff: float, actor_id: int
) -> tuple[int, int]:
    """Kick the members silent since `cutoff`; (removed, failed)."""
    removed = failed = 0
    door = await rt.doors.for_chat(chat_id)
    for member in await silent_members(rt, bot, chat_id, cutoff):
        try:
            await door.kick(chat_id, member.user_id, rt.now())
        except TelegramError as error:
            logger.warning("cannot remove {} from {}: {}", member.user_id, chat_id, error.message)
            failed += 1
            continue
        await rt.store.members.mark_left(chat_id, member.user_id, rt.now())
        await rt.store.audit.add(
            chat_id, rt.now(), "inactive-removed", actor_id=actor_id, target_id=member.user_id
        )
        removed += 1
    return removed, failed


def summary_line(count: int, period: str, say: Messages) -> str:
    """The head of the /inactive answer (HTML)."""
    if count == 0:
        return say.t("No member has been silent for {period}.", period=period)
    more = "+" if count >= REMOVE_LIMIT else ""
    return say.tn(
        "{count}{more} member(s) silent for {period} (admins and trusted members aside):",
        "{count}{more} member(s) silent for {period} (admins and trusted members aside):",
        count,
        more=more,
        period=period,
    )

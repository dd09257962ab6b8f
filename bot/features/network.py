"""Groups of one shop that share bans: a ban reaches every group of the network, and lifting it
lifts it everywhere it reached. Every call goes through each group's own door."""

from __future__ import annotations

from loguru import logger
from telegram.error import TelegramError

from bot.core.services import Services
from bot.telegram.door import Door
from policies.facts import is_chat_id


def network_of(services: Services, chat_id: int) -> tuple[int, ...]:
    """The other groups that share bans with this one."""
    return services.loaded.config.network_peers(chat_id)


async def ban_in_network(services: Services, chat_id: int, user_id: int) -> list[int]:
    """Ban in every other group of the network where qunbot may; returns where it worked."""
    done = await _each_peer(services, chat_id, user_id, ban=True)
    for peer in done:
        await services.store.reinvites.cancel(peer, user_id)
        await services.store.audit.add(
            peer, services.now(), "network ban", target_id=user_id, text=f"from {chat_id}"
        )
    return done


async def unban_in_network(services: Services, chat_id: int, user_id: int) -> list[int]:
    """A ban that spread across the network is lifted everywhere it reached."""
    return await _each_peer(services, chat_id, user_id, ban=False)


async def _each_peer(services: Services, chat_id: int, user_id: int, *, ban: bool) -> list[int]:
    done = []
    for peer in network_of(services, chat_id):
        door = await services.doors.for_chat(peer)
        try:
            await _ban_or_unban(door, peer, user_id, ban=ban)
        except TelegramError as error:
            verb = "ban" if ban else "unban"
            logger.warning("network {} of {} in {} failed: {}", verb, user_id, peer, error.message)
            continue
        done.append(peer)
    return done


async def _ban_or_unban(door: Door, chat_id: int, offender_id: int, *, ban: bool) -> None:
    """A channel is banned as a sender chat; a person as a member."""
    if is_chat_id(offender_id):
        if ban:
            await door.ban_sender_chat(chat_id, offender_id)
        else:
            await door.unban_sender_chat(chat_id, offender_id)
    elif ban:
        await door.ban(chat_id, offender_id)
    else:
        await door.unban(chat_id, offender_id)

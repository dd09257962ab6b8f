"""What the bot caches about each group: its admins, its linked channel and its title."""

from __future__ import annotations

from dataclasses import dataclass

from loguru import logger
from telegram import Bot, ChatMember
from telegram.error import TelegramError

from bot.core.bounded import BoundedDict
from bot.core.clock import Clock

ADMIN_LIST_TTL = 600.0
"""Admin lists are refreshed on chat_member updates; this is only the safety net."""
CHATS_KEPT = 20_000


@dataclass(slots=True)
class ChatInfo:
    """What the bot caches about a group: its admins and its linked channel."""

    admins: frozenset[int]
    linked_chat_id: int | None
    title: str
    fetched_at: float


class ChatInfoCache:
    """Admin lists per group, fetched on first need and kept fresh by chat_member updates."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.chats: BoundedDict[int, ChatInfo] = BoundedDict(CHATS_KEPT)

    async def get(self, bot: Bot, chat_id: int) -> ChatInfo:
        info = self.chats.get(chat_id)
        if info is not None and self.clock.now() - info.fetched_at < ADMIN_LIST_TTL:
            return info
        try:
            admins = await bot.get_chat_administrators(chat_id)
            chat = await bot.get_chat(chat_id)
        except TelegramError as error:
            logger.warning("cannot read the admins of chat {}: {}", chat_id, error.message)
            return info or ChatInfo(frozenset(), None, "", self.clock.now())
        info = ChatInfo(
            admins=frozenset(member.user.id for member in admins),
            linked_chat_id=chat.linked_chat_id,
            title=chat.title or "",
            fetched_at=self.clock.now(),
        )
        self.chats[chat_id] = info
        return info

    def member_changed(self, chat_id: int, user_id: int, new_status: str) -> None:
        """Keep a cached admin list right without another request."""
        info = self.chats.get(chat_id)
        if info is None:
            return
        is_admin = new_status in {ChatMember.ADMINISTRATOR, ChatMember.OWNER}
        admins = info.admins | {user_id} if is_admin else info.admins - {user_id}
        self.chats[chat_id] = ChatInfo(admins, info.linked_chat_id, info.title, info.fetched_at)

    def forget(self, chat_id: int) -> None:
        self.chats.pop(chat_id, None)

    def title_of(self, chat_id: int) -> str:
        """The cached title, without asking Telegram ("" when unknown)."""
        info = self.chats.get(chat_id)
        return info.title if info is not None else ""

"""Handing polled updates to the application so that a crash loses none and repeats none."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.core.services import Services

LAST_UPDATE_KEY = "last_update_id"


class HandledUpdateQueue(asyncio.Queue[object]):
    """The queue between PTB's poller and the application.

    `put` returns only once the update was handled, so the poller asks Telegram for the next
    batch, which confirms this one, only after it is done: a crash loses no update. The last
    handled update id is stored, so an update Telegram delivers again after a restart is
    skipped; enforcement is idempotent on its own, for the instant between the two.
    """

    def __init__(self) -> None:
        super().__init__()
        self.services: Services | None = None
        self.last_handled: int | None = None

    async def put(self, item: object) -> None:
        if not isinstance(item, Update) or self.services is None:
            await super().put(item)
            return
        if item.update_id <= await self._last_handled(self.services):
            return
        await super().put(item)
        await self.join()
        self.last_handled = item.update_id
        await self.services.store.meta.set(LAST_UPDATE_KEY, str(item.update_id))

    async def _last_handled(self, services: Services) -> int:
        if self.last_handled is None:
            stored = await services.store.meta.get(LAST_UPDATE_KEY)
            self.last_handled = int(stored) if stored else 0
        return self.last_handled

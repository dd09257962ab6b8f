"""A rate limiter that throttles only what Telegram budgets: messages sent to chats.

PTB's AIORateLimiter throttles every request with a negative chat id, so during a raid the
deletes and bans would queue behind the 20-messages-per-minute group budget. Here they never
wait; only send methods do. A 429 is retried after `retry_after`, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from loguru import logger
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAnimation",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendSticker",
        "sendMediaGroup",
        "sendLocation",
        "sendContact",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "forwardMessage",
    }
)
GROUP_MESSAGES_PER_MINUTE = 20
MESSAGES_PER_SECOND = 30
PRIVATE_MESSAGES_PER_SECOND = 1
MAX_RETRIES = 3


class SlidingWindow:
    """At most `limit` events per `period` seconds; `wait()` sleeps until one is allowed."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.times: deque[float] = deque()
        self.lock = asyncio.Lock()

    async def wait(self) -> float:
        async with self.lock:
            waited = 0.0
            while True:
                now = time.monotonic()
                while self.times and now - self.times[0] >= self.period:
                    self.times.popleft()
                if len(self.times) < self.limit:
                    self.times.append(now)
                    return waited
                delay = self.period - (now - self.times[0])
                waited += delay
                await asyncio.sleep(delay)


class SendOnlyRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Throttles send methods per chat and overall; every other method passes straight on."""

    def __init__(self, *, group_per_minute: int = GROUP_MESSAGES_PER_MINUTE) -> None:
        self.group_per_minute = group_per_minute
        self.overall = SlidingWindow(MESSAGES_PER_SECOND, 1.0)
        self.per_chat: dict[int | str, SlidingWindow] = {}
        self.throttled_seconds = 0.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _window_for(self, chat_id: int | str) -> SlidingWindow:
        window = self.per_chat.get(chat_id)
        if window is None:
            is_group = isinstance(chat_id, str) or chat_id < 0
            window = (
                SlidingWindow(self.group_per_minute, 60.0)
                if is_group
                else SlidingWindow(PRIVATE_MESSAGES_PER_SECOND, 1.0)
            )
            self.per_chat[chat_id] = window
        return window

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint in SEND_METHODS:
            chat_id = data.get("chat_id")
            if chat_id is not None:
                self.throttled_seconds += await self._window_for(chat_id).wait()
            self.throttled_seconds += await self.overall.wait()
        for attempt in range(MAX_RETRIES + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == MAX_RETRIES:
                    raise
                delay = error.retry_after
                seconds = delay if isinstance(delay, int | float) else delay.total_seconds()
                logger.warning("Telegram asked to wait {}s before {}; retrying", seconds, endpoint)
                await asyncio.sleep(seconds)
        raise AssertionError("unreachable")

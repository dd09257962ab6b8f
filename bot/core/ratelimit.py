"""A rate limiter that throttles only what Telegram budgets: messages sent to chats.

PTB's AIORateLimiter throttles every request with a negative chat id, so during a raid the
deletes and bans would queue behind the 20-messages-per-minute group budget. Here they never
wait; only send methods do. A 429 is retried after `retry_after`, and a 5xx or a dropped
connection after a growing pause, each a bounded number of times.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from typing import Any

from loguru import logger
from telegram.error import NetworkError, RetryAfter, TimedOut
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
TRANSIENT_BACKOFF = 0.25
"""Seconds before the first retry after a 5xx or a lost connection; doubled each time."""


Moment = tuple[float, float]
"""(monotonic time, injected clock time) of one send."""


class SlidingWindow:
    """At most `limit` events per `period` seconds; `wait()` sleeps until one is allowed.

    An event's age is the larger of the real time and the injected clock's time since it, so
    a simulated jump of hours refills the budget, and a frozen test clock changes nothing.
    """

    def __init__(
        self, limit: int, period: float, clock: Callable[[], float] | None = None
    ) -> None:
        self.limit, self.period, self.clock = limit, period, clock
        self.times: deque[Moment] = deque()
        self.lock = asyncio.Lock()

    def _now(self) -> Moment:
        real = time.monotonic()
        return real, self.clock() if self.clock is not None else real

    @staticmethod
    def _age(then: Moment, now: Moment) -> float:
        return max(now[0] - then[0], now[1] - then[1])

    async def wait(self) -> float:
        async with self.lock:
            waited = 0.0
            while True:
                now = self._now()
                while self.times and self._age(self.times[0], now) >= self.period:
                    self.times.popleft()
                if len(self.times) < self.limit:
                    self.times.append(now)
                    return waited
                delay = self.period - self._age(self.times[0], now)
                waited += delay
                await asyncio.sleep(delay)


class SendOnlyRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Throttles send methods per chat and overall; every other method passes straight on."""

    def __init__(
        self,
        *,
        group_per_minute: int = GROUP_MESSAGES_PER_MINUTE,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.group_per_minute, self.clock = group_per_minute, clock
        self.overall = SlidingWindow(MESSAGES_PER_SECOND, 1.0, clock)
        self.per_chat: dict[int | str, SlidingWindow] = {}
        self.throttled_seconds = 0.0
        self.throttled_calls: Counter[str] = Counter()
        """Calls that waited for the send budget, by method: a raid must show no deletes here."""
        self.retried_calls: Counter[str] = Counter()
        """Calls that slept after a 429, by method."""

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _window_for(self, chat_id: int | str) -> SlidingWindow:
        window = self.per_chat.get(chat_id)
        if window is None:
            is_group = isinstance(chat_id, str) or chat_id < 0
            window = (
                SlidingWindow(self.group_per_minute, 60.0, self.clock)
                if is_group
                else SlidingWindow(PRIVATE_MESSAGES_PER_SECOND, 1.0, self.clock)
            )
            self.per_chat[chat_id] = window
        return window

    async def _wait_for_budget(self, chat_id: int | str | None) -> float:
        """Seconds spent waiting for the chat's budget, then the overall one."""
        waited = 0.0 if chat_id is None else await self._window_for(chat_id).wait()
        return waited + await self.overall.wait()

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
            waited = await self._wait_for_budget(data.get("chat_id"))
            if waited > 0:
                self.throttled_seconds += waited
                self.throttled_calls[endpoint] += 1
        for attempt in range(MAX_RETRIES + 1):
            try:
                return await callback(*args, **kwargs)
            except (RetryAfter, NetworkError) as error:
                seconds = self._retry_delay(error, endpoint, attempt)
                if seconds is None:
                    raise
                self.retried_calls[endpoint] += 1
                await asyncio.sleep(seconds)
        raise AssertionError("unreachable")

    @staticmethod
    def _retry_delay(
        error: RetryAfter | NetworkError, endpoint: str, attempt: int
    ) -> float | None:
        """How long to wait before trying again, or None to give up. A send that timed out
        may have been delivered, so it is not repeated: a lost notice beats a doubled one."""
        if attempt == MAX_RETRIES:
            return None
        if isinstance(error, RetryAfter):
            delay = error.retry_after
            seconds = delay if isinstance(delay, int | float) else delay.total_seconds()
            logger.warning("Telegram asked to wait {}s before {}; retrying", seconds, endpoint)
            return float(seconds)
        if isinstance(error, TimedOut) and endpoint in SEND_METHODS:
            return None
        logger.warning("{} failed ({}); retrying", endpoint, error.message)
        return float(TRANSIENT_BACKOFF * 2**attempt)

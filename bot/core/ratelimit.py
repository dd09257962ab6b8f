"""A rate limiter that throttles only what Telegram budgets (messages sent to chats), and
retries only what may succeed when tried again.

PTB's AIORateLimiter throttles every request with a negative chat id, so during a raid the
deletes and bans would queue behind the 20-messages-per-minute group budget. Here they never
wait; only sends, edits and pins do, through the per-chat priority queues of `SendQueue`.

Errors by kind: a 429 is retried after its `retry_after`, a 5xx or a dropped connection after a
growing pause, each a bounded number of times. A 400 or 403 is Telegram's final answer and is
never repeated (PTB's `BadRequest` is a subclass of `NetworkError`, so it is told apart here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from loguru import logger
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from bot.core.sendqueue import SendQueue, Sleep

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
BUDGETED_METHODS = SEND_METHODS | frozenset(
    {
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
        "pinChatMessage",
        "unpinChatMessage",
    }
)
"""What counts against a chat's message budget and goes through the send queue: sends, and the
door's edits and pins, which Telegram's flood control counts too."""
MAX_RETRIES = 3
TRANSIENT_BACKOFF = 0.25
"""Seconds before the first retry after a 5xx or a lost connection; doubled each time."""


class SendOnlyRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Throttles sends, edits and pins per chat and overall; every other method passes
    straight on."""

    def __init__(self, queue: SendQueue, *, sleep: Sleep | None = None) -> None:
        self.queue = queue
        self.sleep: Callable[[float], Awaitable[None]] = sleep or queue.sleep
        self.throttled_seconds = 0.0
        self.throttled_calls: Counter[str] = Counter()
        """Calls that waited for the send budget, by method: a raid must show no deletes here."""
        self.retried_calls: Counter[str] = Counter()
        """Calls tried again after a 429, a 5xx or a dropped connection, by method."""
        self.calls_by_method: Counter[str] = Counter()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint in BUDGETED_METHODS:
            waited = await self.queue.admit(data.get("chat_id"))
            if waited > 0:
                self.throttled_seconds += waited
                self.throttled_calls[endpoint] += 1
        for attempt in range(MAX_RETRIES + 1):
            self.calls_by_method[endpoint] += 1
            try:
                return await callback(*args, **kwargs)
            except (RetryAfter, NetworkError) as error:
                seconds = self._retry_delay(error, endpoint, attempt)
                if seconds is None:
                    raise
                self.retried_calls[endpoint] += 1
                await self.sleep(seconds)
        raise AssertionError("unreachable")

    @staticmethod
    def _retry_delay(
        error: RetryAfter | NetworkError, endpoint: str, attempt: int
    ) -> float | None:
        """How long to wait before trying again, or None to give up. A send that timed out
        may have been delivered, so it is not repeated: a lost notice beats a doubled one."""
        if attempt == MAX_RETRIES or isinstance(error, BadRequest):
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

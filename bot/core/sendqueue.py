"""Telegram's send budget, shared fairly: per-chat queues with priorities.

Telegram allows a bot about 30 messages a second in all, 20 a minute in one group and one a
second in one private chat. `SendQueue.admit(chat_id, priority)` returns once a message to that
chat may go out: at once while the chat and the bot are within budget, otherwise when its turn
comes, the most urgent first (an enforcement notice before a reply before a scheduled post),
first come first served within a priority. Waiting never holds an update's lane: the handler is
detached first (`bot.core.updates`). Deletes, bans and other calls never come here.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum

from bot.core.updates import detach_current_handler

GROUP_MESSAGES_PER_MINUTE = 20
MESSAGES_PER_SECOND = 30
PRIVATE_MESSAGES_PER_SECOND = 1

Sleep = Callable[[float], Awaitable[None]]
LONGEST_NAP = 1.0
"""The dispatcher looks again at least this often, so a jump of the injected clock (the
simulator's, a test's) refills budgets promptly."""


class Priority(IntEnum):
    """Lower goes first."""

    ENFORCEMENT = 0
    """Call-outs and announcements about an ad just removed, and rights alarms."""
    REPLY = 1
    """Answers to what a member or admin just did: commands, buttons, tickets, welcomes."""
    SCHEDULED = 2
    """Posts that fall due by the clock: greetings, countdowns, reports."""


SEND_PRIORITY: ContextVar[Priority] = ContextVar("qunbot_send_priority", default=Priority.REPLY)


@contextmanager
def send_priority(priority: Priority) -> Iterator[None]:
    """Sends made inside this block are queued with `priority`."""
    token = SEND_PRIORITY.set(priority)
    try:
        yield
    finally:
        SEND_PRIORITY.reset(token)


Moment = tuple[float, float]
"""(monotonic time, injected clock time) of one send."""


@dataclass
class Budget:
    """At most `limit` sends per `period` seconds.

    A send's age is the larger of the real time and the injected clock's time since it, so a
    simulated jump of hours refills the budget, and a frozen test clock changes nothing.
    """

    limit: int
    period: float
    clock: Callable[[], float] | None = None
    times: deque[Moment] = field(default_factory=deque)

    def now(self) -> Moment:
        real = time.monotonic()
        return real, self.clock() if self.clock is not None else real

    @staticmethod
    def age(then: Moment, now: Moment) -> float:
        return max(now[0] - then[0], now[1] - then[1])

    def wait_needed(self, now: Moment) -> float:
        """Seconds until one more send fits; 0 when it fits now."""
        while self.times and self.age(self.times[0], now) >= self.period:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.period - self.age(self.times[0], now)

    def spend(self, now: Moment) -> None:
        self.times.append(now)


@dataclass(order=True)
class Waiting:
    priority: int
    sequence: int
    turn: asyncio.Future[None] = field(compare=False)


class SendQueue:
    """Admission to Telegram's send budget, per chat, most urgent first."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Sleep = asyncio.sleep,
        group_per_minute: int = GROUP_MESSAGES_PER_MINUTE,
        per_second: int = MESSAGES_PER_SECOND,
    ) -> None:
        self.clock, self.sleep, self.group_per_minute = clock, sleep, group_per_minute
        self.overall = Budget(per_second, 1.0, clock)
        self.chats: dict[int | str, Budget] = {}
        self.waiting: dict[int | str, list[Waiting]] = {}
        self.sequence = itertools.count()
        self.dispatcher: asyncio.Task[None] | None = None

    def budget_of(self, chat_id: int | str) -> Budget:
        budget = self.chats.get(chat_id)
        if budget is None:
            is_group = isinstance(chat_id, str) or chat_id < 0
            budget = (
                Budget(self.group_per_minute, 60.0, self.clock)
                if is_group
                else Budget(PRIVATE_MESSAGES_PER_SECOND, 1.0, self.clock)
            )
            self.chats[chat_id] = budget
        return budget

    def queued(self, chat_id: int | str | None = None) -> int:
        """Sends waiting for their turn, in one chat or in all."""
        if chat_id is not None:
            return len(self.waiting.get(chat_id, ()))
        return sum(len(queue) for queue in self.waiting.values())

    async def admit(self, chat_id: int | str | None, priority: Priority | None = None) -> float:
        """Wait for the turn of one send to `chat_id`; returns the seconds waited."""
        priority = SEND_PRIORITY.get() if priority is None else priority
        key: int | str = "" if chat_id is None else chat_id
        now = self.overall.now()
        budget = self.budget_of(key) if chat_id is not None else None
        if not self.waiting.get(key) and self._fits(budget, now):
            self._spend(budget, now)
            return 0.0
        detach_current_handler()
        turn = asyncio.get_running_loop().create_future()
        heapq.heappush(
            self.waiting.setdefault(key, []), Waiting(priority, next(self.sequence), turn)
        )
        self._ensure_dispatcher()
        started = time.monotonic()
        await turn
        return time.monotonic() - started

    def _fits(self, budget: Budget | None, now: Moment) -> bool:
        chat_ok = budget is None or budget.wait_needed(now) == 0
        return chat_ok and self.overall.wait_needed(now) == 0

    def _spend(self, budget: Budget | None, now: Moment) -> None:
        if budget is not None:
            budget.spend(now)
        self.overall.spend(now)

    def _ensure_dispatcher(self) -> None:
        if self.dispatcher is None or self.dispatcher.done():
            self.dispatcher = asyncio.get_running_loop().create_task(self._dispatch())

    async def _dispatch(self) -> None:
        while any(self.waiting.values()):
            delay = self._release_due()
            if delay is None:
                continue
            await self.sleep(min(delay, LONGEST_NAP))

    def _release_due(self) -> float | None:
        """Let the most urgent waiting send whose chat has budget go; None if one went, else
        the seconds until one may."""
        now = self.overall.now()
        overall_wait = self.overall.wait_needed(now)
        best: tuple[Waiting, int | str] | None = None
        soonest = float("inf")
        for key, queue in list(self.waiting.items()):
            if not queue:
                del self.waiting[key]
                continue
            if queue[0].turn.cancelled():
                heapq.heappop(queue)
                return None
            chat_wait = self.budget_of(key).wait_needed(now) if key != "" else 0.0
            if chat_wait > 0:
                soonest = min(soonest, chat_wait)
            elif best is None or queue[0] < best[0]:
                best = (queue[0], key)
        if best is None:
            return soonest
        if overall_wait > 0:
            return overall_wait
        waiting, key = best
        heapq.heappop(self.waiting[key])
        self._spend(self.budget_of(key) if key != "" else None, now)
        waiting.turn.set_result(None)
        return None

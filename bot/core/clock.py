"""The time source, injected everywhere so tests and the simulator control it."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that runs with real time but can jump ahead (simulated hours in the demo)."""

    def __init__(self, start: float | None = None) -> None:
        self._offset = 0.0 if start is None else start - time.time()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds


class SimulatedClock:
    """Time as in `ManualClock` (running with real time, able to jump), where every wait of
    the simulator also passes at once instead of being slept through.

    `elapsed` counts the seconds the bot has lived through, really or by waiting, as opposed to
    `advance` jumps of hours or days: one-off jobs fall due by it, as they would by real time.
    """

    def __init__(self, start: float | None = None) -> None:
        self.origin = time.time() if start is None else start
        self.started = time.monotonic()
        self.waited = 0.0
        self.jumped = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started + self.waited

    def now(self) -> float:
        return self.origin + self.elapsed + self.jumped

    def advance(self, seconds: float) -> None:
        """A jump (simulated days): schedules move, waiting jobs do not."""
        self.jumped += max(0.0, seconds)

    def pass_time(self, seconds: float) -> None:
        """A wait: the clock and the waiting jobs' time both move."""
        self.waited += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        """What the bot's send queue and retries call instead of `asyncio.sleep`."""
        self.pass_time(seconds)
        await asyncio.sleep(0)

"""Per-user limits on commands and on the private chat, so one member cannot keep the bot (and
Telegram's send budget) busy."""

from __future__ import annotations

from collections import deque

from bot.core.bounded import BoundedDict
from bot.core.clock import Clock

PER_USER_LIMIT = 12
WINDOW_SECONDS = 60.0
USERS_KEPT = 50_000
"""Users whose recent commands are remembered; an evicted user simply starts afresh."""


class CommandLimiter:
    """At most `PER_USER_LIMIT` counted messages per user per minute."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.recent: BoundedDict[int, deque[float]] = BoundedDict(USERS_KEPT)

    def allow(self, user_id: int) -> bool:
        """Count one message of the user; False when they are over the limit."""
        now = self.clock.now()
        times = self.recent.touch(user_id)
        if times is None:
            times = deque(maxlen=PER_USER_LIMIT)
            self.recent[user_id] = times
        if len(times) == PER_USER_LIMIT and now - times[0] < WINDOW_SECONDS:
            return False
        times.append(now)
        return True

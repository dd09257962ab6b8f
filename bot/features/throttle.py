"""Per-user limits on commands and on the private chat, so one member cannot keep the bot (and
Telegram's send budget) busy."""

from __future__ import annotations

from bot.core.bounded import BoundedDict
from bot.core.clock import Clock

PER_USER_LIMIT = 12
WINDOW_SECONDS = 60.0
USERS_KEPT = 50_000
GREETING_INTERVAL = 3600.0
"""Users whose recent commands are remembered; an evicted user simply starts afresh."""
NOT_ADMIN_INTERVAL = 600.0
"""A member trying an admin's command hears "admins only" at most this often in a group."""


class CommandLimiter:
    """At most `PER_USER_LIMIT` counted messages per user and chat per minute."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.recent: BoundedDict[tuple[int, int], tuple[float, ...]] = BoundedDict(USERS_KEPT)
        """A tuple per chat and user, not a bounded deque, which would reserve about 600 bytes
        each. Counted per chat: an admin setting up a group, where admins are not limited,
        must not use up their allowance in the private chat."""
        self.warned: BoundedDict[tuple[int, int], float] = BoundedDict(USERS_KEPT)
        """When each user over the limit in a chat was last told to slow down there."""
        self.admins: BoundedDict[tuple[int, int], tuple[bool, float]] = BoundedDict(USERS_KEPT)
        """Whether a user over the limit is an admin of a group, and when Telegram said so."""
        self.greeted: BoundedDict[int, float] = BoundedDict(USERS_KEPT)
        """When each user writing in private with nothing to answer was last greeted."""
        self.refused: BoundedDict[tuple[int, int], float] = BoundedDict(USERS_KEPT)
        """When each member trying an admin's command in a group was last told it is not
        theirs."""

    def admin_verdict(self, chat_id: int, user_id: int) -> bool | None:
        """What Telegram said within the window about this user being an admin, if anything:
        a member flooding commands costs one question a minute, not one per command (each
        command still checks the rights it needs when it runs)."""
        known = self.admins.get((chat_id, user_id))
        if known is None or self.clock.now() - known[1] >= WINDOW_SECONDS:
            return None
        return known[0]

    def remember_admin(self, chat_id: int, user_id: int, is_admin: bool) -> None:
        self.admins[(chat_id, user_id)] = (is_admin, self.clock.now())

    def allow(self, chat_id: int, user_id: int) -> bool:
        """Count one message of the user in this chat; False when they are over the limit."""
        now, key = self.clock.now(), (chat_id, user_id)
        times = self.recent.touch(key) or ()
        if len(times) == PER_USER_LIMIT and now - times[0] < WINDOW_SECONDS:
            return False
        self.recent[key] = (*times[1 - PER_USER_LIMIT :], now)
        return True

    def first_refusal(self, chat_id: int, user_id: int) -> bool:
        """True once per window for a user over the limit in a chat: they are told to slow
        down there once, not once per message (and in each chat where they are ignored)."""
        now, key = self.clock.now(), (chat_id, user_id)
        if now - self.warned.get(key, float("-inf")) < WINDOW_SECONDS:
            return False
        self.warned[key] = now
        return True

    def first_not_admin(self, chat_id: int, user_id: int) -> bool:
        """True at most once per `NOT_ADMIN_INTERVAL` for a member trying admins' commands in
        a group: one public "admins only", not one per try in front of every customer."""
        now, key = self.clock.now(), (chat_id, user_id)
        if now - self.refused.get(key, float("-inf")) < NOT_ADMIN_INTERVAL:
            return False
        self.refused[key] = now
        return True

    def first_greeting(self, user_id: int) -> bool:
        """True at most once per `GREETING_INTERVAL` for a user writing to the bot in private
        with nothing to answer: they hear how to get help, not a reply to every message."""
        now = self.clock.now()
        if now - self.greeted.get(user_id, float("-inf")) < GREETING_INTERVAL:
            return False
        self.greeted[user_id] = now
        return True

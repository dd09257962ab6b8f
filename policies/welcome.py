"""Welcome scripts (`welcome:`): the policy section, the optional newcomer check, and join
waves, the pure bookkeeping that turns a burst of joins into one welcome.

A good welcome says who the shop is, what members get from staying and the rules
in brief, and pushes the newcomer coupon. Pure: the caller passes the time in.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from pydantic import Field, ValidationInfo, field_validator

from policies.base import Invalid, StrictModel, check_placeholders
from policies.durations import FOREVER, Duration, parse_duration

__all__ = [
    "CHECK_PLACEHOLDERS",
    "WELCOME_PLACEHOLDERS",
    "JoinWaves",
    "Newcomer",
    "NewcomerCheckConfig",
    "NewcomerCheckTemplates",
    "WelcomeConfig",
    "WelcomeTemplates",
]

MINUTE = 60.0
SEEN_JOINS_KEPT = 10_000
"""Joins remembered for de-duplication; older ones are dropped first."""

WELCOME_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "text": frozenset({"users", "group"}),
    "gift_text": frozenset(),
    "gift_button": frozenset(),
    "rules_button": frozenset(),
    "rules": frozenset({"group"}),
}
CHECK_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "prompt": frozenset({"users", "timeout"}),
    "button": frozenset(),
    "passed": frozenset(),
}


class NewcomerCheckTemplates(StrictModel):
    """Texts of the newcomer check; `passed` is a button pop-up, so plain text."""

    prompt: str = Field(description="Added to the welcome: press the button within {timeout}")
    button: str = Field(description="The button label")
    passed: str = Field(description="Pop-up after a successful press (plain text)")

    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, template: str, info: ValidationInfo) -> str:
        name = info.field_name or ""
        return check_placeholders(name, template, CHECK_PLACEHOLDERS.get(name, frozenset()))


class NewcomerCheckConfig(StrictModel):
    """A newcomer may read but not post until they press a button; otherwise they are
    removed when the time is up. Admins, and newcomers an admin added, are exempt."""

    enabled: bool = Field(False, description="Check newcomers at all")
    timeout: Duration = Field(
        parse_duration("3m"),
        description="Time to press the button, counted from the join; at least 1m, because "
        "during a raid the welcome carrying the button may wait for the per-minute cap",
    )
    templates: NewcomerCheckTemplates

    @field_validator("timeout")
    @classmethod
    def _sensible_timeout(cls, value: float) -> float:
        if value == FOREVER or not MINUTE <= value <= 86400:
            raise Invalid("must be between 1m and 1d")
        return value


class WelcomeTemplates(StrictModel):
    """The welcome script and the group rules, as HTML templates; no defaults in code."""

    text: str = Field(description="The welcome; {users} mentions every newcomer of the wave")
    gift_text: str = Field(
        description="Added to the welcome when it carries a gift button: use the coupon now"
    )
    gift_button: str = Field(description="The red-envelope button; empty hides it")
    rules_button: str = Field(description="The rules button; empty hides it")
    rules: str = Field(description="The rules, shown by /rules and by the rules button")

    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, template: str, info: ValidationInfo) -> str:
        name = info.field_name or ""
        return check_placeholders(name, template, WELCOME_PLACEHOLDERS.get(name, frozenset()))


class WelcomeConfig(StrictModel):
    """Welcome scripts (`welcome:`): what newcomers see, and how joins are batched."""

    enabled: bool = Field(True, description="Post the welcome script when someone joins")
    delete_service_message: bool = Field(
        True, description="Delete Telegram's 'X joined the group' message"
    )
    delete_previous: bool = Field(
        True, description="Delete the previous welcome when a new one is posted"
    )
    wave_window: Duration = Field(
        10.0,
        description="At most one welcome per window: the first newcomer is welcomed at once, "
        "those joining within the window share the next welcome",
    )
    max_per_minute: int = Field(
        3, ge=1, le=20, description="Welcomes per minute at most, so a raid never floods"
    )
    newcomer_check: NewcomerCheckConfig
    templates: WelcomeTemplates

    @field_validator("wave_window")
    @classmethod
    def _finite_window(cls, value: float) -> float:
        if value == FOREVER or value > 10 * MINUTE:
            raise Invalid("must be 10m or less")
        return value


@dataclass(frozen=True, slots=True)
class Newcomer:
    """One member waiting to be welcomed; `checked` ones must press the newcomer button."""

    user_id: int
    name: str
    checked: bool = False


@dataclass(slots=True)
class _ChatWaves:
    last_posted: float = float("-inf")
    posted: deque[float] = field(default_factory=deque)
    """Welcomes of the last minute, for the per-minute cap."""


@dataclass(slots=True)
class JoinWaves:
    """Per group: joins already seen (both the `chat_member` update and the service message
    report one join) and when welcomes went out. Who waits for the next welcome is stored in
    SQLite, so a restart welcomes them."""

    _seen: dict[tuple[int, int], float] = field(default_factory=dict)
    _chats: dict[int, _ChatWaves] = field(default_factory=dict)

    def first_report(self, chat_id: int, user_id: int, now: float) -> bool:
        """True the first time a join is reported; false for the second report of it."""
        key = (chat_id, user_id)
        if key in self._seen:
            return False
        if len(self._seen) >= SEEN_JOINS_KEPT:
            for old in list(self._seen)[: SEEN_JOINS_KEPT // 4]:
                del self._seen[old]
        self._seen[key] = now
        return True

    def left(self, chat_id: int, user_id: int) -> None:
        """The member left or was removed: a later join is a new one."""
        self._seen.pop((chat_id, user_id), None)

    def due_at(self, chat_id: int, now: float, *, window: float, per_minute: int) -> float:
        """When the next welcome may go out: one per window, `per_minute` per minute."""
        waves = self._chats.setdefault(chat_id, _ChatWaves())
        posted = waves.posted
        while posted and posted[0] <= now - MINUTE:
            posted.popleft()
        due = max(now, waves.last_posted + window)
        if len(posted) >= per_minute:
            due = max(due, posted[-per_minute] + MINUTE)
        return due

    def posted(self, chat_id: int, now: float) -> None:
        """A welcome goes out now: it counts against the window and the per-minute cap."""
        waves = self._chats.setdefault(chat_id, _ChatWaves())
        waves.posted.append(now)
        waves.last_posted = now

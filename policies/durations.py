"""Human durations ("90s", "10m", "6h", "7d", "forever") used in policies and commands.

The unit may also be a word: "10 minutes", or in Chinese "10分钟", "6小时", "7天", "永久".

Only ASCII digits count: `²` or `٣` look like numbers but are not what an admin typed on
purpose. A duration longer than ten years is refused rather than overflowing a date, and a
mute must fit Telegram's window, outside which Telegram makes a restriction permanent.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

from policies.base import Invalid

FOREVER = float("inf")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_ENGLISH_UNITS = {
    **dict.fromkeys(("sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("day", "days"), "d"),
    **dict.fromkeys(("week", "weeks"), "w"),
}
_CHINESE_UNITS = {
    **dict.fromkeys(("秒", "秒钟"), "s"),
    **dict.fromkeys(("分", "分钟"), "m"),
    **dict.fromkeys(("小时", "个小时"), "h"),
    **dict.fromkeys(("天", "日"), "d"),
    **dict.fromkeys(("周", "星期", "个星期"), "w"),
}
_UNIT_OF = {**{unit: unit for unit in _UNITS}, **_ENGLISH_UNITS, **_CHINESE_UNITS}
_DURATION = re.compile(
    r"^\s*([0-9]{1,12}(?:\.[0-9]{1,6})?)\s*("
    + "|".join(sorted(_UNIT_OF, key=len, reverse=True))
    + r")\s*$"
)
_FOREVER_WORDS = frozenset({"forever", "permanent", "inf", "永久", "永远"})

LONGEST = 3650 * 86400.0
"""Ten years: any longer is a typo, and far longer overflows dates."""
SHORTEST_MUTE = 60.0
"""Telegram makes a mute under 30 s permanent; a minute leaves room for network delay."""
LONGEST_MUTE = 365 * 86400.0
"""Telegram makes a mute over 366 days permanent; a day less leaves room for clock skew."""


class DurationError(Invalid):
    """A text that is not a duration, or one out of range."""


class Span(float):
    """A duration given to a refusal's reason: `6h` in English (`str.format`); the shell spells
    it in the group's language (`6 小时`)."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return format_duration(self)


def parse_duration(value: object) -> float:
    """Read a duration as seconds; bare numbers are seconds and `forever` is infinity."""
    seconds = _seconds(value)
    if seconds > LONGEST and seconds != FOREVER:
        raise DurationError(
            "{value!r} is too long: at most {longest}",
            value=value,
            longest=Span(LONGEST),
        )
    return seconds


def parse_mute_duration(value: object) -> float:
    """A mute's length: between a minute and 365 days, or `forever` when asked for by name."""
    seconds = _seconds(value)
    if seconds == FOREVER:
        return FOREVER
    limits = {"shortest": Span(SHORTEST_MUTE), "longest": Span(LONGEST_MUTE)}
    if seconds < SHORTEST_MUTE:
        raise DurationError(
            "a mute of {value} is too short: Telegram makes a mute under 30s permanent; "
            "mute for {shortest} to {longest}, or write forever",
            value=value,
            **limits,
        )
    if seconds > LONGEST_MUTE:
        raise DurationError(
            "a mute of {value} is too long: Telegram makes a mute over 366d permanent; "
            "mute for {shortest} to {longest}, or write forever",
            value=value,
            **limits,
        )
    return seconds


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DurationError("expected a duration like 10m, 6h or 7d, not {value!r}", value=value)
    if isinstance(value, str):
        if value.strip().lower() in _FOREVER_WORDS:
            return FOREVER
        match = _DURATION.match(value.lower())
        if match is None:
            raise DurationError(
                "{value!r} is not a duration: write a number and s, m, h, d or w", value=value
            )
        seconds = float(match.group(1)) * _UNITS[_UNIT_OF[match.group(2)]]
    else:
        seconds = float(value)
    if math.isnan(seconds) or seconds < 0:
        raise DurationError("{value!r} is not a duration: it must be 0 or more", value=value)
    return seconds


def is_bare_number(value: object) -> bool:
    """A positive number with no unit: seconds to `parse_duration`, but maybe not to whoever
    wrote it (0 is none in any unit; a negative number is refused anyway)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of a duration, the inverse of `parse_duration`."""
    if seconds == FOREVER:
        return "forever"
    for unit in ("w", "d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A pydantic field type: written as text in YAML, held as seconds."""

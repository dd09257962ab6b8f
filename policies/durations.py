"""Human durations ("90s", "10m", "6h", "7d", "forever") used in policies and commands.

The unit may also be a word: "10 minutes", or in Chinese "10分钟", "6小时", "7天", "永久". A
Chinese admin may write the number in Chinese too, as they would say it: "十分钟", "两个小时",
"三十天", "半小时", "一个半小时".

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
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mo": 30 * 86400}
"""A month is 30 days: a mute or a window of "a month" needs no calendar."""
_ENGLISH_UNITS = {
    **dict.fromkeys(("sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("day", "days"), "d"),
    **dict.fromkeys(("week", "weeks"), "w"),
    **dict.fromkeys(("month", "months"), "mo"),
}
_CHINESE_UNITS = {
    **dict.fromkeys(("秒", "秒钟"), "s"),
    **dict.fromkeys(("分", "分钟"), "m"),
    **dict.fromkeys(("小时", "个小时"), "h"),
    **dict.fromkeys(("天", "日"), "d"),
    **dict.fromkeys(("周", "星期", "个星期"), "w"),
    **dict.fromkeys(("月", "个月"), "mo"),
}
_UNIT_OF = {**{unit: unit for unit in _UNITS}, **_ENGLISH_UNITS, **_CHINESE_UNITS}
_DURATION = re.compile(
    r"^\s*([0-9]{1,12}(?:\.[0-9]{1,6})?)\s*("
    + "|".join(sorted(_UNIT_OF, key=len, reverse=True))
    + r")\s*$"
)
_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CHINESE_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CHINESE_TENS = {"十": 10, "百": 100, "千": 1000}
_CHINESE_DURATION = re.compile(
    f"^\\s*([0-9]{{0,4}}|[{''.join(_CHINESE_DIGITS)}{''.join(_CHINESE_TENS)}]*?)(个)?(半)?\\s*("
    + "|".join(sorted(_CHINESE_UNITS, key=len, reverse=True))
    + r")(半)?\s*$"
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
        seconds = _written_seconds(value)
    else:
        seconds = float(value)
    if math.isnan(seconds) or seconds < 0:
        raise DurationError("{value!r} is not a duration: it must be 0 or more", value=value)
    return seconds


def _written_seconds(value: str) -> float:
    """A duration written as text: a number and a unit, the number in digits or in Chinese."""
    match = _DURATION.match(value.lower())
    if match is not None:
        return float(match.group(1)) * _UNITS[_UNIT_OF[match.group(2)]]
    spoken = _CHINESE_DURATION.match(value)
    amount = None
    if spoken is not None and not (spoken.group(3) and spoken.group(5)):
        # "一天半" is a day and a half, as "一个半小时" is an hour and a half.
        amount = _spoken_amount(
            spoken.group(1), spoken.group(2), spoken.group(3) or spoken.group(5)
        )
        if amount is not None and spoken.group(5) and not spoken.group(1):
            amount = None  # "天半" says no amount
    if spoken is None or amount is None:
        raise DurationError(
            "{value!r} is not a duration: write a number and s, m, h, d or w", value=value
        )
    return amount * _UNITS[_UNIT_OF[spoken.group(4)]]


def _spoken_amount(number: str, measure: str | None, half: str | None) -> float | None:
    """The amount before a Chinese unit: "两" 2, "十五" 15, "一个半" 1.5, "1个半" 1.5, "半" 0.5;
    None for what is no amount ("", "个", "十十")."""
    if not number:
        return 0.5 if half and not measure else None
    whole = int(number) if number.isascii() else chinese_number(number)
    if whole is None:
        return None
    return whole + (0.5 if half else 0.0)


def chinese_number(text: str) -> int | None:
    """A whole number written in Chinese numerals, up to 9999 ("二十五", "一百零八", "十"), and
    as it is said: a digit right after 百 or 千 counts in the next place down ("一百一" 110,
    "一千五" 1500; "一百零一" is 101). None for anything else."""
    total, digit, last_place, zero_since = 0, None, 10_000, False
    for character in text:
        if character in _CHINESE_DIGITS:
            if digit is not None and digit != 0 and _CHINESE_DIGITS[character] != 0:
                return None  # two digits in a row ("二三") is no number
            digit = _CHINESE_DIGITS[character]
            zero_since = zero_since or digit == 0
            continue
        place = _CHINESE_TENS.get(character)
        if place is None:
            return None  # not a numeral this reader knows (万, a letter)
        if place >= last_place:
            return None
        total += (1 if digit is None else digit) * place
        digit, last_place, zero_since = None, place, False
    if digit is not None:
        said_short = last_place in (100, 1000) and not zero_since
        total += digit * (last_place // 10 if said_short else 1)
    return total if text else None


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

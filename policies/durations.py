"""Human durations ("90s", "10m", "6h", "7d", "forever") used in policies and commands."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

FOREVER = float("inf")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


class DurationError(ValueError):
    """A text that is not a duration."""


def parse_duration(value: object) -> float:
    """Read a duration as seconds; bare numbers are seconds and `forever` is infinity."""
    if isinstance(value, bool):
        raise DurationError(f"expected a duration like 10m, 6h or 7d, not {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise DurationError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise DurationError(f"expected a duration like 10m, 6h or 7d, not {value!r}")
    if value.strip().lower() in {"forever", "permanent", "inf"}:
        return FOREVER
    match = _DURATION.match(value.lower())
    if match is None:
        raise DurationError(f"{value!r} is not a duration: write a number and s, m, h, d or w")
    return float(match.group(1)) * _UNITS[match.group(2)]


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

"""Patterns written by admins, compiled by RE2 so that no pattern can stall the bot.

Python's `re` backtracks: `(?:a|aa)+$` takes seconds on a 35-character message and doubles
with every two more. RE2 runs in time linear in the text whatever the pattern, at the price of
a few features that need backtracking (backreferences, lookarounds, atomic groups, possessive
quantifiers); a pattern using one is refused with the feature named. A pattern must also be
valid for Python's `re`, so the syntax admins learn stays the common one. RE2's `\\d`, `\\w`,
`\\s` and `\\b` are ASCII-only: write Chinese characters themselves, or a range such as [一-龥].
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Protocol, cast

import re2

from policies.base import Invalid

_NESTED_QUANTIFIER = re2.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")

__all__ = ["PatternError", "SafeMatch", "SafePattern", "compile_safe", "safe_pattern_problem"]


class SafeMatch(Protocol):
    """The part of a match object the detectors use."""

    @property
    def lastgroup(self) -> str | None: ...

    def span(self, group: int | str = 0) -> tuple[int, int]: ...

    def group(self, group: int | str = 0) -> str: ...


class SafePattern(Protocol):
    """A compiled RE2 pattern, typed."""

    @property
    def groupindex(self) -> Mapping[str, int]: ...

    def finditer(self, text: str) -> Iterator[SafeMatch]: ...

    def search(self, text: str) -> SafeMatch | None: ...


_UNSUPPORTED: tuple[tuple[str, str], ...] = (
    ("invalid perl operator: (?=", "a lookahead (?=...)"),
    ("invalid perl operator: (?!", "a negative lookahead (?!...)"),
    ("invalid perl operator: (?<=", "a lookbehind (?<=...)"),
    ("invalid perl operator: (?<!", "a negative lookbehind (?<!...)"),
    ("invalid perl operator: (?>", "an atomic group (?>...)"),
    ("invalid perl operator: (?(", "a conditional (?(1)...)"),
    ("invalid perl operator: (?P=", "a named backreference (?P=name)"),
    ("invalid perl operator: (?P", "a named backreference (?P=name)"),
    ("invalid perl operator: (?#", "a comment (?#...)"),
    ("bad repetition operator: ++", "a possessive quantifier (++)"),
    ("bad repetition operator: *+", "a possessive quantifier (*+)"),
    ("bad repetition operator: ?+", "a possessive quantifier (?+)"),
    ("bad repetition operator: }+", "a possessive quantifier ({n}+)"),
)


def _options() -> object:
    options = re2.Options()
    # The problem is reported to the admin who wrote the pattern, not printed on stderr.
    options.log_errors = False
    return cast(object, options)


_OPTIONS = _options()


class PatternError(Invalid):
    """A pattern RE2 cannot compile, with the reason in words."""


def compile_safe(pattern: str) -> SafePattern:
    """Compile with RE2; raises `PatternError` naming the unsupported feature, if any."""
    try:
        return cast(SafePattern, re2.compile(pattern, _OPTIONS))
    except re2.error as error:
        raise _explain(pattern, error) from None


def safe_pattern_problem(pattern: str) -> Invalid | None:
    """Why an admin's pattern is refused, or None if it is fine to match every message with."""
    if _NESTED_QUANTIFIER.search(pattern):
        # Harmless under RE2, but always a slip: `(a+)+` means no more than `a+`.
        return Invalid(
            "{pattern!r}: nested quantifiers such as (a+)+ repeat a repetition; write a+",
            pattern=pattern,
        )
    try:
        re.compile(pattern)
    except re.error as error:
        return Invalid("bad regex {pattern!r}: {error}", pattern=pattern, error=str(error))
    try:
        compiled = compile_safe(f"(?i:{pattern})")
    except PatternError as error:
        return error
    if compiled.groupindex:
        return Invalid("{pattern!r}: use (?:...) instead of named groups", pattern=pattern)
    if compiled.search("") is not None:
        return Invalid(
            "{pattern!r} matches an empty text, so it would fire on every message", pattern=pattern
        )
    return None


def _explain(pattern: str, error: Exception) -> PatternError:
    detail = _text(error)
    if detail.startswith("invalid escape sequence: \\") and detail[-1:] in "123456789":
        feature = f"a backreference ({detail.rsplit(' ', 1)[-1]})"
    else:
        feature = next((name for prefix, name in _UNSUPPORTED if detail.startswith(prefix)), "")
    if feature:
        return PatternError(
            "{pattern!r} uses {feature}, which the safe pattern engine (RE2) does not "
            "support; rewrite the pattern without it",
            pattern=pattern,
            feature=feature,
        )
    return PatternError("bad regex {pattern!r}: {error}", pattern=pattern, error=detail)


def _text(error: Exception) -> str:
    detail = error.args[0] if error.args else error
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)

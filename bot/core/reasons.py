"""Why the schema refused a value, said in a group's language.

A `Problem` keeps its reason as data: our own validators' template and values, or pydantic's
error type and context. The templates for pydantic's types live here, in the catalog; a type
without one is shown in English, as pydantic wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.core.i18n import N_, Messages
from policies.base import Invalid, Names, Phrases
from policies.durations import Span
from policies.yamlsource import Problem

PYDANTIC_TEMPLATES: dict[str, str] = {
    "int_parsing": N_("input should be a whole number"),
    "int_type": N_("input should be a whole number"),
    "int_from_float": N_("input should be a whole number, without a fraction"),
    "float_parsing": N_("input should be a number"),
    "float_type": N_("input should be a number"),
    "finite_number": N_("input should be a finite number"),
    "bool_parsing": N_("input should be true or false"),
    "bool_type": N_("input should be true or false"),
    "greater_than": N_("input should be greater than {gt}"),
    "greater_than_equal": N_("input should be at least {ge}"),
    "less_than": N_("input should be less than {lt}"),
    "less_than_equal": N_("input should be at most {le}"),
    "literal_error": N_("input should be one of: {expected}"),
    "enum": N_("input should be one of: {expected}"),
    "string_type": N_("input should be a text"),
    "string_too_short": N_("the text is too short (shortest: {min_length} characters)"),
    "string_too_long": N_("the text is too long (longest: {max_length} characters)"),
    "string_pattern_mismatch": N_("the text should match the pattern {pattern}"),
    "too_short": N_("too few items in the list: at least {min_length}, not {actual_length}"),
    "too_long": N_("too many items in the list: at most {max_length}, not {actual_length}"),
    "list_type": N_("input should be a list"),
    "tuple_type": N_("input should be a list"),
    "set_type": N_("input should be a list"),
    "dict_type": N_("input should be a mapping of keys to values"),
    "model_type": N_("input should be a mapping of keys to values"),
    "model_attributes_type": N_("input should be a mapping of keys to values"),
    "missing": N_("required key is missing"),
    "extra_forbidden": N_("unknown key {key!r}; known keys here: {known}"),
}
"""pydantic's error types, each with a template whose values come from the error's context."""
UNKNOWN_KEY_WITH_SUGGESTION = N_(
    "unknown key {key!r} (did you mean {suggestion!r}?); known keys here: {known}"
)
_QUOTED = re.compile(r"'([^']*)'")


def say_reason(messages: Messages, problem: Problem) -> str:
    """The reason of one problem in the language of `messages` (English when no template
    is known for it)."""
    template, values = _template(problem)
    return _say(messages, template, values, problem.kind, problem.message)


def say_invalid(messages: Messages, reason: Invalid) -> str:
    """A reason our own validators gave (a duration typed in a command, say)."""
    return _say(messages, reason.template, reason.values, "", str(reason))


def _say(
    messages: Messages, template: str, values: Mapping[str, object], kind: str, english: str
) -> str:
    if not template:
        return english
    try:
        return messages.tp(template, **_shown(messages, kind, values))
    except (KeyError, IndexError, ValueError):
        return english


def say_problem(messages: Messages, problem: Problem) -> str:
    """`dotted.path: reason (note)`: the path stays as written, it is what an admin types."""
    reason = say_reason(messages, problem)
    if problem.note is not None:
        reason = messages.tp(
            "{reason} ({note})", reason=reason, note=say_invalid(messages, problem.note)
        )
    return f"{problem.path}: {reason}" if problem.path else reason


def say_located(messages: Messages, problem: Problem) -> str:
    """`FILE:LINE:COL: dotted.path: reason`, for a problem in a policy file."""
    where = problem.position
    return f"{where.file}:{where.line}:{where.column}: {say_problem(messages, problem)}"


def say_problems(messages: Messages, problems: Iterable[Problem]) -> str:
    return messages.tp("; ").join(say_problem(messages, problem) for problem in problems)


def _template(problem: Problem) -> tuple[str, Mapping[str, object]]:
    if problem.template:
        return problem.template, problem.values
    if problem.kind == "extra_forbidden" and "suggestion" in problem.values:
        return UNKNOWN_KEY_WITH_SUGGESTION, problem.values
    return PYDANTIC_TEMPLATES.get(problem.kind, ""), problem.values


def _value_shown(messages: Messages, value: object) -> object:
    if isinstance(value, Phrases):
        return messages.listing(
            say_invalid(messages, phrase) if isinstance(phrase, Invalid) else phrase
            for phrase in value
        )
    if isinstance(value, Names):
        return messages.listing(value)
    if isinstance(value, Span):
        return messages.duration(value)
    return value


def _shown(messages: Messages, kind: str, values: Mapping[str, object]) -> dict[str, object]:
    """Names are listed the way the language lists them, durations spelled in it; so are the
    choices pydantic writes as `'a', 'b' or 'c'` for a literal (the choices themselves are
    kept)."""
    shown = {name: _value_shown(messages, value) for name, value in values.items()}
    expected = shown.get("expected")
    if kind in {"literal_error", "enum"} and isinstance(expected, str):
        choices = _QUOTED.findall(expected)
        if choices:
            shown["expected"] = messages.listing(choices)
    return shown

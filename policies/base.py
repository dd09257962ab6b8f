"""What every policy section shares: strict models, template placeholders and the reasons a
value is refused.

Kept apart from `policies.schema` so that a section defined in its own module (complaints,
welcome scripts) can subclass `StrictModel` while `Policy` in the schema imports that section.
"""

from __future__ import annotations

import string

from pydantic import BaseModel, ConfigDict

_PLACEHOLDER_CHARS = string.ascii_lowercase + "_"


class Names(tuple[str, ...]):
    """Key names or choices given to a reason: `a, b, c` in English; the shell lists them the
    way the group's language does."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return ", ".join(self)


class Invalid(ValueError):
    """Why a value is refused, kept as data: `template` is a message id of the catalog with
    `{placeholders}`, `values` fill them. The shell says it in a group's language; `str()` is
    the English, for the logs and an English command line."""

    def __init__(self, template: str, /, **values: object) -> None:
        super().__init__(template.format_map(values))
        self.template = template
        self.values = values


PATTERN_WORDS: dict[str, Invalid] = {}
"""What a `Field(pattern=...)` asks for, in words, by the pattern: an operator is told this
instead of the regex."""


def worded(pattern: str, words: Invalid) -> str:
    """`pattern`, with `words` saying what it asks for when a value does not match it."""
    PATTERN_WORDS[pattern] = words
    return pattern


class Phrases(tuple[Invalid | str, ...]):
    """Short phrases given to a reason (`group -1001`, `network 'east'`), each a message id
    with its values, or a key kept as written: the shell says each in the reader's language
    and lists them the way that language does."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return ", ".join(str(phrase) for phrase in self)


class StrictModel(BaseModel):
    """Base for every policy and config model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def placeholders_in(template: str) -> set[str]:
    """The `{name}` placeholders of a template; anything fancier is rejected."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise Invalid("a lone {{ or }}: write {{{{ or }}}} for a brace itself") from None
    for _, field_name, format_spec, conversion in parsed:
        if field_name is None:
            continue
        if format_spec or conversion or not field_name or field_name.strip(_PLACEHOLDER_CHARS):
            raise Invalid(
                "placeholder {{{placeholder}}} must be a plain {{name}}", placeholder=field_name
            )
        names.add(field_name)
    return names


def check_placeholders(name: str, template: str, allowed: frozenset[str]) -> str:
    """`template` if it uses only `allowed` placeholders, else an `Invalid` naming them."""
    unknown = sorted(placeholders_in(template) - allowed)
    if unknown:
        raise unknown_placeholder(name, unknown[0], allowed)
    return template


def unknown_placeholder(name: str, placeholder: str, allowed: frozenset[str]) -> Invalid:
    """The reason a template `name` may not use `placeholder`, listing the ones it may."""
    if not allowed:
        return Invalid(
            "template {name!r} uses unknown placeholder {{{placeholder}}}; it may use none",
            name=name,
            placeholder=placeholder,
        )
    return Invalid(
        "template {name!r} uses unknown placeholder {{{placeholder}}}; it may use: {allowed}",
        name=name,
        placeholder=placeholder,
        allowed=Names("{" + item + "}" for item in sorted(allowed)),
    )

"""What every policy section shares: strict models and template placeholders.

Kept apart from `policies.schema` so that a section defined in its own module (complaints,
welcome scripts) can subclass `StrictModel` while `Policy` in the schema imports that section.
"""

from __future__ import annotations

import string

from pydantic import BaseModel, ConfigDict

_PLACEHOLDER_CHARS = string.ascii_lowercase + "_"


class StrictModel(BaseModel):
    """Base for every policy and config model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def placeholders_in(template: str) -> set[str]:
    """The `{name}` placeholders of a template; anything fancier is rejected."""
    names: set[str] = set()
    for _, field_name, format_spec, conversion in string.Formatter().parse(template):
        if field_name is None:
            continue
        if format_spec or conversion or not field_name or field_name.strip(_PLACEHOLDER_CHARS):
            raise ValueError(f"placeholder {{{field_name}}} must be a plain {{name}}")
        names.add(field_name)
    return names


def check_placeholders(name: str, template: str, allowed: frozenset[str]) -> str:
    """`template` if it uses only `allowed` placeholders, else a ValueError naming them."""
    unknown = sorted(placeholders_in(template) - allowed)
    if unknown:
        listed = ", ".join("{" + item + "}" for item in sorted(allowed)) or "none"
        raise ValueError(
            f"template {name!r} uses unknown placeholder {{{unknown[0]}}}; it may use: {listed}"
        )
    return template

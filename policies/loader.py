"""Policy YAML -> validated `Policy`, following `extends:` chains and keeping file:line errors.

Pure: the shell supplies a `lookup` that returns the text of a policy by name, so presets,
the operator's directory and tests all go through the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policies.base import Invalid, Names
from policies.durations import is_bare_number
from policies.schema import Policy, is_duration_key
from policies.yamlsource import (
    Located,
    Position,
    Problem,
    SourceError,
    dotted,
    parse_yaml,
    validate,
)

MAX_EXTENDS_DEPTH = 8


@dataclass(frozen=True, slots=True)
class PolicySource:
    """The text of one policy file and where it came from."""

    name: str
    file: str
    text: str


Lookup = Callable[[str, "PolicySource | None"], "PolicySource | None"]
"""Find a policy by name; the second argument is the file asking, so a file named like a
preset can extend that preset instead of itself."""


def load_policy(
    source: PolicySource,
    lookup: Lookup,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> Policy:
    """Load `source`, merge it over what it extends, apply overrides and validate."""
    return with_overrides(resolve(source, lookup), overrides)


def with_overrides(document: Located, overrides: Mapping[str, Any] | None) -> Policy:
    """Validate a resolved policy document with a group's overrides merged over it."""
    if overrides:
        document = Located(dict(overrides), {}, {}, "(per-group overrides)").merged_under(document)
    return validate(Policy, document)


def resolve(source: PolicySource, lookup: Lookup, known: Sequence[str] = ()) -> Located:
    """The merged document of `source` and its `extends:` chain, child keys winning.
    `known` (every policy and preset name) is listed when an `extends:` names none of them."""
    chain = [(source, parse_yaml(source.text, source.file))]
    first = chain[0][1]
    if first.data == {}:
        reason = Invalid(
            "the policy file is empty: start it with {chinese_shop} or {english}",
            chinese_shop="`extends: shop-zh`",
            english="`extends: default`",
        )
        raise SourceError([Problem.of(first.position_of(()), "", reason)])
    while True:
        current, located = chain[-1]
        parent_name = located.data.get("extends") if isinstance(located.data, dict) else None
        if parent_name is None:
            break
        parent = _find_parent(str(parent_name), current, located, lookup, known)
        if any(seen.file == parent.file for seen, _ in chain) or len(chain) > MAX_EXTENDS_DEPTH:
            names = " -> ".join(item.name for item, _ in chain) + f" -> {parent.name}"
            reason = Invalid("policies extend each other in a loop: {names}", names=names)
            raise SourceError([_problem(located, reason)])
        chain.append((parent, parse_yaml(parent.text, parent.file)))
    merged = chain[-1][1]
    for _, document in reversed(chain[:-1]):
        merged = document.merged_under(merged)
    return merged


def _find_parent(
    name: str, current: PolicySource, located: Located, lookup: Lookup, known: Sequence[str]
) -> PolicySource:
    parent = lookup(name, current)
    if parent is None:
        reason = (
            Invalid(
                "unknown policy or preset {name!r}; known policies and presets: {known}",
                name=name,
                known=Names(known),
            )
            if known
            else Invalid(
                "unknown policy or preset {name!r}; known policies and presets: none found",
                name=name,
            )
        )
        raise SourceError([_problem(located, reason)])
    return parent


def _problem(located: Located, reason: Invalid) -> Problem:
    position: Position = located.value_positions.get(("extends",), located.position_of(()))
    return Problem.of(position, "extends", reason)


def bare_durations(document: Located) -> list[Problem]:
    """Durations written as a bare number (`reinvite_after: 30`): read as seconds, which an
    operator who meant minutes or days would never notice until customers stay out for 30 s
    or a month. Not an error (seconds are a valid reading), a warning for `qunbot check`."""
    found: list[Problem] = []
    for path, value in _leaves(document.data, ()):
        if is_bare_number(value) and is_duration_key(path):
            reason = Invalid(
                "{value} is read as {value} seconds: write {value}s to keep it, or the unit "
                "you meant ({value}m, {value}h, {value}d)",
                value=value,
            )
            found.append(Problem.of(document.position_of(path), dotted(path), reason))
    return found


def _leaves(data: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    if not isinstance(data, Mapping):
        return [(path, data)]
    return [leaf for key, value in data.items() for leaf in _leaves(value, (*path, str(key)))]

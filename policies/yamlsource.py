"""YAML parsing that remembers where every key and value was written, and pydantic errors
turned into `FILE:LINE:COL: dotted.path: message` problems with suggestions. A problem keeps its
reason as data too (pydantic's error type and context, or our own template and values), so
that the shell can say it in a group's language.

Pure: callers hand in the text and the file name; nothing here reads files.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from policies.base import PATTERN_WORDS, Invalid, Names

Path = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Position:
    file: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config or policy file. `message` is the English; `template` and
    `values` are the same reason as a catalog message id and its values, or `kind` is
    pydantic's error type with its context in `values` (the shell knows their templates).
    `note` says where the problem matters (which policy, used by which groups), after the
    reason."""

    position: Position
    path: str
    message: str
    kind: str = ""
    template: str = ""
    values: Mapping[str, object] = field(default_factory=dict, compare=False)
    note: Invalid | None = field(default=None, compare=False)

    @classmethod
    def of(cls, position: Position, path: str, reason: Invalid) -> Problem:
        return cls(position, path, str(reason), template=reason.template, values=reason.values)

    def __str__(self) -> str:
        where = f"{self.position.file}:{self.position.line}:{self.position.column}"
        noted = f" ({self.note})" if self.note is not None else ""
        return f"{where}: {self.path or '(top)'}: {self.message}{noted}"


class SourceError(Exception):
    """Every problem found in one or more files; `str()` lists them one per line. `documents`
    are the policies that could still be read, by name, for the warnings about them."""

    def __init__(
        self, problems: list[Problem], documents: Mapping[str, Located] | None = None
    ) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems
        self.documents = dict(documents or {})


@dataclass(slots=True)
class Located:
    """Parsed YAML data plus the position of each key (for unknown keys) and value."""

    data: Any
    key_positions: dict[Path, Position]
    value_positions: dict[Path, Position]
    file: str

    def position_of(self, path: Path, *, key: bool = False) -> Position:
        """The most precise known position for `path`, falling back to its parents."""
        table = self.key_positions if key else self.value_positions
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in table:
                return table[prefix]
            if prefix in self.value_positions:
                return self.value_positions[prefix]
        return Position(self.file, 1, 1)

    def merged_under(self, parent: Located) -> Located:
        """This document deep-merged over `parent`: mappings merge, everything else replaces."""
        return Located(
            data=deep_merge(parent.data, self.data),
            key_positions={**parent.key_positions, **self.key_positions},
            value_positions={**parent.value_positions, **self.value_positions},
            file=self.file,
        )


def deep_merge(base: Any, override: Any) -> Any:
    """Merge `override` into `base`: nested mappings merge key by key, other values replace."""
    if not isinstance(base, Mapping) or not isinstance(override, Mapping):
        return override
    merged = dict(base)
    for key, value in override.items():
        merged[key] = deep_merge(base[key], value) if key in base else value
    return merged


FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml when PyYAML was built with it: a config naming 10,000 groups parses in 0.6 s
instead of 4 s. The document is parsed once; its nodes give both the data and the positions."""


def parse_yaml(text: str, file: str) -> Located:
    """Parse one YAML document, keeping positions; syntax errors become a `SourceError`."""
    loader = FAST_LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        problem = _full_width_colon(text, file, error) or _syntax_problem(error, file)
        raise SourceError([problem]) from None
    finally:
        loader.dispose()
    located = Located(data if data is not None else {}, {}, {}, file)
    if node is not None:
        problems = _walk(node, (), located)
        if problems:
            raise SourceError(problems)
    return located


PLAIN_SYNTAX_PROBLEMS = {
    "mapping values are not allowed here": "a ':' where no new key can start: quote a text "
    "that contains ': ', or check the indentation",
    "did not find expected key": "a line is not indented like the keys around it",
    "did not find expected ',' or '}'": "a '{' is not closed with '}' (or a ',' is missing)",
    "did not find expected ',' or ']'": "a '[' is not closed with ']' (or a ',' is missing)",
    "did not find expected '-' indicator": "a list item is not indented like the items around it",
    "found unexpected end of stream": "the file ends inside a quoted text or a bracket",
    "mapping values are not allowed in this context": "a ':' where no new key can start: "
    "quote a text that contains ': ', or check the indentation",
    "found character '\\t' that cannot start any token": "a tab character: indent with "
    "spaces only",
    "found character that cannot start any token": "a character that cannot start a value "
    "(a tab? indent with spaces only; quote texts starting with @ or `)",
}
"""PyYAML's messages for the usual mistakes, in an operator's words."""
PLAIN_CONTEXTS = {
    "while parsing a flow mapping": "the { ... } that starts at",
    "while parsing a flow sequence": "the [ ... ] that starts at",
    "while parsing a block mapping": "the keys that start at",
    "while parsing a block collection": "the list that starts at",
    "while scanning a quoted scalar": "the quoted text that starts at",
}


_FULL_WIDTH_KEY = re.compile(r"^[ \t]*[A-Za-z0-9_.-]+[ \t]*：")
FULL_WIDTH_COLON = Invalid(
    "a key ends with a full-width colon '：'; write ':' and a space instead"
)
"""Why a key typed with a Chinese keyboard's colon breaks the file, and the fix."""
_PATTERN = "string_pattern_mismatch"
_MAPPING_EXPECTED = {"model_type", "dict_type", "model_attributes_type"}
_LINES_BEFORE = 3
"""How far above a syntax error a key with a full-width colon is taken for its cause."""


def _full_width_colon(text: str, file: str, error: yaml.YAMLError) -> Problem | None:
    """A key written with a Chinese keyboard's colon (`mode：soft`) is read as text, and YAML
    fails a line or two further on: when such a key stands just above the error and an ASCII
    colon there clears it, where it is and the fix."""
    mark = getattr(error, "problem_mark", None)
    if mark is None:
        return None
    lines = text.split("\n")
    for index in range(min(mark.line, len(lines) - 1), max(-1, mark.line - _LINES_BEFORE - 1), -1):
        match = _FULL_WIDTH_KEY.match(lines[index])
        if match is not None and _clears(lines, index, mark.line):
            return Problem.of(Position(file, index + 1, match.end()), "", FULL_WIDTH_COLON)
    return None


def _clears(lines: list[str], index: int, error_line: int) -> bool:
    """Whether writing an ASCII colon on line `index` parses past the original error."""
    fixed = [*lines[:index], lines[index].replace("：", ": ", 1), *lines[index + 1 :]]
    loader = FAST_LOADER("\n".join(fixed))
    try:
        loader.get_single_node()
    except yaml.YAMLError as again:
        later = getattr(again, "problem_mark", None)
        return later is not None and later.line > error_line
    finally:
        loader.dispose()
    return True


def _syntax_problem(error: yaml.YAMLError, file: str) -> Problem:
    """Where a YAML syntax error is, in plain words: the line and column, and where the
    construct it broke started."""
    mark = getattr(error, "problem_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    raw = getattr(error, "problem", None) or str(error)
    message = PLAIN_SYNTAX_PROBLEMS.get(raw, raw)
    context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and start is not None and (start.line + 1, start.column + 1) != (line, column):
        started = f"line {start.line + 1}, column {start.column + 1}"
        message += f" (in {PLAIN_CONTEXTS.get(context, context)} {started})"
    reason = Invalid(
        "YAML syntax error at line {line}, column {column}: {detail}",
        line=line,
        column=column,
        detail=message,
    )
    return Problem.of(Position(file, line, column), "", reason)


def _mark(node: yaml.Node, file: str) -> Position:
    return Position(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _walk(node: yaml.Node, path: Path, located: Located) -> list[Problem]:
    located.value_positions[path] = _mark(node, located.file)
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            position = _mark(key_node, located.file)
            if key in first_line:
                reason = Invalid(
                    "duplicate key: it is also on line {line}; keep one of the two",
                    line=first_line[key],
                )
                problems.append(Problem.of(position, dotted(child), reason))
            first_line.setdefault(key, position.line)
            located.key_positions[child] = position
            problems += _walk(value_node, child, located)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _walk(item, (*path, index), located)
    return problems


def dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def validate(model: type[ModelT], located: Located) -> ModelT:
    """Validate located data against `model`, raising every problem at once."""
    if not isinstance(located.data, Mapping):
        position = located.position_of(())
        reason = Invalid("expected a mapping of keys at the top level")
        raise SourceError([Problem.of(position, "", reason)])
    try:
        return model.model_validate(located.data)
    except ValidationError as error:
        raise SourceError(problems_from(error, model, located)) from None


def problems_from(
    error: ValidationError, model: type[BaseModel], located: Located
) -> list[Problem]:
    """Turn pydantic's errors into positioned problems, with a suggestion for unknown keys."""
    problems = []
    for item in error.errors(include_url=False):
        path = tuple(part for part in item["loc"] if isinstance(part, str | int))
        path = _known_prefix(path, located)
        kind = item["type"]
        position = located.position_of(path, key=kind in {"extra_forbidden", "missing"})
        problems.append(_problem(item, model, path, position))
    problems = [problem for problem in problems if not _echo(problem, problems)]
    return sorted(problems, key=lambda problem: (problem.position.line, problem.position.column))


def _echo(problem: Problem, problems: list[Problem]) -> bool:
    """pydantic counts a list's length after dropping the items it refused: `[mute]` is
    "too short" only because its one item is wrong, which is already said."""
    inside = problem.path + "."
    return problem.kind == "too_short" and any(other.path.startswith(inside) for other in problems)


def _known_prefix(path: Path, located: Located) -> Path:
    """Drop pydantic's internal loc parts (union members, validator names) we never wrote."""
    kept: list[str | int] = []
    for part in path:
        candidate = (*kept, part)
        written = candidate in located.value_positions or candidate in located.key_positions
        if written or (
            isinstance(part, str) and part.isidentifier() and not _looks_internal(part)
        ):
            kept.append(part)
    return tuple(kept)


def _looks_internal(part: str) -> bool:
    return "[" in part or part.startswith(("function-", "tagged-union", "union"))


def _problem(
    item: Mapping[str, Any], model: type[BaseModel], path: Path, position: Position
) -> Problem:
    """One pydantic error as a problem: our own reason when a validator raised `Invalid`, else
    pydantic's type and context."""
    kind = str(item["type"])
    context = dict(item.get("ctx") or {})
    cause = context.get("error")
    if isinstance(cause, Invalid):
        return Problem.of(position, dotted(path), cause)
    written = item.get("input")
    if kind in _MAPPING_EXPECTED and isinstance(written, str) and _FULL_WIDTH_KEY.match(written):
        # `moderation:\n  mode：soft` parses: the section is the text "mode：soft".
        return Problem.of(position, dotted(path), FULL_WIDTH_COLON)
    words = PATTERN_WORDS.get(context.get("pattern", "")) if kind == _PATTERN else None
    if words is not None:
        return Problem.of(position, dotted(path), words)
    if kind == "extra_forbidden":
        message, context = _unknown_key(model, path)
    else:
        message = _message(item)
        context = {name: value for name, value in context.items() if _plain(value)}
    return Problem(position, dotted(path), message, kind=kind, values=context)


def _plain(value: object) -> bool:
    return isinstance(value, str | int | float)


def _message(item: Mapping[str, Any]) -> str:
    message = str(item["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if item["type"] == "missing":
        return "required key is missing"
    return message[:1].lower() + message[1:]


def _unknown_key(model: type[BaseModel], path: Path) -> tuple[str, dict[str, object]]:
    """The English message for an unknown key, and its values: `key`, `known` (the keys
    allowed here) and `suggestion` (the closest of them, when one is close)."""
    key = str(path[-1]) if path else ""
    known = list(fields_at(model, path[:-1]))
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(known[:12])
    values: dict[str, object] = {"key": key, "known": Names(known[:12])}
    if close:
        values["suggestion"] = close[0]
    return f"unknown key {key!r}{hint}; known keys here: {listed}", values


def fields_at(model: type[BaseModel], path: Path) -> tuple[str, ...]:
    """The field names of the model found by following `path` from `model`."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return ()
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        current = _model_in(field.annotation) if field is not None else None
    return tuple(current.model_fields) if current is not None else ()


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The first pydantic model inside an annotation such as `tuple[Step, ...] | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return None
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None

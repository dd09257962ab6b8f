"""Bot API signatures, used to reject calls that the real Telegram would reject.

``botapi_spec.json`` is a compact extract of the MIT-licensed data in
PaulSonOfLars/telegram-bot-api-spec (Copyright (c) 2020 Paul Larsen), scraped from
https://core.telegram.org/bots/api. Regenerate it with
``python -m bot.fake.spec path/to/api-botapi-10.0.json``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

SPEC_PATH = Path(__file__).with_name("botapi_spec.json")
ATTRIBUTION = (
    "Extract of PaulSonOfLars/telegram-bot-api-spec (MIT, Copyright (c) 2020 Paul Larsen), "
    "scraped from https://core.telegram.org/bots/api"
)
SCALARS = frozenset({"Integer", "String", "Boolean", "Float", "InputFile"})
ARRAY_PREFIX = "Array of "
DISCRIMINATORS = frozenset({"type", "status", "source"})
# Objects the fake produces rather than receives: updates and the results it answers with.
PRODUCED_TYPES = ("Update", "WebhookInfo", "ForumTopic")
_CONST_RE = re.compile(r"(?:must be|always) [\"“]?([a-z_]+)[\"”]?")


@dataclass(frozen=True)
class Upload:
    """A file uploaded with a call (a multipart part), as the fake receives it."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Param:
    """One parameter of a method or field of an object type."""

    name: str
    types: tuple[str, ...]
    required: bool
    value: str | None = None


class CallLike(Protocol):
    """Anything with a method name and decoded parameters, like ``RecordedCall``."""

    @property
    def method(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...


def _param_entry(field: Mapping[str, Any], *, keep_value: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": field["name"],
        "types": list(field["types"]),
        "required": bool(field["required"]),
    }
    if keep_value and field["name"] in DISCRIMINATORS:
        match = _CONST_RE.search(str(field.get("description", "")))
        if match:
            entry["value"] = match.group(1)
    return entry


def _referenced_types(source: Mapping[str, Any]) -> list[str]:
    types: Mapping[str, Any] = source["types"]
    pending = [
        t for m in source["methods"].values() for f in m.get("fields", []) for t in f["types"]
    ]
    pending.extend(PRODUCED_TYPES)
    seen: set[str] = set()
    while pending:
        name = pending.pop().removeprefix(ARRAY_PREFIX).removeprefix(ARRAY_PREFIX)
        if name in SCALARS or name in seen:
            continue
        seen.add(name)
        pending.extend(types[name].get("subtypes", []))
        pending.extend(t for f in types[name].get("fields", []) for t in f["types"])
    return sorted(seen)


def build_extract(source: Mapping[str, Any]) -> dict[str, Any]:
    """Builds the compact extract: methods, the types their parameters use, and ``Update``."""
    methods = {
        name: [_param_entry(f, keep_value=False) for f in method.get("fields", [])]
        for name, method in sorted(source["methods"].items())
    }
    types: dict[str, Any] = {}
    for name in _referenced_types(source):
        definition = source["types"][name]
        if "subtypes" in definition:
            types[name] = {"subtypes": list(definition["subtypes"])}
        else:
            fields = definition.get("fields", [])
            types[name] = {"fields": [_param_entry(f, keep_value=True) for f in fields]}
    return {
        "attribution": ATTRIBUTION,
        "version": source["version"],
        "methods": methods,
        "types": types,
    }


def write_extract(source_path: Path, target: Path = SPEC_PATH) -> None:
    """Regenerates the committed extract from the full scraped spec."""
    source = json.loads(source_path.read_text(encoding="utf-8"))
    extract = build_extract(source)
    lines = [f'{{"attribution": {json.dumps(ATTRIBUTION)},', f'"version": "{extract["version"]}",']
    for section in ("methods", "types"):
        body = ",\n".join(
            f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
            for k, v in extract[section].items()
        )
        lines.append(f'"{section}": {{\n{body}\n}}' + ("," if section == "methods" else ""))
    target.write_text("\n".join(lines) + "}\n", encoding="utf-8")


def _params(entries: Iterable[Mapping[str, Any]]) -> dict[str, Param]:
    return {
        e["name"]: Param(e["name"], tuple(e["types"]), e["required"], e.get("value"))
        for e in entries
    }


class ApiSpec:
    """Method signatures and object types, with type checks of Python values."""

    def __init__(self, extract: Mapping[str, Any]) -> None:
        """Wraps a loaded extract (see ``build_extract``)."""
        self.version: str = extract["version"]
        self.methods = {name: _params(entries) for name, entries in extract["methods"].items()}
        self.subtypes: dict[str, list[str]] = {}
        self.types: dict[str, dict[str, Param]] = {}
        for name, definition in extract["types"].items():
            if "subtypes" in definition:
                self.subtypes[name] = list(definition["subtypes"])
            else:
                self.types[name] = _params(definition["fields"])
        self._by_lower = {name.lower(): name for name in self.methods}

    def canonical(self, method: str) -> str | None:
        """Returns the documented spelling of a method; Bot API names are case-insensitive."""
        return self._by_lower.get(method.lower())

    def validate(self, method: str, params: Mapping[str, Any]) -> list[str]:
        """Lists what is wrong with a call: unknown method or parameter, missing, wrong type."""
        name = self.canonical(method)
        if name is None:
            return [f"unknown method {method}"]
        return self._check_fields(self.methods[name], params, "")

    def validate_object(self, type_name: str, value: Mapping[str, Any]) -> list[str]:
        """Lists what is wrong with an object of a Bot API type, e.g. an ``Update``."""
        return self._check_type(value, type_name, type_name)

    def _check_fields(
        self, fields: Mapping[str, Param], values: Mapping[str, Any], prefix: str
    ) -> list[str]:
        problems = [f"unknown {_describe(prefix + key)}" for key in values if key not in fields]
        for param in fields.values():
            path = prefix + param.name
            if param.name not in values:
                if param.required:
                    problems.append(f"{_describe(path)} is required")
                continue
            value = values[param.name]
            if param.value is not None and value != param.value:
                problems.append(f"{_describe(path)} must be {param.value!r}")
            else:
                problems.extend(self.check_value(value, param.types, path))
        return problems

    def check_value(self, value: Any, types: Sequence[str], path: str) -> list[str]:
        """Returns [] if ``value`` matches any of ``types``, else the closest complaint."""
        first: list[str] = []
        for type_name in types:
            problems = self._check_type(value, type_name, path)
            if not problems:
                return []
            first = first or problems
        return first if len(types) == 1 else [f"{_describe(path)} must be {' or '.join(types)}"]

    def _check_type(self, value: Any, type_name: str, path: str) -> list[str]:
        if type_name.startswith(ARRAY_PREFIX):
            if not isinstance(value, list | tuple):
                return [f"{_describe(path)} must be {type_name}"]
            item_type = type_name.removeprefix(ARRAY_PREFIX)
            return [
                problem
                for index, item in enumerate(value)
                for problem in self._check_type(item, item_type, f"{path}[{index}]")
            ]
        if type_name in SCALARS or type_name not in self.types | self.subtypes:
            return (
                []
                if _scalar_matches(value, type_name)
                else [f"{_describe(path)} must be {type_name}"]
            )
        if not isinstance(value, Mapping):
            return [f"{_describe(path)} must be {type_name} (a JSON object)"]
        if type_name in self.subtypes:
            if self.check_value(value, self.subtypes[type_name], path):
                return [f"{_describe(path)} must be {type_name}"]
            return []
        return self._check_fields(self.types[type_name], value, f"{path}.")


def _describe(path: str) -> str:
    return f"field {path}" if "." in path else f"parameter {path}"


def _scalar_matches(value: Any, type_name: str) -> bool:
    if type_name == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Boolean":
        return isinstance(value, bool)
    if type_name == "String":
        return isinstance(value, str)
    if type_name == "InputFile":
        return isinstance(value, Upload)
    return False


@cache
def load_spec(path: Path = SPEC_PATH) -> ApiSpec:
    """Loads the committed extract (or a full scraped spec) once per path."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return ApiSpec(data if "attribution" in data else build_extract(data))


def validate_call(method: str, params: Mapping[str, Any]) -> list[str]:
    """Lists the problems Telegram would reject this call for; [] if it is well-formed."""
    return load_spec().validate(method, params)


def decode_form_value(spec: ApiSpec, method: str, name: str, raw: str) -> Any:
    """Decodes one form field: non-string values arrive JSON-encoded, strings arrive as is."""
    method_name = spec.canonical(method)
    param = spec.methods[method_name].get(name) if method_name else None
    if param is None:
        return raw
    for type_name in param.types:
        if type_name == "String":
            continue
        decoded = _try_json(raw)
        if decoded is not _UNDECODABLE and not spec.check_value(decoded, [type_name], name):
            return decoded
    return raw


_UNDECODABLE = object()


def _try_json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return _UNDECODABLE


def check_calls_against_spec(calls: Iterable[CallLike], spec_path: Path) -> list[str]:
    """Checks recorded calls against a spec file (full scraped JSON or extract)."""
    spec = load_spec(spec_path)
    return [
        f"{call.method}: {problem}"
        for call in calls
        for problem in spec.validate(call.method, call.params)
    ]


if __name__ == "__main__":
    write_extract(Path(sys.argv[1]))

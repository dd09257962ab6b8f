"""Finding policy files: the operator's policies directory first, then the shipped presets."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from policies.base import Invalid
from policies.loader import PolicySource, resolve, with_overrides
from policies.schema import Policy
from policies.yamlsource import Located

PRESETS = resources.files("policies") / "presets"


class PolicyNotFound(LookupError):
    """No policy file and no preset has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown policy or preset {name!r}")
        self.name = name


class PolicyUnreadable(Exception):
    """A policy file exists but cannot be read as text."""

    def __init__(self, file: str, error: OSError | UnicodeDecodeError) -> None:
        self.file = file
        self.not_text = isinstance(error, UnicodeDecodeError)
        if self.not_text:
            self.reason = Invalid(
                "cannot read the policy file {file}: it is not UTF-8 text: save it as UTF-8",
                file=file,
            )
        else:
            self.reason = Invalid(
                "cannot read the policy file {file}: {error}: check it and its permissions",
                file=file,
                error=getattr(error, "strerror", None) or str(error),
            )
        super().__init__(str(self.reason))


class PolicyLibrary:
    """Reads policies by name. A file in the operator's directory that is named like a preset
    may `extends:` that very preset, so operators can adjust `default` in place."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def lookup(self, name: str, asking: PolicySource | None = None) -> PolicySource | None:
        if self.directory is not None:
            candidate = self.directory / f"{name}.yaml"
            if candidate.is_file() and (asking is None or str(candidate) != asking.file):
                return PolicySource(name, str(candidate), _read(candidate))
        preset = PRESETS / f"{name}.yaml"
        if preset.is_file():
            file = f"presets/{name}.yaml"
            if asking is None or asking.file != file:
                return PolicySource(name, file, preset.read_text(encoding="utf-8"))
        return None

    def load(self, name: str, overrides: Mapping[str, Any] | None = None) -> Policy:
        """Load and validate a policy; raises `SourceError` listing every problem."""
        return with_overrides(self.resolve(name), overrides)

    def resolve(self, name: str) -> Located:
        """Read a policy and what it extends into one document, not yet validated."""
        source = self.lookup(name)
        if source is None:
            raise PolicyNotFound(name)
        return resolve(source, self.lookup, self.names())

    def directory_exists(self) -> bool:
        return self.directory is not None and self.directory.is_dir()

    def names(self) -> list[str]:
        """Every policy name available, presets included."""
        found = {entry.name.removesuffix(".yaml") for entry in PRESETS.iterdir()}
        if self.directory is not None and self.directory.is_dir():
            found |= {path.stem for path in self.directory.glob("*.yaml")}
        return sorted(name for name in found if not name.startswith("_"))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyUnreadable(str(path), error) from None

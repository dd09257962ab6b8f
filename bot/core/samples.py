"""Reading message files: one message per line, with backslash escapes (see shared data)."""

from __future__ import annotations

from pathlib import Path

from policies.detect.samples import parse_sample_lines


def read_messages(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return parse_sample_lines(handle)

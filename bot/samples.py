"""Reading message files: one message per line, with `\\`, `\n`, `\r` and `\t` escaped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

_ESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def unescape(line: str) -> str:
    """Undo the four escapes of the message-file format; an unknown escape stays as written."""
    if "\\" not in line:
        return line
    out: list[str] = []
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line) and line[index + 1] in _ESCAPES:
            out.append(_ESCAPES[line[index + 1]])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def messages_from_lines(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        stripped = line.rstrip("\n").rstrip("\r")
        if stripped:
            yield unescape(stripped)


def read_messages(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return list(messages_from_lines(handle))

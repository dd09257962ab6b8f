"""Training samples as the shell hands them over: file names and their lines, no file access.

Sample files hold one message per line. Inside a message a backslash is written `\\\\`, a newline
`\\n`, a carriage return `\\r` and a tab `\\t` (the format of the labelled data sets too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from policies.detect.classifier import NaiveBayes
from policies.detect.config import SHIPPED_SAMPLES, ClassifierConfig, sample_is_spam

__all__ = ["SHIPPED_SAMPLES", "parse_sample_lines", "train_from_samples", "unescape_line"]

_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def unescape_line(line: str) -> str:
    """Undo the four escapes of a sample line; unknown escapes are kept as written."""
    if "\\" not in line:
        return line
    return _ESCAPE.sub(lambda match: _ESCAPES.get(match.group(1), match.group()), line)


def parse_sample_lines(lines: Iterable[str]) -> list[str]:
    """The messages of a sample file: one per non-blank line, escapes undone."""
    messages = []
    for line in lines:
        stripped = line.rstrip("\r\n")
        if stripped.strip():
            messages.append(unescape_line(stripped))
    return messages


def train_from_samples(samples: Mapping[str, Iterable[str]], cfg: ClassifierConfig) -> NaiveBayes:
    """Train a model from `{file name: lines}`; the name's ending gives the label."""
    model = NaiveBayes(ngram_sizes=tuple(cfg.ngram_sizes), alpha=cfg.smoothing)
    for name, lines in samples.items():
        model.learn_many(parse_sample_lines(lines), spam=sample_is_spam(name))
    return model

"""Reading the config for a command, with every problem explained instead of a traceback, in
the language the config names."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bot.core.config import LoadedConfig, load_config
from bot.core.i18n import FALLBACK, Catalogs, Messages, supported
from bot.core.reasons import say_located
from policies.yamlsource import Problem, SourceError

_LANGUAGE_LINE = re.compile(r"^language[ \t]*[:：][ \t]*['\"]?([A-Za-z_-]+)", re.MULTILINE)
"""The top-level `language:` line, found even when the rest of the file does not parse."""


def operator_messages(loaded: LoadedConfig) -> Messages:
    """The texts the operator reads at the command line: the config's language."""
    return Messages(supported(loaded.config.language) or FALLBACK)


def languages_of_broken(path: Path) -> tuple[Messages, ...]:
    """The languages to explain a config that did not load in: the one its `language:` line
    names (English without one, as the config's own default); English and Chinese both when
    the file cannot be read as text at all, since nothing then says which the operator reads
    (a config saved as GBK is most likely a Chinese operator's)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return Catalogs.all()
    match = _LANGUAGE_LINE.search(text)
    return (Messages(supported(match.group(1) if match else None) or FALLBACK),)


def say_for_operator(messages: Messages, problem: Problem) -> str:
    """`FILE:LINE:COL: path: reason`. In English the problem's own message, which keeps
    pydantic's wording; in another language the translated reason."""
    if messages.language == FALLBACK:
        return str(problem)
    return say_located(messages, problem)


def load_or_explain(path: Path, *, warn: bool = False) -> LoadedConfig | None:
    """The config, or every problem printed to stderr as FILE:LINE:COL: path: message; with
    `warn` (`qunbot check`), the warnings about what could be read as well, so one run shows
    everything to fix."""
    from bot.cli.check import bare_durations_in, errors_for, warnings_for

    try:
        loaded = load_config(path)
    except SourceError as error:
        for messages in languages_of_broken(path):
            lines = [say_for_operator(messages, problem) for problem in error.problems]
            warnings = bare_durations_in(error.documents, messages) if warn else []
            _explain(messages, lines, path, warnings)
        return None
    messages = operator_messages(loaded)
    errors = errors_for(loaded, messages)
    if errors:
        warnings = warnings_for(loaded, messages) if warn else []
        _explain(messages, [f"{path}: {error}" for error in errors], path, warnings)
        return None
    return loaded


def _explain(
    messages: Messages, problems: list[str], path: Path, warnings: list[str] | None = None
) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)
    for warning in warnings or ():
        print(messages.tp("warning: {warning}", warning=warning), file=sys.stderr)
    print(
        messages.tnp(
            "{count} problem found; fix it and run `qunbot check {path}` again.",
            "{count} problems found; fix them and run `qunbot check {path}` again.",
            len(problems),
            path=path,
        ),
        file=sys.stderr,
    )

"""Reading the config for a command, with every problem explained instead of a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.core.config import LoadedConfig, load_config
from policies.yamlsource import SourceError


def load_or_explain(path: Path) -> LoadedConfig | None:
    """The config, or every problem printed to stderr as FILE:LINE:COL: path: message."""
    from bot.cli.check import errors_for

    try:
        loaded = load_config(path)
    except SourceError as error:
        _explain([str(problem) for problem in error.problems], path)
        return None
    errors = errors_for(loaded)
    if errors:
        _explain([f"{path}: {error}" for error in errors], path)
        return None
    return loaded


def _explain(problems: list[str], path: Path) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(problems)
    print(
        f"{count} problem{'s' if count != 1 else ''} found; fix them and run "
        f"`qunbot check {path}` again.",
        file=sys.stderr,
    )

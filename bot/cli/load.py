"""Reading the config for a command, with every problem explained instead of a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.core.config import LoadedConfig, load_config
from policies.yamlsource import SourceError


def load_or_explain(path: Path) -> LoadedConfig | None:
    """The config, or every problem printed to stderr as FILE:LINE:COL: path: message."""
    try:
        return load_config(path)
    except SourceError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        count = len(error.problems)
        print(
            f"{count} problem{'s' if count != 1 else ''} found; fix them and run "
            f"`qunbot check {path}` again.",
            file=sys.stderr,
        )
        return None

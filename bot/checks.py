"""Warnings for a valid config that will still not work the way the operator expects."""

from __future__ import annotations

from bot.config import LoadedConfig


def warnings_for(loaded: LoadedConfig) -> list[str]:
    notes = []
    config = loaded.config
    if config.staff_chat is None:
        notes.append(
            "no staff_chat: removal notices, re-invite buttons and rights alarms "
            "only go to the log"
        )
    directory = config.policies_dir
    if directory and not loaded.library.directory_exists():
        notes.append(f"policies_dir {directory!r} does not exist; only the presets are available")
    return notes

"""The words an admin may type for a command's choices: the choice itself (`on`, `soft`,
`link`), its name in either catalog (`开启`, `提醒`, `链接`), and the few other words admins
use for it (`开`, `温柔`). Which catalog names a choice does not depend on the group's
language: a Chinese admin of an English group may still type `/dryrun 开`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.core.i18n import Catalogs, Messages

ChoiceWords = Mapping[str, Iterable[str]]
"""Each choice and the words that name it."""


def choice_named(word: str, choices: ChoiceWords) -> str | None:
    """The choice `word` names, whatever its case; None if it names none."""
    folded = word.strip().casefold()
    for choice, words in choices.items():
        if folded == choice.casefold() or folded in {w.casefold() for w in words}:
            return choice
    return None


def in_every_catalog(
    message_ids: Mapping[str, str], also: ChoiceWords | None = None
) -> dict[str, list[str]]:
    """Each choice named by its catalog message in every language, and the words `also`
    gives it."""
    extra = also or {}
    return {
        choice: [*(say.tp(message_id) for say in Catalogs.all()), *extra.get(choice, ())]
        for choice, message_id in message_ids.items()
    }


def steps_in_every_catalog(steps: Iterable[str], also: ChoiceWords) -> dict[str, list[str]]:
    """Modes or ladder steps as every catalog names them (`neutral`, `踢出`), and the words
    `also` gives them."""
    return {
        step: [*(_step(say, step) for say in Catalogs.all()), *also.get(step, ())]
        for step in steps
    }


def _step(say: Messages, step: str) -> str:
    return say.step(step)

"""The message catalog: every text qunbot composes itself, in each language it speaks.

Texts are gettext messages: the English sentence in the code is the message id, and each
language has a catalog `bot/locale/<language>/LC_MESSAGES/qunbot.po` (English included, so
wording can change without touching code). Babel reads the `.po` files and compiles them in
memory; the standard `gettext.GNUTranslations` looks them up, plural forms included (CLDR rules
through the catalog's `Plural-Forms`). Placeholders are `{name}`; in HTML texts every value is
escaped like in policy templates.

`python -m bot.core.i18n_extract` (or the test that runs it) finds every message id in the code.
"""

from __future__ import annotations

import gettext
import io
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from policies.durations import FOREVER
from policies.schema import LadderStep, StepKind
from policies.texts import render

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "qunbot"
LANGUAGES = ("en", "zh")
"""The languages with a complete catalog (a test keeps them complete)."""
FALLBACK = "en"


def N_(message: str) -> str:
    """Marks a message id kept in a table, translated where it is shown."""
    return message


STEP_NAMES = {
    StepKind.SOFT: N_("soft"),
    StepKind.NEUTRAL: N_("neutral"),
    StepKind.HARD: N_("hard"),
    StepKind.MUTE: N_("mute"),
}
_UNITS = (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def supported(language: str | None) -> str | None:
    """The catalog language for a policy or config value (`zh-Hans` → `zh`), or None."""
    if not language:
        return None
    base = language.split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else None


@cache
def _translations(language: str) -> gettext.GNUTranslations:
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@dataclass(frozen=True, slots=True)
class Messages:
    """The texts of one language. `t`/`tn` give HTML (values escaped), `tp`/`tnp` plain
    text (chart labels, command menus, button captions)."""

    language: str

    @property
    def _gettext(self) -> gettext.GNUTranslations:
        return _translations(self.language)

    def t(self, message: str, /, **values: object) -> str:
        return render(self._gettext.gettext(message), values)

    def tp(self, message: str, /, **values: object) -> str:
        return self._gettext.gettext(message).format_map(values)

    def tn(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        return render(self._gettext.ngettext(singular, plural, count), {"count": count, **values})

    def tnp(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        text = self._gettext.ngettext(singular, plural, count)
        return text.format_map({"count": count, **values})

    def duration(self, seconds: float) -> str:
        """A duration the way `policies.durations` spells it (the largest unit that divides it
        exactly, else unit by unit), with the language's unit names: `6h`/`6 小时`,
        `30d`/`30 天`, `2m 5s`/`2 分钟 5 秒`; `forever` for FOREVER."""
        if seconds >= FOREVER:
            return self.tp("forever")
        left = max(0, round(seconds))
        for unit, size in _UNITS[:-1]:
            if left >= size and left % size == 0:
                return self._unit(unit, left // size)
        parts = []
        for unit, size in _UNITS:
            count, left = divmod(left, size)
            if count:
                parts.append(self._unit(unit, count))
        return " ".join(parts) or self._unit("s", 0)

    def _unit(self, unit: str, count: int) -> str:
        if unit == "w":
            return self.tnp("{count} week", "{count} weeks", count)
        if unit == "d":
            return self.tnp("{count} day", "{count} days", count)
        if unit == "h":
            return self.tnp("{count} hour", "{count} hours", count)
        if unit == "m":
            return self.tnp("{count} minute", "{count} minutes", count)
        return self.tnp("{count} second", "{count} seconds", count)

    def step(self, step: LadderStep | str) -> str:
        """A ladder step or mode in words: `neutral`/`踢出`, `mute 1 day`/`禁言 1 天`."""
        if isinstance(step, str):
            step = LadderStep.model_validate(step)
        if step.kind is StepKind.MUTE and step.duration == FOREVER:
            return self.tp("mute for good")
        if step.kind is StepKind.MUTE and step.duration is not None:
            return self.tp("mute {duration}", duration=self.duration(step.duration))
        return self.tp(STEP_NAMES[step.kind])

    def ladder(self, steps: Iterable[LadderStep]) -> str:
        return " → ".join(self.step(step) for step in steps)

    def listing(self, items: Iterable[str]) -> str:
        """Items joined the way the language lists them (`a, b` / `a、b`)."""
        return self.tp(", ").join(items)


class Catalogs:
    """Which language each place speaks: a group its policy's (or `/lang`), the staff chat and
    everything else the config's."""

    def __init__(self, default_language: str) -> None:
        self.default = Messages(supported(default_language) or FALLBACK)

    def get(self, language: str | None) -> Messages:
        chosen = supported(language)
        return Messages(chosen) if chosen else self.default

    @staticmethod
    def all() -> tuple[Messages, ...]:
        return tuple(Messages(language) for language in LANGUAGES)


def placeholders(text: str) -> set[str]:
    """The `{name}` placeholders of a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}

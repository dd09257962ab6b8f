"""Keeps the catalogs in step with the code: `python -m bot.core.i18n_extract`.

Babel's extractor finds every message id in `bot/` and `handlers/` (the calls `t`, `tp`, `tn`,
`tnp` and the marker `N_`) and in `policies/` (the reasons a value is refused: `Invalid` and
its subclasses, whose first argument is a message id); each catalog is then merged with them
like `msgmerge` does. English
messages are their own translation; a new message in another language is left empty (and the
completeness test fails) until someone translates it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.core.i18n import DOMAIN, LANGUAGES, catalog_path

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = ("bot", "handlers", "policies")
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "t": None,
    "tp": None,
    "tn": (1, 2),
    "tnp": (1, 2),
    "N_": None,
    "Invalid": None,
    "DurationError": None,
    "PatternError": None,
}
SOURCE_LANGUAGE = "en"
MessageId = str | tuple[str, str]


def extracted() -> dict[MessageId, list[str]]:
    """Every message id in the code, with where it is used (`file:line`)."""
    found: dict[MessageId, list[str]] = {}
    for source in SOURCES:
        for file, line, message, _comments, _context in extract_from_dir(
            ROOT / source,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
        ):
            key: MessageId = message if isinstance(message, str) else (message[0], message[1])
            found.setdefault(key, []).append(f"{source}/{file}:{line}")
    return found


def read_catalog(language: str) -> Catalog:
    path = catalog_path(language)
    if not path.exists():
        return Catalog(
            locale=language, domain=DOMAIN, project="qunbot", fuzzy=False, msgid_bugs_address=""
        )
    with path.open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


def template(found: dict[MessageId, list[str]]) -> Catalog:
    """A fresh template (merging takes its messages over, so each catalog needs its own)."""
    catalog = Catalog(domain=DOMAIN, project="qunbot")
    for message in sorted(found, key=str):
        catalog.add(message)
    return catalog


def update(language: str, pot: Catalog) -> Catalog:
    catalog = read_catalog(language)
    catalog.update(pot, no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    catalog.header_comment = (
        f"# qunbot's messages in {language}: translate each msgstr, keep the {{placeholders}}.\n"
        "# Update with: python -m bot.core.i18n_extract"
    )
    catalog.last_translator = catalog.language_team = "qunbot contributors"
    catalog.msgid_bugs_address = ""
    catalog.version = ""
    if language == SOURCE_LANGUAGE:
        for message in catalog:
            if message.id and not _translated(message.string):
                message.string = message.id
    return catalog


def _translated(string: str | tuple[str, ...] | list[str] | None) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def write(language: str, catalog: Catalog) -> Path:
    path = catalog_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po:
        write_po(po, catalog, width=99, sort_output=True, no_location=True, include_previous=False)
    return path


def main() -> int:
    found = extracted()
    for language in LANGUAGES:
        catalog = update(language, template(found))
        path = write(language, catalog)
        missing = [m.id for m in catalog if m.id and not _translated(m.string)]
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

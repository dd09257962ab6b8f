"""Finding English prose where a chat should read in another language."""

from __future__ import annotations

import re

ENGLISH_PHRASE = re.compile(r"[A-Za-z][A-Za-z'’]+(?:[ ,;:!?.\-]+[A-Za-z][A-Za-z'’]+){2,}")
"""Three or more English words in a row (words of two letters or more, separated by spaces or
punctuation): "will be kicked", "Ban users, Invite". Identifiers like `contact.wechat` and
URLs are cut out first."""
NOT_PROSE = re.compile(
    r"https?://\S+|t\.me/\S+|tg://\S+|@\w+|</?[a-z]+[^>]*>|&[a-z]+;|\b\w+(?:\.\w+)+\b|/\w+"
)
"""Links, @usernames, HTML tags and entities, dotted identifiers and /commands."""


def english_phrases(text: str) -> list[str]:
    """The English phrases of three or more words in a text."""
    cleaned = NOT_PROSE.sub(" | ", text)
    return [match.group(0) for match in ENGLISH_PHRASE.finditer(cleaned)]

"""Finding English prose where a chat should read in another language."""

from __future__ import annotations

import re
import sys

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


BOT_LINE = re.compile(r"^\[[^\]]+\] 🤖 qunbot(?: edited)? ")
CAPTION_LINE = re.compile(r"^ {6}\S")


def bot_lines(transcript: str) -> list[str]:
    """What the bot says in a `qunbot simulate` transcript: its messages, edits and button
    answers (with their buttons) and the captions under its photos; the simulator's own
    framing (notes, `joined`, `deleted #3`, the summary) is left out."""
    lines, in_caption = [], False
    for line in transcript.splitlines():
        if BOT_LINE.match(line):
            in_caption = "🖼" in line
            if not in_caption:  # a photo's line names the file it was saved to
                lines.append(BOT_LINE.sub("", line))
        elif in_caption and CAPTION_LINE.match(line):
            lines.append(line.strip())
        else:
            in_caption = False
    return lines


def main(argv: list[str]) -> int:
    """`python -m tests.english TRANSCRIPT`: print each bot line holding an English phrase."""
    import pathlib

    text = pathlib.Path(argv[0]).read_text(encoding="utf-8") if argv else sys.stdin.read()
    said = bot_lines(text)
    found = [(line, english_phrases(line)) for line in said]
    for line, phrases in found:
        if phrases:
            print(f"{phrases}: {line}")
    bad = sum(1 for _, phrases in found if phrases)
    print(f"{len(said)} bot lines, {bad} with an English phrase of three or more words")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

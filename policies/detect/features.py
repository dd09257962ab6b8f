"""What the linear models see of a message: character n-grams and tokens of its normalized text.

Chinese has no spaces between words, so the text is cut into overlapping character n-grams
(1 to 3 characters) instead of being segmented. Before that, every run of digits becomes "0",
every run of Latin letters "a" and every run of white space one space: the n-grams then describe
the shape around a number or an id ("加0", "a0"), and the Latin words are taken whole as tokens.
Chinese characters are also paired across whatever stands between them ("岛.国" gives a pair),
so fillers do not hide the words (pairs and whole words carry a control-character prefix, so
they never collide with an n-gram). Numbers count by their length ("#11"); characters used to dodge
filters (full-width, zero-width, mathematical letters) count by kind, since normalization hides
them.

Each feature counts once per message. Both the training and the live scorer call `features`,
so what the model learned and what it reads are the same by construction; `FEATURES_VERSION`
names this recipe in the model file, and a model of another version is refused.
"""

from __future__ import annotations

import operator
import re

from policies.detect.homophones import CJK
from policies.detect.normalize import Normalized

__all__ = ["FEATURES_VERSION", "MAX_CHARACTERS", "disguise_kinds", "features"]

FEATURES_VERSION = "ngrams-1-3+cjk-pairs+tokens/2"
MAX_CHARACTERS = 300
"""Only the start of a long message is read: it says what the message is, and the cost of
scoring stays bounded (a 4,000-character paste costs what a 300-character one does)."""

_DIGITS = re.compile(r"[0-9]+")
_LATIN = re.compile(r"[a-z]+")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]{2,}")
_NOT_CJK = re.compile(f"[^{CJK}]+")
_PAIR = "\x01{}{}"
_WORD_PREFIX = "\x02"
_MAX_NUMBER_LENGTH = 12
_NUMBER = re.compile(f"[0-9]{{1,{_MAX_NUMBER_LENGTH}}}")
_NUMBER_FEATURES = tuple(f"#{length}" for length in range(_MAX_NUMBER_LENGTH + 1))
_DISGUISES = {
    "fullwidth": "\uff01-\uff5e",
    "invisible": "\u00ad\u034f\u180e\u200b-\u200f\u2060-\u2064\ufeff",
    "math": "\U0001d400-\U0001d7ff",
    "enclosed": "\u2460-\u24ff\u2776-\u2793\U0001f100-\U0001f1ff",
    "combining": "\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff",
    "odd": "\u1680-\u16ff\u2100-\u214f",
}
_DISGUISE = re.compile("[" + "".join(_DISGUISES.values()) + "]")
_DISGUISE_KINDS = tuple(
    (re.compile(f"[{chars}]"), f"<{name}>") for name, chars in _DISGUISES.items()
)


def features(norm: Normalized) -> set[str]:
    """The distinct features of one normalized message."""
    text = norm.text[:MAX_CHARACTERS]
    shaped = "^" + _SPACES.sub(" ", _LATIN.sub("a", _DIGITS.sub("0", text))) + "$"
    found = set(shaped)
    pairs = list(map(operator.add, shaped, shaped[1:]))
    found.update(pairs)
    found.update(map(operator.add, pairs, shaped[2:]))
    if not text.isascii():
        chinese = _NOT_CJK.sub("", text)
        if 1 < len(chinese) < len(text):
            found.update(map(_PAIR.format, chinese, chinese[1:]))
    found.update(map(_WORD_PREFIX.__add__, _WORD.findall(text)))
    if "0" in shaped:
        found.update(map(_NUMBER_FEATURES.__getitem__, map(len, _NUMBER.findall(text))))
    found.update(disguise_kinds(norm.original))
    return found


def disguise_kinds(original: str) -> list[str]:
    """The kinds of characters only someone dodging a filter types, found in the original text
    (normalization hides them, so models are told about them separately)."""
    if original.isascii() or not _DISGUISE.search(original):
        return []
    return [name for kind, name in _DISGUISE_KINDS if kind.search(original)]

"""What the linear models see of a message: characters, character pairs and tokens.

Chinese has no spaces between words, so the text is cut into single characters and overlapping
pairs of characters instead of being segmented (most Chinese words are two characters long;
three-character n-grams cost half as much again to read and were measured to add little), plus
how the message opens and closes: its first two characters after "^" and its last two before
"$". Before that, every digit becomes "0", every Latin letter "a" and every white space
character a space: the n-grams then describe the shape around a number or an id ("加0", "a0"),
while Latin, Cyrillic and Greek words are taken whole as tokens (with a control-character
prefix, so they never collide with an n-gram). Numbers count by their length ("#11");
characters used to dodge filters (full-width, zero-width, mathematical letters) count by kind,
since normalization hides them, and so does a word that still mixes Latin and Cyrillic letters
once normalization has read its look-alikes as Latin ("<look-alike>", a Russian spammer's
trick). Fillers between Chinese characters need no features of their
own: normalization already removes them.

Each feature counts once per message. Both the training and the live scorer call the recipe a
model file names, so what the model learned and what it reads are the same by construction.
`FEATURES_VERSION` names the current recipe; `READERS` keeps the earlier ones for model files
trained on it, and a model naming any other recipe is refused.

The recipe runs on every message of every group, so it is built for speed as much as for
accuracy: one pass per kind of feature, each in C (`translate`, `map`, one regex), and only the
start of a long message.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

from policies.detect.homophones import CJK
from policies.detect.normalize import Normalized

__all__ = [
    "FEATURES_VERSION",
    "MAX_CHARACTERS",
    "READERS",
    "Reader",
    "disguise_kinds",
    "features",
    "reader",
]

Reader = Callable[[Normalized], set[str]]

FEATURES_VERSION = "shaped-ngrams-1-2+ends+tokens+look-alikes/4"
MAX_CHARACTERS = 300
"""Only the start of a long message is read: it says what the message is, and the cost of
scoring stays bounded (a 4,000-character paste costs what a 300-character one does)."""

_SPACE_CHARACTERS = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2028\u2029\u3000"
_SHAPES = str.maketrans(
    {
        **dict.fromkeys("0123456789", "0"),
        **dict.fromkeys("abcdefghijklmnopqrstuvwxyz", "a"),
        **dict.fromkeys(_SPACE_CHARACTERS, " "),
    }
)
# `str.translate` is fast only on ASCII text; elsewhere one regex per class is, and a text with
# nothing to shape (most Chinese chat) is left as it is after one search.
_SHAPEABLE = re.compile(f"[0-9a-z{_SPACE_CHARACTERS}]")
_DIGIT = re.compile("[0-9]")
_LETTER = re.compile("[a-z]")
_SPACE = re.compile(f"[{_SPACE_CHARACTERS}]")
_WORD = re.compile(r"[a-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]{2,}")
_WORD_PREFIX = "\x02"
_MAX_NUMBER_LENGTH = 12
_NUMBER = re.compile(f"[0-9]{{1,{_MAX_NUMBER_LENGTH}}}")
_NUMBER_FEATURES = tuple(f"#{length}" for length in range(_MAX_NUMBER_LENGTH + 1))
_DISGUISES = {
    "fullwidth": ((0xFF01, 0xFF5E),),
    "invisible": (
        (0x00AD, 0x00AD),
        (0x034F, 0x034F),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x2060, 0x2064),
        (0xFEFF, 0xFEFF),
    ),
    "math": ((0x1D400, 0x1D7FF),),
    "enclosed": ((0x2460, 0x24FF), (0x2776, 0x2793), (0x1F100, 0x1F1FF)),
    "combining": ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x20D0, 0x20FF)),
    "odd": ((0x1680, 0x16FF), (0x2100, 0x214F)),
}
"""Each kind of filter-dodging character, as ranges of code points."""
_KIND_OF = {
    chr(point): f"<{name}>"
    for name, ranges in _DISGUISES.items()
    for first, last in ranges
    for point in range(first, last + 1)
}
_DISGUISE = re.compile(
    "["
    + "".join(
        f"{chr(first)}-{chr(last)}" for ranges in _DISGUISES.values() for first, last in ranges
    )
    + "]"
)
_MIXED = re.compile("[a-z][\u0400-\u04ff]|[\u0400-\u04ff][a-z]")
"""A Latin letter beside a Cyrillic one inside a word: normalization reads the Cyrillic
look-alikes of such a word as Latin, and what is left mixed was typed to dodge a filter."""
LOOK_ALIKE = "<look-alike>"
_add = operator.add


def features(norm: Normalized) -> set[str]:
    """The distinct features of one normalized message (the current recipe)."""
    return _shaped_ngrams(norm, look_alikes=True)


def features_without_look_alikes(norm: Normalized) -> set[str]:
    """The earlier recipe, kept for model files trained on it: the same without `<look-alike>`."""
    return _shaped_ngrams(norm, look_alikes=False)


def _shaped_ngrams(norm: Normalized, *, look_alikes: bool) -> set[str]:
    text = norm.text[:MAX_CHARACTERS]
    shaped = "^" + _shaped(text) + "$"
    characters = list(shaped)  # each Chinese character becomes a string once, not three times
    found = {*characters, *map(_add, characters, characters[1:]), shaped[:3], shaped[-3:]}
    if "a" in shaped or not text.isascii():
        words = _WORD.findall(text)
        found.update(map(_WORD_PREFIX.__add__, words))
        if look_alikes and words and not text.isascii() and _MIXED.search(" ".join(words)):
            found.add(LOOK_ALIKE)
    if "0" in shaped:
        found.update(map(_NUMBER_FEATURES.__getitem__, map(len, _NUMBER.findall(text))))
    if not norm.original.isascii():
        found.update(disguise_kinds(norm.original))
    return found


def _shaped(text: str) -> str:
    """Every digit as "0", every Latin letter as "a", every white space as a space."""
    if text.isascii():
        return text.translate(_SHAPES)
    if _SHAPEABLE.search(text) is None:
        return text
    return _SPACE.sub(" ", _LETTER.sub("a", _DIGIT.sub("0", text)))


def disguise_kinds(original: str) -> set[str]:
    """The kinds of characters only someone dodging a filter types, found in the original text
    (normalization hides them, so models are told about them separately).

    Chinese punctuation is full-width, so most Chinese messages hold one: one regex pass finds
    every such character and a table names its kind, rather than a pass per kind."""
    if original.isascii():
        return set()
    return set(map(_KIND_OF.__getitem__, _DISGUISE.findall(original)))


_LATIN_RUNS = re.compile(r"[a-z]+")
_DIGIT_RUNS = re.compile(r"[0-9]+")
_SPACE_RUNS = re.compile(r"\s+")
_NOT_CJK = re.compile(f"[^{CJK}]+")
_PAIR = "\x01{}{}"
_PAIRS_MAX_CHARACTERS = 300


def features_with_pairs(norm: Normalized) -> set[str]:
    """The earlier recipe, kept for model files trained on it: runs of digits, letters and
    spaces shaped as one character each, and Chinese characters also paired across whatever
    stands between them."""
    text = norm.text[:_PAIRS_MAX_CHARACTERS]
    shaped = "^" + _SPACE_RUNS.sub(" ", _LATIN_RUNS.sub("a", _DIGIT_RUNS.sub("0", text))) + "$"
    found = set(shaped)
    pairs = list(map(_add, shaped, shaped[1:]))
    found.update(pairs)
    found.update(map(_add, pairs, shaped[2:]))
    if not text.isascii():
        chinese = _NOT_CJK.sub("", text)
        if 1 < len(chinese) < len(text):
            found.update(map(_PAIR.format, chinese, chinese[1:]))
    found.update(map(_WORD_PREFIX.__add__, _WORD.findall(text)))
    if "0" in shaped:
        found.update(map(_NUMBER_FEATURES.__getitem__, map(len, _NUMBER.findall(text))))
    found.update(disguise_kinds(norm.original))
    return found


READERS: dict[str, Reader] = {
    FEATURES_VERSION: features,
    "shaped-ngrams-1-2+ends+tokens/3": features_without_look_alikes,
    "ngrams-1-3+cjk-pairs+tokens/2": features_with_pairs,
}
"""Every recipe a model file may name, by the name it is stored under."""


def reader(version: str) -> Reader:
    """The recipe a model file names; raises ValueError for one this qunbot does not know."""
    found = READERS.get(version)
    if found is None:
        known = ", ".join(repr(name) for name in READERS)
        raise ValueError(
            f"the model was trained on features {version!r}, this qunbot reads {known}: "
            "run `qunbot train` again"
        )
    return found

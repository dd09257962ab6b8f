"""Fold the tricks spammers use to dodge filters, keeping a map back to the original text.

Detectors match on `Normalized.text` and quote `Normalized.original_span(...)` as evidence, so
an admin sees what the member actually wrote ("pin duo duo 点 com"), not the folded form.

Folding happens in two stages:

1. Per character: NFKC (full-width and mathematical letters to ASCII), case folding, removal of
   invisible characters (zero-width, BOM, variation selectors, combining marks), traditional
   Chinese characters to simplified ones (OpenCC's character table) and a table of look-alikes
   NFKC leaves alone (circled and parenthesised digits, small capitals). Cyrillic and Greek
   look-alikes are folded only inside words that also hold Latin letters or digits, so Russian
   or Greek prose is left readable.
2. Rewrites in context: fillers between single Chinese characters ("岛.国.著.名"), Chinese
   numerals standing in for a number ("一三八..."), separators, emoji and filler symbols inside a
   number ("138 0013 8000", "1716❤776965"), QQ and WeChat written as aliases or homophones
   before an id (企鹅, 🐧, 扣扣, 口口, 薇, 喂, 威, 佳喂, 微❤信; `homophones` lists them), and the
   words or marks written for a dot before a top-level domain ("点 com", "[.]", "dot").

`folds_applied` names the rules that changed a message, for the verdict to explain itself.

Most messages need neither stage's slow path: the first is one `str.translate` when no
character changes length, the second is skipped when one trigger search finds nothing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from policies.detect.homophones import (
    CJK,
    traditional_to_simplified,
)
from policies.verdict import slot_setters

__all__ = ["Normalized", "folds_applied", "normalize"]

_INVISIBLE_CATEGORIES = frozenset({"Mn", "Me", "Cf"})

# Blocks whose characters can change under folding. CJK ideographs, Hangul syllables,
# surrogates and private use never change, so skipping them keeps the table small.
_FOLD_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x33FF),
    (0xA000, 0xABFF),
    (0xF900, 0xFFFF),
    (0x1D400, 0x1D7FF),
    (0x1F100, 0x1F1FF),
    (0x1FBF0, 0x1FBF9),
    (0x2F800, 0x2FA1F),
    (0xE0000, 0xE01EF),
)

# Look-alikes that NFKC does not fold. Each maps to what a reader would read.
_DIGIT_RUNS: tuple[tuple[int, str], ...] = (
    (0x2474, "(1)(2)(3)(4)(5)(6)(7)(8)(9)(10)"),  # ⑴..⑽ parenthesised
    (0x2776, "1 2 3 4 5 6 7 8 9 10"),  # ❶..❿ dingbat negative circled
    (0x2780, "1 2 3 4 5 6 7 8 9 10"),  # ➀..➉ dingbat circled sans-serif
    (0x278A, "1 2 3 4 5 6 7 8 9 10"),  # ➊..➓ dingbat negative circled sans-serif
    (0x24F5, "1 2 3 4 5 6 7 8 9 10"),  # ⓵..⓾ double circled
    (0x24EB, "11 12 13 14 15 16 17 18 19 20"),  # ⓫..⓴ negative circled
)
_SMALL_CAPITALS = "ᴀaʙbᴄcᴅdᴇeꜰfɢgʜhɪiᴊjᴋkʟlᴍmɴnᴏoᴘpǫqʀrꜱsᴛtᴜuᴠvᴡwʏyᴢzɑaɡgıiꞯq"
_EXTRA_FOLDS: dict[str, str] = {
    "⓿": "0",
    "⓪": "0",
    "\u3164": " ",  # Hangul filler, an invisible "blank" letter
    "\u2800": " ",  # Braille blank
    "\u115f": " ",
    "\u1160": " ",
    "\uffa0": " ",
}

# Cyrillic and Greek letters (after case folding) that look like Latin ones.
_HOMOGLYPH_PAIRS = (
    "аa вb гr дd еe ёe һh іi їi јj кk ӏl мm нh оo пn рp ԛq ѕs тt уy үy хx цu ьb ԝw сc ѵv "
    "αa βb εe ηn ιi κk νv οo ρp τt υu χx γy ωw ϲc"
)
_HOMOGLYPHS = str.maketrans({pair[0]: pair[1] for pair in _HOMOGLYPH_PAIRS.split()})
_SPACED_SCRIPTS = "a-z0-9\u0370-\u03ff\u0400-\u04ff"
_SCRIPT_WORD = re.compile(f"[{_SPACED_SCRIPTS}]{{2,}}")
_HAS_HOMOGLYPH = re.compile("[" + "".join(pair[0] for pair in _HOMOGLYPH_PAIRS.split()) + "]")
_LATIN_OR_DIGIT = re.compile("[a-z0-9]")


def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).casefold()
    return "".join(c for c in folded if unicodedata.category(c) not in _INVISIBLE_CATEGORIES)


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for first, last in _FOLD_RANGES:
        for code in range(first, last + 1):
            char = chr(code)
            folded = _fold_char(char)
            if folded != char:
                table[code] = folded
    for first, words in _DIGIT_RUNS:
        for offset, word in enumerate(words.replace("(", " ").replace(")", " ").split()):
            table[first + offset] = word
    for index in range(0, len(_SMALL_CAPITALS), 2):
        table[ord(_SMALL_CAPITALS[index])] = _SMALL_CAPITALS[index + 1]
    for char, folded in _EXTRA_FOLDS.items():
        table[ord(char)] = folded
    for traditional, simplified in _SIMPLIFIED.items():
        table.setdefault(ord(traditional), simplified)
    return table


def _char_class(codes: Iterable[int]) -> str:
    """A regex character class for a set of code points, as ranges."""
    parts: list[str] = []
    ordered = sorted(codes)
    start = previous = ordered[0]
    for code in [*ordered[1:], -2]:
        if code == previous + 1:
            previous = code
            continue
        parts.append(re.escape(chr(start)))
        if previous > start:
            parts.append("-" + re.escape(chr(previous)))
        start = previous = code
    return "[" + "".join(parts) + "]"


_SIMPLIFIED = traditional_to_simplified()
_FOLD_TABLE = _build_fold_table()
_RESIZING = re.compile(_char_class(code for code, out in _FOLD_TABLE.items() if len(out) != 1))

# Most messages hold only characters of the basic multilingual plane. For them the fold
# table is also a list indexed by code point (an int stands for the character itself):
# `str.translate` looks up a list twice as fast as a dict, where every character the
# table leaves alone costs a failed look-up. A character class is one bitmap test per
# character only within that plane, so the classes below keep the rest to one range.
_BMP_END = 0x10000
_BMP_FOLD_TABLE: list[str | int] = [_FOLD_TABLE.get(code, code) for code in range(_BMP_END)]
_BMP_RESIZING = re.compile(
    _char_class(code for code, out in _FOLD_TABLE.items() if len(out) != 1 and code < _BMP_END)
)
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")
_FOLDED_OR_BEYOND_BMP = re.compile(
    _char_class(
        [
            *(code for code in _FOLD_TABLE if code < _BMP_END),
            *(ord(pair[0]) for pair in _HOMOGLYPH_PAIRS.split()),
        ]
    ).removesuffix("]")
    + "\U00010000-\U0010ffff]"
)
"""A character that folding changes, a homoglyph, or one beyond the plane."""

# Stage 2: rewrites in context.
_CN_DIGITS = "零〇一二三四五六七八九壹贰貳叁參肆伍陆陸柒捌玖两兩幺"
_CN_DIGIT_VALUES = str.maketrans(_CN_DIGITS, "00123456789122334566789221")
# Emoji, dingbats, runes and other symbols are fillers too: "1716❤776965", "1716776965ᚰ".
_FILLER_SYMBOLS = "\u1680-\u16ff\u2190-\u21ff\u2600-\u27bf\u2b00-\u2bff\U0001f300-\U0001faff"
_NUMBER_SEPARATORS = rf"[ \t\-_~·・*|+√◌、,.={_FILLER_SYMBOLS}]"
_CN_NUMBER = re.compile(
    rf"(?:[0-9]{_NUMBER_SEPARATORS}{{0,2}}){{0,12}}[{_CN_DIGITS}]"
    rf"(?:{_NUMBER_SEPARATORS}{{0,2}}[0-9{_CN_DIGITS}]){{2,}}"
)
_MIN_CN_NUMBER_DIGITS = 5
# A separator after a digit: "(?<=[0-9])" written after the first separator, so that the
# pattern starts with a class `re` can skip ahead with.
_DIGIT_GAP = re.compile(rf"{_NUMBER_SEPARATORS}(?<=[0-9].){_NUMBER_SEPARATORS}{{0,2}}(?=[0-9])")
_DECIMAL_TAIL = re.compile(r"[0-9]{1,2}(?![0-9])")
_ID_WINDOW = 33
_LETTER_BEFORE_DIGITS = re.compile(r"[a-z][0-9]{1,32}$")
_LETTER_AFTER_DIGITS = re.compile(r"[0-9]{1,32}[a-z]")

# Top-level domains that spammers spell out; a dot word is only read as "." before one of these.
_SPELLED_DOT_TLD_WORDS = (
    "com net org cn cc top xyz vip me io co info biz shop club site online app ltd tk icu hk tw "
    "link live"
)
SPELLED_DOT_TLDS = tuple(_SPELLED_DOT_TLD_WORDS.split())
_DOT_WORD = re.compile(
    r"(?<=[a-z0-9])[ ]{0,3}"
    r"(?:点|點|。|[\[({<][ ]{0,2}(?:\.|dot|点)[ ]{0,2}[\])}>]|(?<= )dot(?= ))"
    rf"[ ]{{0,3}}(?=(?:{'|'.join(SPELLED_DOT_TLDS)})(?![a-z]))"
)
# What every match of `_DOT_WORD` holds, led by a literal: a dot word and a domain after it.
# "点" and "。" alone are common in Chinese text, so the domain after them must be tested too.
_TLD_AFTER = rf"[ ]{{0,3}}(?:{'|'.join(SPELLED_DOT_TLDS)})(?![a-z])"
_DOT_WORD_MARKS = [
    *[f"{word}{_TLD_AFTER}" for word in ("点", "點", "。", "dot")],
    *[rf"\{bracket}[ ]{{0,2}}(?:\.|dot|点)[ ]{{0,2}}[\])}}>]{_TLD_AFTER}" for bracket in "[({<"],
]
# Fillers between single Chinese characters ("岛.国.著.名", "私~信"): three characters or more.
_CJK_FILLERS = " -~*.·/|_\\—=+^"
_CJK_FILLER = f"[{re.escape(_CJK_FILLERS)}]"
_SPACED_CJK = re.compile(rf"[{CJK}](?:{_CJK_FILLER}{{1,3}}[{CJK}]){{2,}}")
_CJK_FILLER_RUN = re.compile(f"{_CJK_FILLER}+")
# A number split in two by a QQ or WeChat letter: "29526 q 77544" is "q 2952677544".
_ALIAS_SPLIT_NUMBER = re.compile(
    rf"(?<![0-9])([0-9]{{3,12}}){_NUMBER_SEPARATORS}{{0,2}}(qq|q|vx|v)"
    rf"{_NUMBER_SEPARATORS}{{0,2}}([0-9]{{3,12}})(?![0-9])"
)
# `_SPACED_CJK`, led by its first filler rather than by a Chinese character (almost every
# character of a Chinese text), to test whether it occurs.
_SPACED_CJK_BY_FILLER = [
    rf"{re.escape(filler)}(?<=[{CJK}].){_CJK_FILLER}{{0,2}}[{CJK}](?:{_CJK_FILLER}{{1,3}}[{CJK}])+"
    for filler in _CJK_FILLERS
]
# Cheap test for "a rewrite may apply". Every alternative starts with a literal character,
# which lets `re` skip straight to the candidate positions.
_REWRITE_TRIGGER = re.compile(
    "|".join(
        [
            *[
                rf"{char}{_NUMBER_SEPARATORS}{{0,2}}[0-9{_CN_DIGITS}]"
                rf"{_NUMBER_SEPARATORS}{{0,2}}[0-9{_CN_DIGITS}]"
                for char in _CN_DIGITS
            ],
            *[rf"{digit}{_NUMBER_SEPARATORS}{{1,3}}[0-9]" for digit in "0123456789"],
            *[rf"{digit}{_NUMBER_SEPARATORS}{{0,2}}[qv]" for digit in "0123456789"],
            *_DOT_WORD_MARKS,
            *_SPACED_CJK_BY_FILLER,
        ]
    )
)


@dataclass(frozen=True, slots=True, init=False)
class Normalized:
    """A message folded for matching, with the way back to what was written."""

    original: str
    text: str
    """Folded and case-folded text that detectors match against."""
    starts: tuple[int, ...] | None = None
    """For each character of `text`, where its source starts in `original`; None: identity."""
    ends: tuple[int, ...] | None = None
    """For each character of `text`, where its source ends in `original`; None: identity."""
    rewrites: tuple[str, ...] = ()
    """What the rewrites in context changed, as sentences (see `folds_applied`)."""

    def __init__(
        self,
        original: str,
        text: str,
        starts: tuple[int, ...] | None = None,
        ends: tuple[int, ...] | None = None,
        rewrites: tuple[str, ...] = (),
    ) -> None:
        set_original, set_text, set_starts, set_ends, set_rewrites = _NORMALIZED_FIELDS
        set_original(self, original)
        set_text(self, text)
        set_starts(self, starts)
        set_ends(self, ends)
        set_rewrites(self, rewrites)

    def original_span(self, start: int, end: int) -> str:
        """The part of the original text that became `text[start:end]`."""
        if self.starts is None or self.ends is None:
            return self.original[start:end]
        end = min(end, len(self.text))
        if start >= end:
            return ""
        return self.original[self.starts[start] : self.ends[end - 1]]


_NORMALIZED_FIELDS = slot_setters(Normalized, "original", "text", "starts", "ends", "rewrites")


@functools.lru_cache(maxsize=256)
def normalize(text: str) -> Normalized:
    """Fold `text` for matching; see the module docstring for what is folded."""
    if text.isascii():
        folded, starts, ends = text.lower(), None, None
    else:
        found = _FOLDED_OR_BEYOND_BMP.search(text)
        if found is None:
            folded, starts, ends = text, None, None
        elif _BEYOND_BMP.search(text, found.start()) is None:
            folded, starts, ends = _fold(text, _BMP_FOLD_TABLE, _BMP_RESIZING)
        else:
            folded, starts, ends = _fold(text, _FOLD_TABLE, _RESIZING)
    if _REWRITE_TRIGGER.search(folded) is None:
        return Normalized(text, folded, _freeze(starts), _freeze(ends))
    return _apply_rewrites(text, folded, starts, ends)


def _apply_rewrites(
    original: str, folded: str, starts: list[int] | None, ends: list[int] | None
) -> Normalized:
    applied: list[str] = []
    for pattern, replace, sentence, may_apply in _REWRITES:
        if may_apply is not None and may_apply.search(folded) is None:
            continue
        before = folded
        folded, starts, ends = _rewrite(folded, starts, ends, pattern, replace)
        if folded != before:
            applied.append(sentence)
    return Normalized(original, folded, _freeze(starts), _freeze(ends), tuple(applied))


_CHARACTER_FOLDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "full-width letters and digits read as plain ones",
        re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"),
    ),
    ("mathematical letters read as plain ones", re.compile("[\U0001d400-\U0001d7ff]")),
    (
        "circled and enclosed digits read as plain ones",
        re.compile("[\u2460-\u24ff\u2776-\u2793\U0001f100-\U0001f1ff]"),
    ),
    (
        "invisible characters removed",
        re.compile("[\u00ad\u034f\u180e\u200b-\u200f\u2060-\u2064\ufeff\ufe00-\ufe0f]"),
    ),
)


# Searched only when `_MAY_HAVE_CHARACTER_FOLDS` finds a candidate: one bitmap test per
# character for the common plane (see `_BMP_END`).
_TRADITIONAL_BMP = _char_class(ord(char) for char in _SIMPLIFIED if ord(char) < _BMP_END)
_TRADITIONAL = re.compile(
    "|".join(
        [_TRADITIONAL_BMP, _char_class(ord(char) for char in _SIMPLIFIED if ord(char) >= _BMP_END)]
    )
)
_MAY_HAVE_CHARACTER_FOLDS = re.compile(
    "["
    + "".join(pattern.pattern[1:-1] for _, pattern in _CHARACTER_FOLDS)
    + _TRADITIONAL_BMP[1:-1]
    + "\U00010000-\U0010ffff]"
)


def folds_applied(norm: Normalized) -> tuple[str, ...]:
    """What normalization changed in this message, one sentence per rule that applied.

    Worked out only when a verdict needs explaining, so the hot path pays nothing for it.
    """
    original = norm.original
    if original.isascii() or _MAY_HAVE_CHARACTER_FOLDS.search(original) is None:
        return norm.rewrites
    found = [sentence for sentence, pattern in _CHARACTER_FOLDS if pattern.search(original)]
    if _TRADITIONAL.search(original) is not None:
        found.append("traditional characters read as simplified ones")
    return (*found, *norm.rewrites)


def _freeze(offsets: list[int] | None) -> tuple[int, ...] | None:
    return None if offsets is None else tuple(offsets)


FoldTable = dict[int, str] | list[str | int]


def _fold(
    text: str, table: FoldTable, resizing: re.Pattern[str]
) -> tuple[str, list[int] | None, list[int] | None]:
    """Stage 1: one `str.translate`, unless some characters vanish or expand."""
    if resizing.search(text) is None:
        return _fold_homoglyphs(text.translate(table)), None, None
    return _fold_resizing(text, table, resizing)


def _fold_resizing(
    text: str, table: FoldTable, resizing: re.Pattern[str]
) -> tuple[str, list[int], list[int]]:
    """Fold when some characters vanish or expand: stretches between them in one go."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    done = 0
    for match in resizing.finditer(text):
        index = match.start()
        if index > done:
            pieces.append(text[done:index].translate(table))
            starts.extend(range(done, index))
            ends.extend(range(done + 1, index + 1))
        folded = str(table[ord(text[index])])
        pieces.append(folded)
        starts.extend([index] * len(folded))
        ends.extend([index + 1] * len(folded))
        done = index + 1
    pieces.append(text[done:].translate(table))
    starts.extend(range(done, len(text)))
    ends.extend(range(done + 1, len(text) + 1))
    return _fold_homoglyphs("".join(pieces)), starts, ends


def _fold_homoglyphs(text: str) -> str:
    """Read Cyrillic and Greek look-alikes as Latin inside words that mix in Latin or digits."""
    if _HAS_HOMOGLYPH.search(text) is None:
        return text
    return _SCRIPT_WORD.sub(_fold_mixed_word, text)


def _fold_mixed_word(match: re.Match[str]) -> str:
    word = match.group()
    if _LATIN_OR_DIGIT.search(word) is None or _HAS_HOMOGLYPH.search(word) is None:
        return word
    return word.translate(_HOMOGLYPHS)


Replace = Callable[[re.Match[str]], str]


def _rewrite(
    text: str,
    starts: list[int] | None,
    ends: list[int] | None,
    pattern: re.Pattern[str],
    replace: Replace,
) -> tuple[str, list[int] | None, list[int] | None]:
    """Apply `pattern.sub(replace)` and carry the offsets of every character along.

    Offsets of None mean "same as the text's own" and stay None while nothing changes. A
    replacement as long as its match keeps a one-to-one map; any other replacement maps each
    new character to the whole matched span.
    """
    pieces: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    done = 0
    for match in pattern.finditer(text):
        start, end = match.span()
        replacement = replace(match)
        if replacement == match.group():
            continue
        if starts is None or ends is None:
            starts, ends = list(range(len(text))), list(range(1, len(text) + 1))
        pieces.append(text[done:start])
        new_starts.extend(starts[done:start])
        new_ends.extend(ends[done:start])
        pieces.append(replacement)
        if len(replacement) == end - start:
            new_starts.extend(starts[start:end])
            new_ends.extend(ends[start:end])
        elif start < end:
            new_starts.extend([starts[start]] * len(replacement))
            new_ends.extend([ends[end - 1]] * len(replacement))
        done = end
    if not pieces or starts is None or ends is None:
        return text, starts, ends
    pieces.append(text[done:])
    new_starts.extend(starts[done:])
    new_ends.extend(ends[done:])
    return "".join(pieces), new_starts, new_ends


def _chinese_number(match: re.Match[str]) -> str:
    digits = match.group().translate(_CN_DIGIT_VALUES)
    if sum(char.isdigit() for char in digits) < _MIN_CN_NUMBER_DIGITS:
        return match.group()
    return digits


def _join_digits(match: re.Match[str]) -> str:
    """Drop separators inside a number ("138 0013 8000").

    A decimal point or comma stays ("12.5", "9,99"), and so does a gap next to an id that
    mixes letters and digits ("abc123 456" is two things, not "abc123456").
    """
    gap = match.group()
    if gap in {".", ","} and _DECIMAL_TAIL.match(match.string, match.end()):
        return gap
    text, start, end = match.string, match.start(), match.end()
    window = max(0, start - _ID_WINDOW)
    if _LETTER_BEFORE_DIGITS.search(text, window, start) or _LETTER_AFTER_DIGITS.match(text, end):
        return gap
    return ""


def _dot(match: re.Match[str]) -> str:
    return "."


def _drop_cjk_fillers(match: re.Match[str]) -> str:
    return _CJK_FILLER_RUN.sub("", match.group())


def _alias_first(match: re.Match[str]) -> str:
    head, alias, tail = match.groups()
    return f"{alias} {head}{tail}"


_REWRITES: tuple[tuple[re.Pattern[str], Replace, str, re.Pattern[str] | None], ...] = (
    (
        _SPACED_CJK,
        _drop_cjk_fillers,
        "fillers between Chinese characters removed",
        re.compile("|".join(_SPACED_CJK_BY_FILLER)),
    ),
    (
        _CN_NUMBER,
        _chinese_number,
        "Chinese numerals read as digits",
        re.compile(f"[{_CN_DIGITS}]"),
    ),
    (
        _DIGIT_GAP,
        _join_digits,
        "digits joined across separators, emoji and fillers",
        None,
    ),
    (
        _ALIAS_SPLIT_NUMBER,
        _alias_first,
        "a number split by a QQ/WeChat letter joined",
        re.compile("[qv]"),
    ),
    (
        _DOT_WORD,
        _dot,
        "a word or mark written for a dot read as a dot",
        re.compile("|".join(_DOT_WORD_MARKS)),
    ),
)
"""(pattern, replacement, the sentence naming the rewrite, a cheap search for something
every match of the pattern holds, or None: without it the stage is skipped)"""

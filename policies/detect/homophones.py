"""Chinese characters that read alike, and traditional characters with their simplified form.

Spammers write 微信 (WeChat) as 薇信, 威信 or 维芯, 加 (add) as 佳 or 夹, and 扣扣 (QQ) as 寇寇 or
口口: anything that sounds the same to a reader but not to a keyword filter. Rather than list
the disguises by hand, the sound classes come from pypinyin's reading of every character (all of
a character's readings, tones dropped), so a new disguise with the same sound is caught too.
Traditional characters fold to simplified ones with OpenCC's character table, which is what
both Chinese-speaking communities maintain for that conversion.

Both tables are built once at import (a few tens of milliseconds) and become plain character
classes and a `str.translate` table: nothing here runs per message.
"""

from __future__ import annotations

import unicodedata

from opencc import OpenCC
from pypinyin.pinyin_dict import pinyin_dict

__all__ = [
    "CJK",
    "JIA_SOUNDS",
    "KOU_SOUNDS",
    "WEI_SOUNDS",
    "XIN_SOUNDS",
    "sound_class",
    "traditional_to_simplified",
]

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""The common blocks of Chinese characters, as the inside of a regex character class."""


def _toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _readings() -> dict[str, frozenset[str]]:
    """Every character pypinyin knows, with its readings without tones."""
    readings: dict[str, frozenset[str]] = {}
    for code, written in pinyin_dict.items():
        readings[chr(code)] = frozenset(_toneless(part) for part in written.split(","))
    return readings


_READINGS = _readings()


def sound_class(*syllables: str, extra: str = "") -> str:
    """The inside of a regex character class: every character read as one of `syllables`.

    Only the common block (U+4E00..U+9FFF) counts, so rare characters a reader would not take
    for the word do not widen the class. `extra` adds look-alikes that are not homophones.
    """
    wanted = frozenset(syllables)
    chars = sorted(
        char
        for char, sounds in _READINGS.items()
        if "\u4e00" <= char <= "\u9fff" and sounds & wanted
    )
    return "".join(dict.fromkeys(extra + "".join(chars)))


WEI_SOUNDS = sound_class("wei")
"""微 and every character read "wei" (薇, 威, 维, 唯, 喂, 为 ...)."""
XIN_SOUNDS = sound_class("xin")
"""信 and every character read "xin" (芯, 心, 新, 鑫 ...)."""
JIA_SOUNDS = sound_class("jia")
"""加 and every character read "jia" (佳, 夹, 家, 嘉 ...)."""
KOU_SOUNDS = sound_class("kou", extra="口")
"""扣 and every character read "kou" (寇, 抠, 蔻 ...), plus 口, which looks like half of 扣."""


def traditional_to_simplified() -> dict[str, str]:
    """OpenCC's traditional-to-simplified table for single characters."""
    converter = OpenCC("t2s")
    table: dict[str, str] = {}
    for max_length, _, mapping in converter.dict_cache.values():
        if max_length != 1:
            continue
        for traditional, simplified in mapping.items():
            first = simplified.split()[0] if simplified.strip() else ""
            if len(traditional) == 1 and len(first) == 1 and first != traditional:
                table[traditional] = first
    return table

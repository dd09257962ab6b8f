"""Chinese characters that read alike, and traditional characters with their simplified form.

Spammers write 微信 (WeChat) as 薇信, 威信 or 维芯, 加 (add) as 佳 or 夹, and 扣扣 (QQ) as 寇寇 or
口口: anything that sounds the same to a reader but not to a keyword filter. Rather than list
the disguises by hand, the sound classes come from pypinyin's reading of every character (all of
a character's readings, tones dropped), so a new disguise with the same sound is caught too.
Traditional characters fold to simplified ones with OpenCC's character table, which is what
both Chinese-speaking communities maintain for that conversion.

Both tables are built once at import and become plain character classes and a `str.translate`
table: nothing here runs per message.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from opencc import OpenCC

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


_TONELESS = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")


def _pinyin_dict() -> dict[int, str]:
    """pypinyin's table of character readings (`pypinyin.pinyin_dict`), loaded on its own.

    Importing it the usual way first runs `pypinyin/__init__`, which also loads the phrase
    dictionary and the segmenter (about a second) that qunbot never uses.
    """
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("pypinyin is not installed")
    location = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.py"
    table_spec = importlib.util.spec_from_file_location("pypinyin.pinyin_dict", location)
    if table_spec is None or table_spec.loader is None:
        raise ImportError(f"cannot load {location}")
    module: ModuleType = importlib.util.module_from_spec(table_spec)
    table_spec.loader.exec_module(module)
    table: Any = module.pinyin_dict
    return dict(table)


def _readings() -> dict[str, frozenset[str]]:
    """Every common character pypinyin knows, with its readings without tones."""
    readings: dict[str, frozenset[str]] = {}
    for code, written in _pinyin_dict().items():
        if 0x4E00 <= code <= 0x9FFF:
            readings[chr(code)] = frozenset(written.translate(_TONELESS).split(","))
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

"""The engine's shortcuts give exactly what the long way gives.

`normalize` skips work when a cheap test proves it would change nothing (a text with no
character to fold, no mark a rewrite needs), and looks characters up in a list rather than a
dict. Here the long way runs every stage on every text with the dict table, and the two must
agree on the whole `Normalized`, offsets included: the shipped models were trained on it.
Likewise the alternations nested by first character must find what the flat ones find.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import MISSING, fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.detect import contacts, links, marketplace
from policies.detect import normalize as module
from policies.detect.normalize import Normalized, folds_applied, normalize
from policies.verdict import Action, Hit, Verdict

PIECES = [
    *"aAbBcCmMqQvVxXoO019 .,-_~*|+=/\\:@#()[]{}<>\n\t",
    *"中文微信薇威喂加佳夹扣寇口企鹅群号岛国著名私聊点點。一二三四五六七八九零〇壹贰两幺",
    *"這個們國說號碼訊",  # traditional
    *"ＡＢａｂ０１２９：，．",  # full-width
    *"𝐀𝐛𝟏𝟗①②⑩⑴⒈❶➀⓵⓫⓿ᴀʙ",  # mathematical, enclosed, small capitals
    *"\u200b\u200d\u2060\ufeff\ufe0f\u00ad\u034f\u0301\u3164\u2800",  # invisible, fillers
    *"аеорсхАЕОРαοκρΑΟ",  # Cyrillic and Greek look-alikes
    *"❤♥🐧🔥ᚰ→・·—√◌、",  # emoji and symbols used as fillers
    *"ﬁ㎡½™",  # characters that fold to several
    *["dot", "com", "cn", "qq", "vx", "http://", "t.me/"],
    # Disguises the rewrites undo, whole, so that random texts hold them often.
    *[" dot com", "x 点 com", "a點net", "b。cn", "[.]", "(.)", "{ . }", "<dot>", "1 q 2", "3 v 4"],
    *["138 0013 8000", "1716❤776965", "一三八零零一三八", "壹贰叁肆伍", "岛.国.著", "私~信~我"],
]
SPACES = st.sampled_from(["", " ", "  ", "    "])
DOT_WORDS = [
    *["点", "點", "。", "dot", ".", "．"],
    *[
        f"{left}{space}{dot}{space}{right}"
        for left, right in [("[", "]"), ("(", ")"), ("{", "}"), ("<", ">"), ("（", "）")]
        for dot in [".", "dot", "点"]
        for space in ["", " "]
    ],
]
LABELS = st.sampled_from(["example", "a1", "中文", "x ", "t", "shop-1"])
ENDINGS = st.sampled_from(["com", "cn", "co", "comx", "net", "xyz", "c", "me/abc", "com-"])
SPELLED_DOMAINS = st.tuples(LABELS, SPACES, st.sampled_from(DOT_WORDS), SPACES, ENDINGS).map(
    "".join
)
DOMAINS = st.lists(
    st.tuples(LABELS, SPACES, st.sampled_from([".", "．", "。"]), SPACES, ENDINGS).map("".join)
    | st.sampled_from(PIECES),
    max_size=8,
).map(lambda pieces: normalize("".join(pieces)).text)
TEXTS = st.lists(st.sampled_from(PIECES) | SPELLED_DOMAINS, max_size=40).map("".join)


def long_way(text: str) -> Normalized:
    """`normalize` without a shortcut: the dict table, and every rewrite tried."""
    if module._RESIZING.search(text) is None:
        folded = module._fold_homoglyphs(text.translate(module._FOLD_TABLE))
        starts: list[int] | None = None
        ends: list[int] | None = None
    else:
        folded, starts, ends = module._fold_resizing(text, module._FOLD_TABLE, module._RESIZING)
    applied = []
    for pattern, replace, sentence, _ in module._REWRITES:
        before = folded
        folded, starts, ends = module._rewrite(folded, starts, ends, pattern, replace)
        if folded != before:
            applied.append(sentence)
    return Normalized(
        text,
        folded,
        None if starts is None else tuple(starts),
        None if ends is None else tuple(ends),
        tuple(applied),
    )


def folds_the_long_way(norm: Normalized) -> tuple[str, ...]:
    found = [name for name, pattern in module._CHARACTER_FOLDS if pattern.search(norm.original)]
    if any(char in module._SIMPLIFIED for char in norm.original):
        found.append("traditional characters read as simplified ones")
    return (*found, *norm.rewrites)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_normalize_takes_no_shortcut_that_changes_its_result(text: str) -> None:
    norm = normalize.__wrapped__(text)
    assert norm == long_way(text)
    assert folds_applied(norm) == folds_the_long_way(norm)


def test_the_long_way_is_really_taken_on_examples() -> None:
    for text in [
        "岛.国.著.名",
        "加我一三八零零一三八零零零",
        "ＶＸ：ａｂｃ\u200b１２３",
        "29526 q 77544",
    ]:
        assert long_way(text) == normalize(text)
        assert long_way(text).rewrites or long_way(text).starts is not None


def flat(alternatives: list[tuple[str, str]]) -> re.Pattern[str]:
    return re.compile("|".join(f"{p}(?P<k{i}>)" for i, (_, p) in enumerate(alternatives)))


ALTERNATIONS = [
    (contacts._CONTACTS, flat(contacts._ALTERNATIVES)),
    (marketplace._SHARE_TEXT, flat(marketplace._ALTERNATIVES)),
]


def literal_start(pattern: str) -> str:
    """The plain characters a pattern starts with ("加" of "加{sep}[0-9]{7,11}"), to build
    texts from."""
    return re.split(r"[\\\[\](){}?*+|.^$]", pattern, maxsplit=1)[0]


OFFER_PIECES = [
    *PIECES,
    *{literal_start(p) for _, p in [*contacts._ALTERNATIVES, *marketplace._ALTERNATIVES]},
    *["abc123", "wxid_88", "13800138000", "8613912345678", "+85291234567", "1234567", "20240101"],
    *[":", "：", " ", "号", "是", "群", "me", "to me", "for details", "¥AbCd12EfGh¥", "元", "领"],
]
NORMALIZED = st.lists(st.sampled_from(OFFER_PIECES), max_size=30).map(
    lambda pieces: normalize("".join(pieces)).text
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=NORMALIZED)
def test_nested_alternations_match_like_flat_ones(text: str) -> None:
    for nested, flat_one in ALTERNATIONS:
        assert nested.pattern != flat_one.pattern
        expected = [(m.span(), m.lastgroup) for m in flat_one.finditer(text)]
        assert [(m.span(), m.lastgroup) for m in nested.finditer(text)] == expected


@pytest.mark.parametrize("cls", [Hit, Action, Verdict, Normalized])
def test_hand_written_inits_take_the_fields_and_defaults(cls: type) -> None:
    """These frozen dataclasses build themselves faster than the generated `__init__` would;
    their `__init__` must still be the one `dataclass` would have written."""
    parameters = inspect.signature(cls).parameters.values()
    assert [(p.name, p.default) for p in parameters] == [
        (f.name, inspect.Parameter.empty if f.default is MISSING else f.default)
        for f in fields(cls)
    ]
    values = {f.name: object() for f in fields(cls)}
    built = cls(**values)
    assert all(getattr(built, name) is value for name, value in values.items())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=DOMAINS)
def test_a_text_without_a_dot_before_a_domain_ending_holds_no_bare_domain(text: str) -> None:
    if links._DOT_BEFORE_TLD.search(text) is None:
        assert links._DOMAINS.search(text) is None

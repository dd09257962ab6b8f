"""Normalization: what disguises are folded, and how evidence maps back to the original."""

from __future__ import annotations

import pytest

from policies.detect.normalize import folds_applied, normalize


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("这个多少钱", "这个多少钱"),
        ("When Will My Order Ship", "when will my order ship"),
        ("ＶＸ：ａｂｃ１２３", "vx:abc123"),
        ("v\u200bx\ufeff: abc\u200d123", "vx: abc123"),
        ("𝐁𝐊𝐏 𝕏𝘏𝘾", "bkp xhc"),
        ("рinduoduo.com", "pinduoduo.com"),
        ("ᴀʙᴄ", "abc"),
        ("①②③", "123"),
        ("⑴⑵⑶", "123"),
        ("1️⃣2️⃣3️⃣", "123"),
        ("❶❷❸", "123"),
        ("加我一三八零零一三八零零零", "加我13800138000"),
        ("扣扣 壹贰叁肆伍陆柒", "扣扣 1234567"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("pin duo duo 点 com", "pin duo duo.com"),
        ("pinduoduo 點 com", "pinduoduo.com"),
        ("pinduoduo。com", "pinduoduo.com"),
        ("example[.]com", "example.com"),
        ("example(.)com", "example.com"),
        ("example dot com", "example.com"),
        ("example（.）cn", "example.cn"),
        ("t . me / xxx", "t . me / xxx"),
    ],
)
def test_disguises_are_folded(written: str, folded: str) -> None:
    assert normalize(written).text == folded


@pytest.mark.parametrize(
    "text",
    [
        "привет, как дела",  # Russian prose keeps its letters
        "一二三",  # too short to be a number
        "我一点都不想去",  # 点 as a word, not a dot
        "几点到 com",  # no label before the dot word
        "价格12.5元",  # a decimal stays a decimal
        "polka dot dress",  # "dot" not before a domain ending
        "三三两两的人",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert normalize(text).text == text.casefold()


def test_full_width_keeps_a_one_to_one_map() -> None:
    norm = normalize("加ＶＸ：ａｂｃ１２３")
    start = norm.text.index("vx")
    assert norm.original_span(start, len(norm.text)) == "ＶＸ：ａｂｃ１２３"


@pytest.mark.parametrize(
    ("written", "needle", "evidence"),
    [
        ("请加我一三八零零一三八零零零谢谢", "13800138000", "一三八零零一三八零零零"),
        ("去 pin duo duo 点 com 看看", "duo.com", "duo 点 com"),
        ("v\u200bx: abc", "vx", "v\u200bx"),
        ("电话 138 0013 8000", "13800138000", "138 0013 8000"),
        ("⑴⑵⑶⑷⑸", "12345", "⑴⑵⑶⑷⑸"),
        ("Straße", "strasse", "Straße"),
    ],
)
def test_spans_map_back_to_what_was_written(written: str, needle: str, evidence: str) -> None:
    norm = normalize(written)
    start = norm.text.index(needle)
    assert norm.original_span(start, start + len(needle)) == evidence


def test_empty_and_out_of_range_spans() -> None:
    norm = normalize("ab\u200bc")
    assert norm.original_span(2, 2) == ""
    assert norm.original_span(0, 99) == "ab\u200bc"
    assert normalize("").text == ""


@pytest.mark.parametrize(
    ("written", "folded", "rule"),
    [
        ("這個東西壞了", "这个东西坏了", "traditional characters read as simplified ones"),
        ("岛.国.影.片", "岛国影片", "fillers between Chinese characters removed"),
        ("私~信~看~我", "私信看我", "fillers between Chinese characters removed"),
        ("38211 Q 90455", "q 3821190455", "a number split by a QQ/WeChat letter joined"),
        ("1716❤776965", "1716776965", "digits joined across separators, emoji and fillers"),
        ("5522🔥3388", "55223388", "digits joined across separators, emoji and fillers"),
        ("ＡＢＣ", "abc", "full-width letters and digits read as plain ones"),
        ("𝐯𝐱", "vx", "mathematical letters read as plain ones"),
        ("①②③④⑤", "12345", "circled and enclosed digits read as plain ones"),
        ("v\u200bx", "vx", "invisible characters removed"),
    ],
)
def test_disguises_are_folded_and_each_fold_is_named(written: str, folded: str, rule: str) -> None:
    norm = normalize(written)
    assert norm.text == folded
    assert rule in folds_applied(norm)


def test_plain_text_names_no_fold() -> None:
    assert folds_applied(normalize("这个多少钱")) == ()
    assert folds_applied(normalize("how much is it")) == ()


@pytest.mark.parametrize("text", ["我们 是 好朋友", "价格 12 元", "一样的"])
def test_ordinary_spacing_keeps_its_meaning(text: str) -> None:
    assert normalize(text).text.replace(" ", "") == text.replace(" ", "")

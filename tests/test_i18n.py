"""The message catalog stays complete: every text qunbot composes is in it, in every language,
with the same placeholders; no text goes out inline; durations and ladder steps read naturally."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.i18n import LANGUAGES, Catalogs, Messages, catalog_path, placeholders
from bot.core.i18n_extract import KEYWORDS, MessageId, extracted
from policies.schema import LadderStep
from tests.english import english_phrases

ROOT = Path(__file__).resolve().parent.parent
ZH, EN = Messages("zh"), Messages("en")


def catalog(language: str) -> dict[MessageId, tuple[str, ...]]:
    with catalog_path(language).open("rb") as po:
        read = read_po(po, locale=language)
    found: dict[MessageId, tuple[str, ...]] = {}
    for message in read:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else (message.id[0], message.id[1])
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found[key] = tuple(strings)
    return found


@pytest.fixture(scope="module")
def in_code() -> dict[MessageId, list[str]]:
    return extracted()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_in_the_code_is_translated(
    language: str, in_code: dict[MessageId, list[str]]
) -> None:
    translations = catalog(language)
    missing = {
        str(message): where
        for message, where in in_code.items()
        if not all(translations.get(message, ("",)))
    }
    assert not missing, (
        f"not in the {language} catalog (python -m bot.core.i18n_extract): {missing}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_keeps_messages_the_code_no_longer_sends(
    language: str, in_code: dict[MessageId, list[str]]
) -> None:
    assert set(catalog(language)) - set(in_code) == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language: str) -> None:
    for message, strings in catalog(language).items():
        wanted = placeholders(message if isinstance(message, str) else message[1])
        if not isinstance(message, str):
            wanted.discard("count")
        for string in strings:
            got = placeholders(string) - {"count"}
            assert got == wanted - {"count"}, (message, string)


def test_chinese_messages_hold_no_english_phrase() -> None:
    for message, strings in catalog("zh").items():
        for string in strings:
            assert english_phrases(string) == [], (message, string)


def test_durations_are_spelled_in_the_language() -> None:
    assert ZH.duration(6 * 3600) == "6 小时"
    assert ZH.duration(180) == "3 分钟"
    assert ZH.duration(30 * 3600) == "30 小时"
    assert ZH.duration(125) == "2 分钟 5 秒"
    assert EN.duration(3600) == "1h"
    assert EN.duration(3 * 60) == "3m"
    assert EN.duration(8 * 86400) == "8d"
    assert EN.duration(125) == "2m 5s"
    assert ZH.duration(float("inf")) == "永久" and EN.duration(float("inf")) == "forever"


def test_ladder_steps_are_named_in_the_language() -> None:
    steps = [LadderStep.model_validate(s) for s in ("neutral", "hard", "mute 1d", "soft")]
    assert [ZH.step(step) for step in steps] == ["踢出", "封禁", "禁言 1 天", "提醒"]
    assert [EN.step(step) for step in steps] == ["neutral", "hard", "mute 1d", "soft"]


def test_a_group_language_picks_its_catalog_and_unknown_ones_fall_back() -> None:
    catalogs = Catalogs("zh")
    assert catalogs.get("zh-Hans").language == "zh"
    assert catalogs.get("en").language == "en"
    assert catalogs.get("fr").language == "zh"
    assert catalogs.get(None).language == "zh"
    assert Catalogs("en").get(None).language == "en"


def test_html_values_are_escaped_and_plain_ones_are_not() -> None:
    assert ZH.t("Blocked: {word}", word="<b>") == "已屏蔽：&lt;b&gt;"
    assert ZH.tp("Blocked: {word}", word="<b>") == "已屏蔽：<b>"


def test_the_phrase_finder_finds_phrases_and_spares_identifiers() -> None:
    assert english_phrases("再犯将会：will be kicked") == ["will be kicked"]
    assert english_phrases("#3 踢出：规则 contact.wechat, link.unknown") == []
    assert english_phrases("/mute 1d，详见 https://example.com/a/b/c") == []
    assert english_phrases("我需要 Ban users and Invite") == ["Ban users and Invite"]


# ------------------------------------------------------------------- nothing goes out inline

CHAT_CODE = [
    *sorted(
        path
        for folder in ("handlers", "bot/features", "bot/telegram")
        for path in (ROOT / folder).rglob("*.py")
    ),
    ROOT / "bot" / "core" / "services.py",
]
"""The code that composes what chats read (the CLI and the fake Telegram are not chats)."""
NEVER_SHOWN = {
    "can't be deleted": "a sign in Telegram's own error text, matched, never shown",
    "supergroup and channel chats only": "a sign in Telegram's own error text, matched",
    "Noto Sans CJK SC": "a font's name",
    "newcomer-check-removed": "an audit log action, a key",
}
NOT_SENT = {
    "logger",
    "RuntimeError",
    "ValueError",
    "LookupError",
    "KeyError",
    "TypeError",
    "Field",
}


def inline_texts(source: str) -> list[str]:
    """String constants holding an English phrase, outside docstrings, logs, exceptions and the
    catalog's own calls: texts that would reach a chat without a translation."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skipped.add(id(body[0].value))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skipped.add(id(node.value))
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            name = called.rsplit(".", 1)[-1]
            if name in KEYWORDS or called.split(".")[0] in NOT_SENT or name in NOT_SENT:
                skipped.update(id(sub) for sub in ast.walk(node))
        if isinstance(node, ast.Raise | ast.Subscript):
            skipped.update(id(sub) for sub in ast.walk(node))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skipped
        and node.value not in NEVER_SHOWN
        and english_phrases(node.value)
    ] + untranslated_buttons(tree)


def untranslated_buttons(tree: ast.AST) -> list[str]:
    """Button captions written inline, however short ("↩️ Undo")."""
    return [
        ast.unparse(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and ast.unparse(node.func).endswith("InlineKeyboardButton")
        and node.args
        and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
    ]


@pytest.mark.parametrize("path", CHAT_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_text_for_a_chat_is_written_inline(path: Path) -> None:
    assert inline_texts(path.read_text(encoding="utf-8")) == []


def test_the_inline_check_finds_a_planted_text() -> None:
    planted = 'async def f(call):\n    await call.answer("You are muted now.")\n'
    assert inline_texts(planted) == ["You are muted now."]
    translated = (
        'async def f(call):\n    await call.answer(call.messages.tp("You are muted now."))\n'
    )
    assert inline_texts(translated) == []

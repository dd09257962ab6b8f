"""Security properties: no secret in logs, escaped names, unforgeable tokens, parameterised SQL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from loguru import logger

from bot.core.logging import redact, setup_logging
from bot.core.signing import Signer, new_secret
from policies.texts import mention, render

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def test_tokens_are_redacted_wherever_they_appear() -> None:
    line = f"POST https://api.telegram.org/bot{TOKEN}/getMe failed; token {TOKEN}"
    assert TOKEN not in redact(line)
    assert redact(line).count("<token>") == 2


def test_the_log_sinks_never_see_the_token(tmp_path: Path) -> None:
    log_file = tmp_path / "qunbot.log"
    from bot.core.config import LoggingConfig

    setup_logging(LoggingConfig(level="DEBUG", file=str(log_file)))
    try:
        logger.error("request to /bot{}/sendMessage failed", TOKEN)
        logger.complete()
    finally:
        setup_logging(None, level="WARNING")
    written = log_file.read_text(encoding="utf-8")
    assert "sendMessage failed" in written
    assert TOKEN not in written


@pytest.mark.parametrize(
    "name", ["<b>Boss</b>", '"><script>x</script>', "A & B", "</a><a href='tg://x'>"]
)
def test_member_names_cannot_break_the_markup(name: str) -> None:
    text = render("Welcome {user} to {group}!", {"user": mention(42, name), "group": name})
    assert (
        "<b>" not in text
        and "<script>" not in text
        and "</a><a" not in text.replace("</a> to", "")
    )
    assert text.count("<a ") == 1 and text.count("</a>") == 1


def test_signed_tokens_cannot_be_forged_or_moved_to_another_member_or_group() -> None:
    signer = Signer(new_secret())
    token = signer.sign("gift", -1001, 42)
    assert signer.verify(token, "gift") == [-1001, 42]
    assert signer.verify(token, "undo") is None
    assert signer.verify(token.replace("42", "43"), "gift") is None
    assert signer.verify(token.replace("n1001", "n1002"), "gift") is None
    assert Signer(new_secret()).verify(token, "gift") is None
    assert len(token) <= 64 and token.replace("_", "").isalnum()


def _sql_strings(path: Path) -> list[ast.JoinedStr]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in {
            "execute",
            "executemany",
            "_one",
        }:
            found += [arg for arg in node.args[:1] if isinstance(arg, ast.JoinedStr)]
    return found


ALLOWED_INTERPOLATIONS = {"self._COLUMNS", "table", "BUSY_TIMEOUT_MS", "placeholders", "where"}
"""Column lists, table names from a constant tuple, and WHERE clauses built from constants."""


@pytest.mark.parametrize("path", sorted((ROOT / "bot" / "store").glob("*.py")), ids=str)
def test_sql_only_interpolates_names_never_values(path: Path) -> None:
    for joined in _sql_strings(path):
        for part in joined.values:
            if isinstance(part, ast.FormattedValue):
                assert ast.unparse(part.value) in ALLOWED_INTERPOLATIONS, ast.unparse(joined)


def test_sql_lives_only_in_the_store() -> None:
    outside = [
        path
        for folder in ("bot", "handlers", "policies")
        for path in (ROOT / folder).rglob("*.py")
        if "store" not in path.parts
        and "fake" not in path.parts
        and any(word in path.read_text(encoding="utf-8") for word in ("SELECT ", "INSERT INTO"))
    ]
    assert outside == []

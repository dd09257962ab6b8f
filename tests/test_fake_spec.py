"""The bundled Bot API extract, call validation and form decoding."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot

from bot.fake import RecordedCall, Upload, check_calls_against_spec, validate_call
from bot.fake.spec import SPEC_PATH, build_extract, decode_form_value, load_spec

SHARED_SPEC = (
    Path(__file__).resolve().parents[2] / "shared" / "telegram-bot-api" / "api-botapi-10.0.json"
)
needs_shared_spec = pytest.mark.skipif(
    not SHARED_SPEC.exists(), reason="shared/telegram-bot-api is not checked out beside the repo"
)


@needs_shared_spec
def test_the_committed_extract_matches_the_shared_spec() -> None:
    source = json.loads(SHARED_SPEC.read_text(encoding="utf-8"))
    committed = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    assert committed == build_extract(source)
    assert committed["version"] == "Bot API 10.0"
    assert "MIT" in committed["attribution"]


def test_every_spec_method_exists_on_ptbs_bot() -> None:
    for method in load_spec().methods:
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()
        assert hasattr(Bot, snake), method


BAN = {"chat_id": -1, "user_id": 2}
RESTRICT = BAN | {"permissions": {"can_send_messages": False}}
COMMANDS = {"commands": [{"command": "a", "description": "b"}]}
VALIDATION_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("banChatMember", BAN, []),
    ("banChatMember", {"chat_id": "@shop", "user_id": 2, "until_date": 5}, []),
    ("sendTelepathy", {}, ["unknown method sendTelepathy"]),
    ("banChatMember", {"chat_id": -1}, ["parameter user_id is required"]),
    ("banChatMember", BAN | {"x": 1}, ["unknown parameter x"]),
    ("banChatMember", BAN | {"user_id": True}, ["parameter user_id must be Integer"]),
    ("banChatMember", BAN | {"chat_id": 1.5}, ["parameter chat_id must be Integer or String"]),
    (
        "unbanChatMember",
        BAN | {"only_if_banned": "y"},
        ["parameter only_if_banned must be Boolean"],
    ),
    (
        "deleteMessages",
        {"chat_id": -1, "message_ids": [1, "2"]},
        ["parameter message_ids[1] must be Integer"],
    ),
    ("sendPhoto", {"chat_id": -1, "photo": Upload("a.jpg", b"x")}, []),
    ("sendPhoto", {"chat_id": -1, "photo": 5}, ["parameter photo must be InputFile or String"]),
    ("restrictChatMember", RESTRICT, []),
    (
        "restrictChatMember",
        BAN | {"permissions": {"can_send_message": False}},
        ["unknown field permissions.can_send_message"],
    ),
    (
        "restrictChatMember",
        BAN | {"permissions": "none"},
        ["parameter permissions must be ChatPermissions (a JSON object)"],
    ),
    ("setMyCommands", COMMANDS | {"scope": {"type": "chat", "chat_id": 1}}, []),
    (
        "setMyCommands",
        {"commands": [{"command": "a"}]},
        ["field commands[0].description is required"],
    ),
    (
        "setMyCommands",
        COMMANDS | {"scope": {"type": "galaxy"}},
        ["parameter scope must be BotCommandScope"],
    ),
]


@pytest.mark.parametrize(("method", "params", "problems"), VALIDATION_CASES)
def test_validate_call(method: str, params: dict[str, Any], problems: list[str]) -> None:
    assert validate_call(method, params) == problems


def test_nested_union_objects_are_checked_member_by_member() -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "url": "https://x", "colour": "red"}]]}
    problems = validate_call("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup})
    assert problems == [
        "parameter reply_markup must be InlineKeyboardMarkup or ReplyKeyboardMarkup "
        "or ReplyKeyboardRemove or ForceReply"
    ]


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("chat_id", "-1001", -1001),
        ("chat_id", "@shop", "@shop"),
        ("user_id", "42", 42),
        ("revoke_messages", "true", True),
        ("until_date", "not a number", "not a number"),
    ],
)
def test_form_values_are_decoded_with_the_spec_types(name: str, raw: str, value: Any) -> None:
    assert decode_form_value(load_spec(), "banChatMember", name, raw) == value


def test_strings_stay_strings_and_json_objects_decode() -> None:
    spec = load_spec()
    assert decode_form_value(spec, "sendMessage", "text", "123") == "123"
    assert decode_form_value(spec, "sendMessage", "text", "true") == "true"
    markup = '{"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}'
    assert decode_form_value(spec, "sendMessage", "reply_markup", markup) == json.loads(markup)
    assert decode_form_value(spec, "sendMessage", "unknown", "1") == "1"


def test_check_calls_against_spec_reports_each_bad_call() -> None:
    calls = [
        RecordedCall("sendMessage", {"chat_id": 1, "text": "ok"}, 200),
        RecordedCall("sendMessage", {"chat_id": 1}, 400),
        RecordedCall("kickChatMember", {"chat_id": 1, "user_id": 2}, 404),
    ]
    expected = [
        "sendMessage: parameter text is required",
        "kickChatMember: unknown method kickChatMember",
    ]
    assert check_calls_against_spec(calls, SPEC_PATH) == expected
    if SHARED_SPEC.exists():
        assert check_calls_against_spec(calls, SHARED_SPEC) == expected

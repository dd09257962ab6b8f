"""A stateful fake Telegram Bot API, used by the tests and by ``qunbot simulate``."""

from __future__ import annotations

from bot.fake.models import (
    ApiError,
    EventKind,
    FakeEvent,
    ManualClock,
    RecordedCall,
    ScriptError,
)
from bot.fake.request import FakeRequest
from bot.fake.server import FakeTelegramServer
from bot.fake.spec import Upload, check_calls_against_spec, validate_call
from bot.fake.state import FakeTelegram

__all__ = [
    "ApiError",
    "EventKind",
    "FakeEvent",
    "FakeRequest",
    "FakeTelegram",
    "FakeTelegramServer",
    "ManualClock",
    "RecordedCall",
    "ScriptError",
    "Upload",
    "check_calls_against_spec",
    "validate_call",
]

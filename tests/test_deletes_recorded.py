"""A delete Telegram did is marked done even when the database refuses for a moment."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from bot.core import services as services_module
from bot.core.services import Services
from bot.store import StorageError


class FlakyEnforced:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.marked: list[tuple[int, list[int]]] = []

    async def deleted(self, chat_id: int, message_ids: Sequence[int]) -> None:
        if self.failures:
            self.failures -= 1
            raise StorageError("deletes not marked done: bad parameter or other API misuse")
        self.marked.append((chat_id, list(message_ids)))


@pytest.mark.parametrize(("failures", "marked"), [(0, 1), (3, 1), (4, 0)])
async def test_deletes_are_marked_done_after_a_passing_database_error(
    failures: int, marked: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(services_module, "RECORD_DELETED_PAUSES", (0.1, 0.2, 0.3))
    monkeypatch.setattr(services_module.asyncio, "sleep", pause)
    enforced = FlakyEnforced(failures)
    services = SimpleNamespace(store=SimpleNamespace(enforced=enforced))
    await Services._deleted(services, -100, [7, 8])  # type: ignore[arg-type]
    assert enforced.marked == [(-100, [7, 8])] * marked
    assert pauses == [0.1, 0.2, 0.3][: min(failures, 3)], "no pause after the last try"

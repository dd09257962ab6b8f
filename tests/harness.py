"""Running the real Application against the in-process fake Telegram, with a test clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import build_application
from bot.core.config import Config, GroupConfig, LoadedConfig, loaded_from
from bot.core.services import Services
from bot.fake import FakeRequest, FakeTelegram, RecordedCall
from bot.features.bot_data import App
from policies.yamlsource import Located

GROUP = -1001000000001
STAFF = -1001000000999
OWNER, ADMIN = 1001, 1002
START = 1_800_000_000.0

RECORDED_CALLS: list[RecordedCall] = []
"""Every call any harness saw; conftest checks them against the Bot API spec at the end."""


class TestClock:
    """Time that moves only when a test says so."""

    __test__ = False

    def __init__(self, start: float = START) -> None:
        self.value = start
        self.waited = 0.0

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds

    async def sleep(self, seconds: float) -> None:
        """The send queue's wait, when a harness simulates waits: the clock moves instead."""
        self.value += max(0.0, seconds)
        self.waited += max(0.0, seconds)
        await asyncio.sleep(0)


def make_config(
    workdir: Path,
    *,
    policy: str = "",
    staff: bool = True,
    name: str = "shop",
    networks: tuple[dict[str, Any], ...] = (),
    language: str = "en",
    extra_groups: tuple[int, ...] = (),
) -> LoadedConfig:
    """A config serving GROUP (and `extra_groups`) with the policy `name`; qunbot serves
    only the groups a config lists."""
    policies = workdir / "policies"
    policies.mkdir(exist_ok=True)
    (policies / f"{name}.yaml").write_text(policy or "extends: default\n", encoding="utf-8")
    config = Config(
        database=str(workdir / "qunbot.db"),
        policies_dir=str(policies),
        default_policy=name,
        groups=tuple(GroupConfig(chat_id=chat, policy=name) for chat in (GROUP, *extra_groups)),
        staff_chat=STAFF if staff else None,
        networks=networks,
        language=language,
    )
    return loaded_from(Located(config.model_dump(mode="json"), {}, {}, "(test)"), workdir)


def make_world(clock: TestClock) -> FakeTelegram:
    fake = FakeTelegram(clock=clock.now)
    fake.add_chat(GROUP, "supergroup", "Sunny Snacks")
    fake.bot_is_admin(GROUP)
    fake.add_chat(STAFF, "supergroup", "Staff")
    fake.bot_is_admin(STAFF)
    fake.add_user(OWNER, "Olga")
    fake.add_member(GROUP, OWNER, status="creator")
    fake.add_user(ADMIN, "Adam")
    fake.add_member(GROUP, ADMIN)
    fake.make_admin(GROUP, ADMIN)
    return fake


@dataclass
class Harness:
    """One running bot: push updates through it and look at the fake's state."""

    fake: FakeTelegram
    app: App
    clock: TestClock
    loaded: LoadedConfig
    next_user: int = 5000
    users: dict[str, int] = field(default_factory=dict)

    @classmethod
    async def start(
        cls,
        loaded: LoadedConfig,
        *,
        fake: FakeTelegram | None = None,
        clock: TestClock | None = None,
        simulated_waits: bool = False,
    ) -> Harness:
        """`simulated_waits`: the send queue's waits for Telegram's budgets move the test clock
        instead of taking real time (a test that sends past a group's 20 per minute)."""
        clock = clock or TestClock()
        fake = fake or make_world(clock)
        sleep = clock.sleep if simulated_waits else None
        app = build_application(loaded, request=FakeRequest(fake), clock=clock, sleep=sleep)
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        return cls(fake, app, clock, loaded)

    async def stop(self) -> None:
        await self.settle()
        await self.app.stop()
        # As `run_polling` does: what waits for its interval goes out while the bot can send.
        assert self.app.post_stop is not None
        await self.app.post_stop(self.app)
        await self.app.shutdown()
        assert self.app.post_shutdown is not None
        await self.app.post_shutdown(self.app)
        RECORDED_CALLS.extend(self.fake.calls)

    @property
    def services(self) -> Services:
        return self.app.bot_data.services

    async def settle(self) -> None:
        """Let batched deletes and notices go out."""
        await self.app.bot_data.moderation.enforcer.drain()

    async def feed(self, *updates: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Hand updates the fake produced to the bot, as polling would, and wait for effects."""
        flat: list[dict[str, Any]] = []
        for item in updates:
            flat.extend(item if isinstance(item, list) else [item])
        for update in flat:
            await self.app.process_update(Update.de_json(update, self.app.bot))
        self.fake.pending.clear()
        await self.settle()

    def member(self, name: str, *, joined: bool = True) -> int:
        """A new member (or an outsider who has not joined yet)."""
        if name in self.users:
            return self.users[name]
        self.next_user += 1
        self.fake.add_user(self.next_user, name.title())
        self.users[name] = self.next_user
        if joined:
            self.fake.add_member(GROUP, self.next_user)
        return self.next_user

    async def say(self, user_id: int, text: str, **extras: Any) -> int:
        update = self.fake.user_message(GROUP, user_id, text, **extras)
        await self.feed(update)
        return int(update["message"]["message_id"])

    def texts_in(self, chat_id: int) -> list[str]:
        return [message.text for message in self.fake.bot_messages(chat_id)]


async def command(harness: Harness, user: int, text: str, **extra: object) -> str:
    """What the bot answered in the group to `text` from `user` ("" if nothing)."""
    before = len(harness.fake.bot_messages(GROUP))
    await harness.say(user, text, **extra)
    replies = harness.fake.bot_messages(GROUP)[before:]
    return replies[-1].text if replies else ""


async def flush_staff(harness: Harness) -> str:
    """Everything the staff chat has been told, its waiting digest sent first."""
    await harness.services.staff.flush(STAFF)
    return "\n".join(harness.texts_in(STAFF))

"""Webhook mode and update numbering: setWebhook, delivery until 2xx, 409 on getUpdates, and
``update_id`` restarting after a quiet week."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Conflict

from bot.fake import (
    FakeRequest,
    FakeTelegram,
    FakeTelegramServer,
    ManualClock,
    ScriptError,
)
from bot.fake.shapes import build_scene
from bot.fake.webhook import SECRET_HEADER, WebhookDeliverer

T0 = 1_700_000_000.0
GROUP, ALICE = -1001, 2
WEEK = 7 * 86400
SECRET = "Shop_hook-42"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def tg(clock: ManualClock) -> FakeTelegram:
    tg = FakeTelegram(clock=clock)
    tg.add_user(ALICE, "Alice")
    tg.add_chat(GROUP, "supergroup", "Shop")
    tg.add_member(GROUP, ALICE)
    tg.bot_is_admin(GROUP)
    return tg


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot("123:ABC", request=FakeRequest(tg), get_updates_request=FakeRequest(tg)) as bot:
        yield bot


class Receiver:
    """A bot's webhook server on 127.0.0.1 that answers with scripted statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[int, str | None]] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.received.append((update["update_id"], request.headers.get(SECRET_HEADER)))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver([])
    await server.start()
    yield server
    await server.stop()


def post(tg: FakeTelegram, text: str) -> int:
    return int(tg.user_message(GROUP, ALICE, text)["update_id"])


# --------------------------------------------------------------------- setWebhook


@pytest.mark.parametrize(
    ("url", "secret", "reason"),
    [
        (
            "http://shop.example/hook",
            None,
            "bad webhook: An HTTPS URL must be provided for webhook",
        ),
        (
            "https://shop.example:8080/hook",
            None,
            "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
        ("https://shop.example/hook", "not ok!", "secret token contains unallowed characters"),
        ("https://shop.example/hook", "x" * 257, "secret token is too long"),
    ],
    ids=["plain http", "port", "secret characters", "secret length"],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    bot: Bot, tg: FakeTelegram, url: str, secret: str | None, reason: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){re.escape(reason)}"):
        await bot.set_webhook(url, secret_token=secret)
    assert tg.calls[-1].description == f"Bad Request: {reason}"
    assert tg.webhook is None


@pytest.mark.parametrize(
    "url", ["https://shop.example/hook", "https://shop.example:8443/h", "http://127.0.0.1:9/h"]
)
async def test_set_webhook_accepts_https_on_telegrams_ports_and_loopback_http(
    bot: Bot, tg: FakeTelegram, url: str
) -> None:
    assert await bot.set_webhook(url, secret_token="x" * 256)
    assert (await bot.get_webhook_info()).url == url


async def test_get_updates_is_a_conflict_while_a_webhook_is_set(
    bot: Bot, tg: FakeTelegram
) -> None:
    post(tg, "hello")
    await bot.set_webhook("https://shop.example/hook", secret_token=SECRET)
    with pytest.raises(Conflict, match=r"(?i)can't use getUpdates method while webhook is active"):
        await bot.get_updates(timeout=5)
    assert tg.calls[-1].status == 409
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://shop.example/hook", 1)
    assert await bot.delete_webhook()
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["hello"]
    assert (await bot.get_webhook_info()).url == ""


async def test_set_webhook_can_drop_pending_updates(bot: Bot, tg: FakeTelegram) -> None:
    post(tg, "old")
    await bot.set_webhook("https://shop.example/hook", drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0


# ---------------------------------------------------------------------- delivery


async def test_each_update_is_posted_with_the_secret_until_answered_2xx(
    bot: Bot, tg: FakeTelegram, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token=SECRET)
    first, second = post(tg, "one"), post(tg, "two")
    receiver.statuses = [500, 502, 204]
    deliverer = WebhookDeliverer(tg, retry_delays=[0])
    assert not await deliverer.deliver_pending()
    assert not await deliverer.deliver_pending()
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
    assert info.pending_update_count == 2
    assert await deliverer.deliver_pending()
    assert receiver.received == [
        (first, SECRET),
        (first, SECRET),
        (first, SECRET),
        (second, SECRET),
    ]
    assert [a.status for a in deliverer.attempts] == [500, 502, 204, 200]
    assert tg.pending == []


async def test_a_bounded_deliverer_gives_up_and_keeps_the_update(
    tg: FakeTelegram, receiver: Receiver
) -> None:
    tg.handle("setWebhook", {"url": receiver.url})
    stuck = post(tg, "one")
    receiver.statuses = [403] * 10
    deliverer = WebhookDeliverer(tg, retry_delays=[0.01], max_attempts=3)
    await asyncio.wait_for(deliverer.run(), 5)
    assert deliverer.gave_up is not None and deliverer.gave_up["update_id"] == stuck
    assert [a.status for a in deliverer.attempts] == [403, 403, 403]
    assert [u["update_id"] for u in tg.pending] == [stuck]


async def test_an_unreachable_webhook_is_an_error_not_a_delivery(tg: FakeTelegram) -> None:
    tg.handle("setWebhook", {"url": "http://127.0.0.1:9/hook"})
    post(tg, "one")
    deliverer = WebhookDeliverer(tg, max_attempts=1, timeout=2)
    assert not await deliverer.deliver_pending()
    assert deliverer.attempts[0].status == 0
    assert tg.webhook is not None and (tg.webhook.last_error_message or "").startswith(
        "Connection failed"
    )
    assert len(tg.pending) == 1


async def test_a_public_webhook_url_is_routed_to_the_local_listener(
    tg: FakeTelegram, receiver: Receiver
) -> None:
    tg.handle("setWebhook", {"url": "https://shop.example/hook?x=1", "secret_token": SECRET})
    deliverer = WebhookDeliverer(tg, route_to=f"http://127.0.0.1:{receiver.port}")
    assert deliverer.target() == f"http://127.0.0.1:{receiver.port}/hook?x=1"
    sent = post(tg, "one")
    assert await deliverer.deliver_pending()
    assert receiver.received == [(sent, SECRET)]


async def test_the_http_fake_delivers_as_soon_as_updates_arrive(
    tg: FakeTelegram, receiver: Receiver
) -> None:
    async with FakeTelegramServer(tg, webhook_retry_delays=[0.01]) as server:
        async with Bot("123:ABC", base_url=server.base_url) as bot:
            await bot.set_webhook(receiver.url, secret_token=SECRET)
        receiver.statuses = [500]
        sent = post(tg, "one")
        await wait_until(lambda: not tg.pending)
    assert receiver.received == [(sent, SECRET), (sent, SECRET)]


async def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met within 5 s")


# ------------------------------------------------------------------ update_id restart


def test_update_ids_restart_only_after_a_quiet_week(tg: FakeTelegram, clock: ManualClock) -> None:
    for text in [f"m{i}" for i in range(11)]:
        post(tg, text)
    clock.advance(WEEK)
    with pytest.raises(ScriptError, match="number more than 12 updates"):
        tg.restart_update_ids()
    post(tg, "the 12th")
    clock.advance(WEEK - 1)
    with pytest.raises(ScriptError, match="a week without updates"):
        tg.restart_update_ids()
    clock.advance(1)
    with pytest.raises(ScriptError, match="between 1 and 1"):
        tg.restart_update_ids(start=2)
    assert tg.restart_update_ids(random.Random(3)) == 1
    assert post(tg, "after") == 1


@pytest.mark.parametrize("rng", [random.Random(seed) for seed in range(4)])
async def test_a_poller_holding_the_old_offset_still_gets_the_renumbered_updates(
    bot: Bot, tg: FakeTelegram, clock: ManualClock, rng: random.Random
) -> None:
    for text in [f"m{i}" for i in range(40)]:
        post(tg, text)
    updates = await bot.get_updates()
    old_offset = updates[-1].update_id + 1
    assert await bot.get_updates(offset=old_offset) == ()
    clock.advance(WEEK)
    tg.restart_update_ids(rng)
    renumbered = [post(tg, "after a week"), post(tg, "and again")]
    assert max(renumbered) < old_offset
    got = await bot.get_updates(offset=old_offset)
    assert [u.update_id for u in got] == renumbered
    assert [u.update_id for u in await bot.get_updates(offset=renumbered[0] + 1)] == renumbered[1:]


async def test_new_scenes_can_be_injected_over_http(clock: ManualClock) -> None:
    tg = FakeTelegram(clock=clock)
    scene = build_scene(tg)
    ops = [
        {"op": "channel_post", "channel_id": scene.channel, "user_id": scene.admin, "text": "new"},
        {"op": "create_topic", "chat_id": scene.forum, "user_id": scene.admin, "name": "Refunds"},
        {
            "op": "invite_member",
            "chat_id": scene.group,
            "user_id": scene.other_bot,
            "by_user_id": scene.member,
        },
    ]
    async with FakeTelegramServer(tg) as server, aiohttp.ClientSession() as session:
        inject = f"{server.url}/_fake/inject"
        for op in ops:
            async with session.post(inject, json=op) as response:
                assert response.status == 200, await response.text()
        for _ in range(8):
            tg.user_message(scene.group, scene.member, "chatter")
        clock.advance(WEEK)
        restart = {"op": "restart_update_ids", "start": 1}
        async with session.post(inject, json=restart) as response:
            assert (await response.json())["result"] == 1
    forwarded = tg.messages(scene.group)[0].data
    assert (forwarded["is_automatic_forward"], forwarded["text"]) == (True, "new")
    assert "Refunds" in [t.name for t in tg.chats[scene.forum].topics.values()]
    assert tg.status_of(scene.group, scene.other_bot) == "member"
    assert tg.next_update_id == 1

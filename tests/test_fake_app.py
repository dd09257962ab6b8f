"""A real PTB ``Application`` polls the fake in-process and over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.fake import FakeRequest, FakeTelegram, FakeTelegramServer, ManualClock, Upload

TOKEN = "123:ABC"
OWNER, ALICE = 1, 2
GROUP = -1001


@pytest.fixture
def tg() -> FakeTelegram:
    tg = FakeTelegram(clock=ManualClock())
    tg.add_user(OWNER, "Olga")
    tg.add_user(ALICE, "Alice")
    tg.add_chat(GROUP, "supergroup", "Shop")
    tg.add_member(GROUP, OWNER, "creator")
    tg.bot_is_admin(GROUP)
    return tg


@pytest.fixture
async def server(
    tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeTelegramServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with FakeTelegramServer(tg) as server:
        yield server


def echo_app(builder: ApplicationBuilder, seen: asyncio.Queue[str]) -> Application:  # type: ignore[type-arg]
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        text = update.effective_message.text or ""
        await update.effective_message.reply_text(f"echo: {text}")
        await seen.put(text)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"ticket {context.args}")
        await seen.put(f"start {' '.join(context.args or [])}")

    async def joined(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.chat_member is not None
        await seen.put(f"joined {update.chat_member.new_chat_member.user.id}")

    app = builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(ChatMemberHandler(joined, ChatMemberHandler.CHAT_MEMBER))
    return app


async def poll_until(app: Application, seen: asyncio.Queue[str], count: int) -> list[str]:  # type: ignore[type-arg]
    return [await asyncio.wait_for(seen.get(), 5) for _ in range(count)]


async def test_application_polls_the_in_process_fake(tg: FakeTelegram) -> None:
    seen: asyncio.Queue[str] = asyncio.Queue()
    builder = ApplicationBuilder().token(TOKEN)
    builder = builder.request(FakeRequest(tg)).get_updates_request(FakeRequest(tg))
    app = echo_app(builder, seen)
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await app.start()
        tg.user_message(GROUP, OWNER, "hello")
        tg.join(GROUP, ALICE)
        assert sorted(await poll_until(app, seen, 2)) == ["hello", f"joined {ALICE}"]
        await app.updater.stop()
        await app.stop()
    assert [m.text for m in tg.bot_messages(GROUP)] == ["echo: hello"]
    assert tg.allowed_updates == list(Update.ALL_TYPES)


async def test_run_polling_over_http_driven_by_injection(
    tg: FakeTelegram, server: FakeTelegramServer
) -> None:
    seen: asyncio.Queue[str] = asyncio.Queue()
    app = echo_app(ApplicationBuilder().token(TOKEN).base_url(server.base_url), seen)
    async with app, aiohttp.ClientSession() as session:
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=2)
        await app.start()
        inject = f"{server.url}/_fake/inject"
        payload = {"op": "start_private", "kwargs": {"user_id": ALICE, "payload": "ticket-7"}}
        async with session.post(inject, json=payload) as response:
            assert response.status == 200
        flat = {"op": "user_message", "chat_id": GROUP, "user_id": OWNER, "text": "over http"}
        async with session.post(inject, json=flat) as response:
            assert (await response.json())["result"]["message"]["text"] == "over http"
        assert sorted(await poll_until(app, seen, 2)) == ["over http", "start ticket-7"]
        await app.updater.stop()
        await app.stop()
        async with session.get(f"{server.url}/_fake/state") as response:
            state = await response.json()
    kinds = [event["kind"] for event in state["events"]]
    assert kinds.count("bot_message") == 2
    assert state["chats"][str(GROUP)]["members"][str(OWNER)] == "creator"
    assert server.tokens_seen == {TOKEN}


async def test_http_form_fields_are_decoded_with_spec_types(
    tg: FakeTelegram, server: FakeTelegramServer
) -> None:
    tg.user_message(GROUP, ALICE, "spam")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Rules", url="https://t.me/shop")]])
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        await bot.ban_chat_member(GROUP, ALICE, until_date=0, revoke_messages=True)
        await bot.send_message(GROUP, "123", reply_markup=keyboard)
        photo = await bot.send_photo(GROUP, photo=b"\x89PNG", caption="pic")
        tg.set_bot_rights(GROUP)
        with pytest.raises(BadRequest, match="Not enough rights"):
            await bot.restrict_chat_member(GROUP, OWNER, permissions={})  # type: ignore[arg-type]
    ban = tg.calls_to("banChatMember")[0].params
    assert ban == {"chat_id": GROUP, "user_id": ALICE, "until_date": 0, "revoke_messages": True}
    send = tg.calls_to("sendMessage")[0].params
    assert send["text"] == "123" and send["reply_markup"] == keyboard.to_dict()
    upload = tg.calls_to("sendPhoto")[0].params["photo"]
    assert isinstance(upload, Upload) and upload.content == b"\x89PNG"
    assert photo.caption == "pic"


async def test_long_poll_answers_when_an_update_arrives(
    tg: FakeTelegram, server: FakeTelegramServer
) -> None:
    url = f"{server.base_url}{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data={"timeout": "0"}) as response:
            assert await response.json() == {"ok": True, "result": []}
        waiting = asyncio.ensure_future(session.post(url, data={"timeout": "30"}))
        await asyncio.wait_for(tg.wait_for_poller(), 5)
        tg.user_message(GROUP, OWNER, "wake up")
        response = await asyncio.wait_for(waiting, 5)
        body = await response.json()
        response.release()
    assert [u["message"]["text"] for u in body["result"]] == ["wake up"]


async def test_stopping_the_server_ends_pending_long_polls(tg: FakeTelegram) -> None:
    server = FakeTelegramServer(tg)
    await server.start()
    async with aiohttp.ClientSession() as session:
        url = f"{server.base_url}{TOKEN}/getUpdates"
        waiting = asyncio.ensure_future(session.post(url, json={"timeout": 60}))
        await asyncio.wait_for(tg.wait_for_poller(), 5)
        await asyncio.wait_for(server.stop(), 5)
        response = await asyncio.wait_for(waiting, 5)
        assert response.status == 200
        response.release()


async def test_unknown_methods_and_bad_injections_over_http(server: FakeTelegramServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.base_url}{TOKEN}/sendTelepathy") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        inject = f"{server.url}/_fake/inject"
        async with session.post(inject, json={"op": "rm_rf"}) as response:
            assert response.status == 400
        bad = {"op": "user_message", "kwargs": {"chat_id": GROUP, "user_id": 404}}
        async with session.post(inject, json=bad) as response:
            assert response.status == 400
            assert "unknown user" in (await response.json())["error"]

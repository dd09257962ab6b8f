"""Webhook mode: Telegram posts each update to qunbot's HTTP server.

The server answers Telegram only once the update was handled (or its handler only waits for a
queued send), so a crash at any moment leaves the update unanswered and Telegram delivers it
again, as polling's low-water mark guarantees for polling. Every request must carry the secret
token registered with `setWebhook`; anything else is refused with 403. The server speaks plain
HTTP on `listen`: put it behind the TLS-terminating proxy that serves the public https URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import secrets
import signal
from typing import Any

from aiohttp import web
from loguru import logger
from telegram import Update
from telegram.ext import Application

from bot.core.config import WebhookConfig
from bot.core.health import IDLE_BEAT_INTERVAL
from bot.core.updates import LedgerBot, UpdateFlow

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def secret_for(settings: WebhookConfig) -> str:
    """The secret from the environment, or a fresh random one (registered at each start)."""
    return os.environ.get(settings.secret_token_env, "").strip() or secrets.token_urlsafe(32)


class WebhookServer:
    """The HTTP endpoint Telegram posts to, handing each update to the chat lanes."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], secret: str):
        bot = application.bot
        if not isinstance(bot, LedgerBot):
            raise RuntimeError("build the application with bot.app.build_application")
        self.application, self.flow, self.secret = application, bot.flow, secret
        self.refused = 0

    def routes(self, path: str) -> web.Application:
        app = web.Application(client_max_size=2**20)
        app.router.add_post(path, self.receive)
        return app

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.refused += 1
            logger.warning("webhook request without the right secret from {}", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError) as error:
            # Malformed: answering 200 stops Telegram from sending it again forever.
            logger.warning("webhook: an update that cannot be read was skipped: {}", error)
            return web.Response(text="skipped")
        await handled(self.flow, self.application, update)
        return web.Response(text="ok")


async def handled(flow: UpdateFlow, application: Any, update: Update) -> None:
    """Hand the update over and wait until it was handled; a repeat delivery of an update
    still in flight waits for that one."""
    ticket = await flow.hand_over(application, update)
    if ticket is None:
        ticket = flow.open.get(update.update_id)
    if ticket is not None:
        await flow.handled(ticket)


def run_webhook(
    application: Application[Any, Any, Any, Any, Any, Any], settings: WebhookConfig
) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""
    return asyncio.run(serve(application, settings))


async def serve(
    application: Application[Any, Any, Any, Any, Any, Any],
    settings: WebhookConfig,
    *,
    stop: asyncio.Event | None = None,
) -> int:
    stop = stop or _stop_on_signals()
    secret = secret_for(settings)
    server = WebhookServer(application, secret)
    runner = web.AppRunner(server.routes(settings.path), access_log=None)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        await application.bot.set_webhook(
            settings.url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            max_connections=settings.max_connections,
        )
        logger.info("webhook set to {}; listening on {}", settings.url, settings.listen)
        beating = asyncio.create_task(_beat_while_up(server.flow))
        await stop.wait()
    finally:
        with contextlib.suppress(NameError):
            beating.cancel()
        await runner.cleanup()
        if application.running:
            await application.stop()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        await application.shutdown()
    return 0


async def _beat_while_up(flow: UpdateFlow) -> None:
    """Telegram sends nothing to a quiet group's bot: the heartbeat must not go stale."""
    while True:
        flow.alive()
        await asyncio.sleep(IDLE_BEAT_INTERVAL / 3)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return stop

"""The fake Telegram over HTTP on 127.0.0.1, for ``run_polling`` and other processes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.fake.models import ScriptError
from bot.fake.request import bind_uploads
from bot.fake.spec import Upload, decode_form_value
from bot.fake.state import FakeTelegram
from bot.fake.webhook import DEFAULT_RETRY_DELAYS, WebhookDeliverer

# The scripting calls and update producers of FakeTelegram that other processes may drive.
INJECT_OPS = frozenset(
    [
        "add_user",
        "add_chat",
        "add_member",
        "make_admin",
        "set_bot_rights",
        "bot_is_admin",
        "start_private",
        "block_bot",
        "migrate_to_supergroup",
        "fail_next",
        "user_message",
        "private_message",
        "edit_message",
        "join",
        "join_request",
        "leave",
        "press_button",
        "bot_added_to_chat",
        "channel_post",
        "create_topic",
        "invite_member",
        "restart_update_ids",
    ]
)


class FakeTelegramServer:
    """Serves ``/bot<token>/<method>`` plus ``/_fake/inject`` and ``/_fake/state``."""

    def __init__(
        self,
        telegram: FakeTelegram | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_route: str | None = None,
        webhook_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        webhook_max_attempts: int | None = None,
    ) -> None:
        """Prepares the server; ``port=0`` picks a free port on ``start``.

        Once the bot calls ``setWebhook``, pending updates are POSTed to it; ``webhook_route``
        (``http://127.0.0.1:PORT``) says where a webhook on a public https URL really listens.
        """
        self.telegram = telegram or FakeTelegram()
        self.host = host
        self.port = port
        self.webhooks = WebhookDeliverer(
            self.telegram,
            route_to=webhook_route,
            retry_delays=webhook_retry_delays,
            max_attempts=webhook_max_attempts,
        )
        # Tokens are kept for assertions only; they never reach a log line.
        self.tokens_seen: set[str] = set()
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """The value for ``ApplicationBuilder().base_url(...)``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def url(self) -> str:
        """The server root, e.g. for ``/_fake/inject``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Binds the port and starts serving."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_post("/_fake/inject", self._inject)
        app.router.add_get("/_fake/state", self._state)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        self.webhooks.start()

    async def stop(self) -> None:
        """Ends pending long polls and closes the server."""
        if self._runner is None:
            return
        await self.webhooks.stop()
        self.telegram.release_pollers()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        """Starts the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stops the server."""
        await self.stop()

    async def _api(self, request: web.Request) -> web.Response:
        self.tokens_seen.add(request.match_info["token"])
        method = request.match_info["method"]
        params = await self._params(request, method)
        status, body = await self.telegram.handle_async(method, params)
        return web.json_response(body, status=status)

    async def _params(self, request: web.Request, method: str) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        fields: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.can_read_body:
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[name] = Upload(value.filename, value.file.read())
                else:
                    fields[name] = value
        spec = self.telegram.spec
        params = {k: decode_form_value(spec, method, k, str(v)) for k, v in fields.items()}
        return bind_uploads(params, uploads)

    async def _inject(self, request: web.Request) -> web.Response:
        body = await request.json()
        op = body.pop("op", None)
        if op not in INJECT_OPS:
            return web.json_response({"ok": False, "error": f"unknown op {op!r}"}, status=400)
        kwargs = body.get("kwargs", body)
        try:
            result = getattr(self.telegram, op)(**kwargs)
        except (ScriptError, TypeError) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)
        if dataclasses.is_dataclass(result) and not isinstance(result, type):
            result = dataclasses.asdict(result)
        return web.json_response({"ok": True, "result": result})

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.telegram.summary())

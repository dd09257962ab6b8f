"""An in-process ``BaseRequest`` that answers PTB's calls from a ``FakeTelegram``."""

from __future__ import annotations

import json
from typing import IO, Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot.fake.spec import Upload
from bot.fake.state import FakeTelegram


class FakeRequest(BaseRequest):
    """Hands every Bot API call to a ``FakeTelegram``; ``getUpdates`` long-polls."""

    def __init__(self, telegram: FakeTelegram, *, read_timeout: float | None = 5.0) -> None:
        """Binds the request object to one fake Telegram."""
        self.telegram = telegram
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout; PTB adds the long-poll ``timeout`` to it for getUpdates."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answers one call: the API method is the last segment of ``url``."""
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        status, body = await self.telegram.handle_async(api_method, call_parameters(request_data))
        return status, json.dumps(body).encode()


def call_parameters(request_data: RequestData | None) -> dict[str, Any]:
    """Python values of a call, with uploaded files as ``Upload`` objects."""
    if request_data is None:
        return {}
    uploads = {
        name: Upload(str(part[0] or name), _read(part[1]))
        for name, part in request_data.multipart_data.items()
    }
    return bind_uploads(dict(request_data.parameters), uploads)


def bind_uploads(params: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any]:
    """Puts uploaded parts where the call refers to them (``attach://name`` or by name)."""
    for name, upload in uploads.items():
        referencing = [key for key, value in params.items() if value == f"attach://{name}"]
        for key in referencing or [name]:
            params[key] = upload
    return params


def _read(content: bytes | IO[bytes]) -> bytes:
    return content if isinstance(content, bytes) else content.read()

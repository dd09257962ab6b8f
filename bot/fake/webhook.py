"""Webhook delivery by the fake Telegram: POST each pending update until the bot answers 2xx."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bot.fake.models import JSON
from bot.fake.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram backs off between failed deliveries; these are the fake's (short) steps, in seconds.
DEFAULT_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of one update: the HTTP status, or 0 and the error when nothing answered."""

    update_id: int
    url: str
    status: int
    error: str = ""

    @property
    def ok(self) -> bool:
        """Telegram counts any 2xx answer as delivered."""
        return 200 <= self.status < 300


class WebhookDeliverer:
    """Delivers a ``World``'s pending updates to its webhook, in order, one at a time.

    An update stays pending until the bot's server answers 2xx; the next attempt waits a
    little longer each time (``retry_delays``). ``route_to`` replaces the scheme and host of the
    webhook URL (keeping its path), so a bot that registered ``https://shop.example/hook`` can
    be reached on ``http://127.0.0.1:PORT/hook`` in tests. ``max_attempts`` bounds how often
    one update is tried, so a test cannot retry forever; Telegram itself keeps trying.
    """

    def __init__(
        self,
        world: World,
        *,
        route_to: str | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        max_attempts: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Prepares delivery for one world; nothing is sent before ``deliver_pending`` or
        ``start``."""
        self.world = world
        self.route_to = route_to
        self.retry_delays = tuple(retry_delays) or (0.0,)
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.attempts: list[DeliveryAttempt] = []
        self.gave_up: JSON | None = None
        self._failures_in_a_row = 0
        self._task: asyncio.Task[None] | None = None

    def target(self) -> str | None:
        """Where the next update goes, or None when no webhook is set."""
        hook = self.world.webhook
        if hook is None:
            return None
        if self.route_to is None:
            return hook.url
        wanted, route = urlsplit(hook.url), urlsplit(self.route_to)
        return urlunsplit((route.scheme, route.netloc, wanted.path, wanted.query, ""))

    async def deliver_pending(self) -> bool:
        """Tries each pending update in order; stops at the first one not answered with 2xx.

        Returns True when nothing is left to deliver.
        """
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout)
        ) as session:
            for update in [u for u in self.world.pending if self.world.allowed(u)]:
                if self.gave_up is not None:
                    return False
                if not await self._deliver(session, update):
                    return False
        return True

    async def _deliver(self, session: aiohttp.ClientSession, update: JSON) -> bool:
        url, hook = self.target(), self.world.webhook
        if url is None or hook is None:
            return False
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        attempt = await _post(session, url, update, headers)
        self.attempts.append(attempt)
        if attempt.ok:
            self._failures_in_a_row = 0
            if update in self.world.pending:
                self.world.pending.remove(update)
            return True
        self._failures_in_a_row += 1
        hook.last_error_date = self.world.now()
        hook.last_error_message = attempt.error
        if self.max_attempts is not None and self._failures_in_a_row >= self.max_attempts:
            self.gave_up = update
        return False

    def next_delay(self) -> float:
        """How long to wait before retrying after the failures so far."""
        step = min(self._failures_in_a_row, len(self.retry_delays)) - 1
        return self.retry_delays[max(step, 0)]

    async def run(self) -> None:
        """Delivers whenever updates arrive or a retry is due, until cancelled or it gives up."""
        wake = self.world.listen()
        try:
            while self.gave_up is None:
                wake.clear()
                done = self.world.webhook is None or await self.deliver_pending()
                if self.gave_up is not None:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), None if done else self.next_delay())
        finally:
            self.world.unlisten(wake)

    def start(self) -> None:
        """Runs ``run`` in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        """Stops background delivery."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


async def _post(
    session: aiohttp.ClientSession, url: str, update: JSON, headers: dict[str, str]
) -> DeliveryAttempt:
    update_id = int(update["update_id"])
    try:
        async with session.post(url, json=update, headers=headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        return DeliveryAttempt(update_id, url, 0, f"Connection failed: {error or type(error)}")
    if 200 <= status < 300:
        return DeliveryAttempt(update_id, url, status)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return DeliveryAttempt(
        update_id, url, status, f"Wrong response from the webhook: {status} {phrase}".strip()
    )

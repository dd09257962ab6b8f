"""Sending to a chat at most once per interval, in the background, so a handler never waits
for Telegram's send budget; what arrives in between goes out together."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import ContextTypes, JobQueue

from bot.core.clock import Clock


class Collapser:
    """Base of the collapsing senders: subclasses say what `flush` sends for a chat."""

    def __init__(self, clock: Clock, jobs: JobQueue[Any] | None) -> None:
        self.clock, self.jobs = clock, jobs
        self.last_sent: dict[int, float] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def request_flush(self, chat_id: int, interval: float) -> None:
        delay = self.last_sent.get(chat_id, float("-inf")) + interval - self.clock.now()
        if delay <= 0:
            self.last_sent[chat_id] = self.clock.now()
            task = asyncio.get_running_loop().create_task(self.flush(chat_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif not self._flush_scheduled(chat_id):
            self._schedule(chat_id, delay)

    def job_name(self, chat_id: int) -> str:
        return f"qunbot.{type(self).__name__}.{chat_id}"

    def _flush_scheduled(self, chat_id: int) -> bool:
        return bool(self.jobs and self.jobs.get_jobs_by_name(self.job_name(chat_id)))

    def _schedule(self, chat_id: int, delay: float) -> None:
        if self.jobs is None:
            raise RuntimeError("qunbot needs python-telegram-bot[job-queue]")
        self.jobs.run_once(self._flush_job, when=delay, data=chat_id, name=self.job_name(chat_id))

    async def _flush_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        job = context.job
        if job is not None and isinstance(job.data, int):
            self.last_sent[job.data] = self.clock.now()
            await self.flush(job.data)

    async def flush(self, chat_id: int) -> None:
        raise NotImplementedError

    def waiting_chats(self) -> list[int]:
        """The chats with something waiting for its interval."""
        raise NotImplementedError

    async def flush_waiting(self, rounds: int = 20) -> None:
        """Send now whatever waits for its interval: at a graceful stop it would be lost. A
        flush may send only part of a backlog, so it is repeated, a bounded number of times
        (a chat Telegram keeps refusing must not hold the stop)."""
        for _ in range(rounds):
            waiting = self.waiting_chats()
            if not waiting:
                break
            for chat_id in waiting:
                await self.flush(chat_id)
            await self.drain()

    async def drain(self) -> None:
        """Wait for every send under way; used at shutdown and by tests."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

"""The optional newcomer check: restricted until the button is pressed, removed at the deadline.

The deadline is stored before the member is restricted, and every pending check is
rescheduled when the bot starts, so a restart never leaves anyone muted for good.
"""

from __future__ import annotations

from typing import Any

from loguru import logger
from telegram import Bot, ChatMember, User
from telegram.error import TelegramError
from telegram.ext import ContextTypes, JobQueue

from bot.core.services import Services
from bot.telegram.permissions import is_present

ADMIN_STATUSES = {ChatMember.ADMINISTRATOR, ChatMember.OWNER}
RESTART_GRACE = 60.0
"""Seconds a newcomer still has to press the button after a restart, at the least."""


def check_job_name(chat_id: int, user_id: int) -> str:
    return f"qunbot.newcomer.{chat_id}.{user_id}"


class NewcomerGate:
    """Starts, passes and expires newcomer checks."""

    def __init__(self, runtime: Services, bot: Bot, jobs: JobQueue[Any] | None) -> None:
        self.runtime, self.bot, self.jobs = runtime, bot, jobs

    async def exempt(self, chat_id: int, status: str, added_by: User | None, user: User) -> bool:
        """Admins, and newcomers an admin added, are never checked."""
        if status in ADMIN_STATUSES:
            return True
        if added_by is None or added_by.id == user.id:
            return False
        return added_by.id in (await self.runtime.chat_info.get(self.bot, chat_id)).admins

    async def start(self, chat_id: int, title: str, user_id: int, allowed: float) -> bool:
        """Restrict the newcomer for `allowed` seconds, or until they press the button; false
        if the bot cannot restrict them."""
        now = self.runtime.now()
        checks = self.runtime.store.newcomer_checks
        await checks.add(chat_id, user_id, now + allowed, now)
        try:
            door = await self.runtime.doors.for_chat(chat_id)
            await door.mute(chat_id, user_id, None)
        except TelegramError as error:
            await checks.finish(chat_id, user_id)
            await self.runtime.staff.failed(chat_id, error, "mute", title)
            return False
        self.schedule(chat_id, user_id, now + allowed)
        return True

    async def passed(self, chat_id: int, user_id: int) -> bool:
        """The newcomer pressed the button: lift every restriction. False if none was pending."""
        if not await self.runtime.store.newcomer_checks.finish(chat_id, user_id):
            return False
        self._cancel(chat_id, user_id)
        try:
            await (await self.runtime.doors.for_chat(chat_id)).release(chat_id, user_id)
        except TelegramError as error:
            await self.runtime.staff.failed(chat_id, error, "mute")
        return True

    async def expire(self, chat_id: int, user_id: int) -> bool:
        """The time is up: remove a newcomer who is still restricted. True if removed."""
        if not await self.runtime.store.newcomer_checks.finish(chat_id, user_id):
            return False
        door = await self.runtime.doors.for_chat(chat_id)
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
            if member.status != ChatMember.RESTRICTED:
                return False
            if not is_present(member):
                # Gone already: lift the mute, so a later join starts a fresh check.
                await door.release(chat_id, user_id)
                return False
            await door.kick(chat_id, user_id, self.runtime.now())
        except TelegramError as error:
            await self.runtime.staff.failed(chat_id, error, "kick")
            return False
        await self.runtime.store.audit.add(
            chat_id, self.runtime.now(), "newcomer-check-removed", target_id=user_id
        )
        logger.info("newcomer {} did not pass the check in {}: removed", user_id, chat_id)
        return True

    def schedule(self, chat_id: int, user_id: int, deadline: float) -> None:
        queue = self.jobs
        if queue is None:
            raise RuntimeError("qunbot needs python-telegram-bot[job-queue]")
        queue.run_once(
            self._expire_job,
            when=max(0.0, deadline - self.runtime.now()),
            data=(chat_id, user_id),
            name=check_job_name(chat_id, user_id),
        )

    async def reschedule_pending(self) -> int:
        """After a restart: every stored check gets its timeout job back. A deadline that
        passed while qunbot was down gets `RESTART_GRACE` more: the welcome with the button
        may only now be posted (a wave that was waiting), so nobody is removed unprompted."""
        pending = await self.runtime.store.newcomer_checks.all()
        earliest = self.runtime.now() + RESTART_GRACE
        for check in pending:
            self.schedule(check.chat_id, check.user_id, max(check.deadline, earliest))
        return len(pending)

    def _cancel(self, chat_id: int, user_id: int) -> None:
        queue = self.jobs
        if queue is not None:
            for job in queue.get_jobs_by_name(check_job_name(chat_id, user_id)):
                job.schedule_removal()

    async def _expire_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        job = context.job
        if job is not None and isinstance(job.data, tuple):
            await self.expire(*job.data)

"""Handling updates of different chats side by side, each chat's in order, and confirming to
Telegram only what was handled.

`UpdateFlow` is the one place that knows which updates are in flight. Polling asks Telegram
from its low-water mark (the oldest update not yet handled), so a crash at any moment loses
none: Telegram delivers again everything from that mark. Updates already taken in this run
are not taken twice; across restarts, what was *done* is deduplicated (the enforced-message
records), never an update because of its id, since Telegram may restart the numbering after a
week without updates.

Each update belongs to a lane (its chat, or its user when it has no chat; a user's private
chat is the same lane). An update starts once the previous one of its lane has finished, and
at most `max_running` handlers run at once. A handler that must wait for Telegram's send budget
lets its lane and its confirmation go on (`Ticket.detach`): the send is queued, the rest of
the handler runs once it is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from loguru import logger
from telegram import Update
from telegram.ext import BaseUpdateProcessor, ExtBot

from bot.core.health import Heartbeat

MAX_RUNNING = 32
"""Handlers running at once; more updates wait in their lanes (cheap parked tasks)."""
STORAGE_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0)
"""Pauses before handling an update again after a storage error (about 40 s in all, on top of
SQLite's own busy timeout per attempt); if it still fails, the process exits."""
EXIT_STORAGE = 75
"""Exit status when the database stays unusable: EX_TEMPFAIL, so a supervisor restarts."""
REPEAT_WAIT = 0.25
"""When a poll brings back only updates already in flight, wait this long at most for one to
finish before asking again, rather than asking Telegram in a busy loop."""

LaneKey = tuple[str, int]


@dataclass(eq=False)
class Ticket:
    """One update on its way through the bot."""

    update: object
    update_id: int | None
    lane: LaneKey
    previous: asyncio.Future[None] | None
    finished: asyncio.Future[None]
    """Done once the lane may go on: the update was handled, or its handler detached."""
    storage_error: BaseException | None = None
    detached: bool = False
    confirmed: bool = False
    """Finished as handled: it no longer holds the low-water mark (and counted once)."""
    handler: asyncio.Future[Any] | None = None
    """The task running the update's handlers: only it may detach them (see
    `detach_current_handler`)."""

    def detach(self) -> None:
        """The handler now only waits for a queued send: its lane and confirmation go on."""
        if not self.detached:
            self.detached = True
            if not self.finished.done():
                self.finished.set_result(None)


CURRENT_TICKET: ContextVar[Ticket | None] = ContextVar("qunbot_current_ticket", default=None)


def detach_current_handler() -> None:
    """Called before a wait on the send budget: the handler of this update stops holding its
    lane and its confirmation. Outside an update (jobs, background sends) it does nothing."""
    ticket = CURRENT_TICKET.get()
    # A task the handler started (a batched delete, a notice) inherits its context, but its
    # wait is its own: the handler may still be at work on the update.
    if ticket is not None and ticket.handler is asyncio.current_task():
        ticket.detach()


def note_storage_error(error: BaseException) -> bool:
    """Called by the error handler: the update being handled hit a database error and is to be
    handled again. Returns whether an update was underway to note it on."""
    ticket = CURRENT_TICKET.get()
    # Once the update was let go (its handler detached), it will not be handled again: the
    # error is then reported as an error, not as a retry that never comes.
    if ticket is None or ticket.finished.done() or not is_storage_error(error):
        return False
    ticket.storage_error = error
    return True


def is_storage_error(error: BaseException) -> bool:
    """A database that is locked, full, read-only or unreadable: worth retrying the update."""
    return isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError) and not isinstance(
        error, sqlite3.IntegrityError | sqlite3.ProgrammingError
    )


def lane_of(update: object) -> LaneKey | None:
    """The chat an update belongs to; a user's private chat and their chat-less updates (inline
    queries, for example) share one lane, since a private chat's id is the user's id."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("chat", update.effective_user.id)
    return None


def exit_for_storage(error: BaseException) -> None:
    """One line for the operator, then exit without confirming anything unhandled."""
    print(
        f"qunbot: the database stayed unusable ({error}); exiting so that a supervisor "
        "restarts qunbot. No unhandled update was confirmed to Telegram.",
        file=sys.stderr,
        flush=True,
    )
    os._exit(EXIT_STORAGE)


@dataclass
class UpdateFlow:
    """The low-water mark and the lanes."""

    heartbeat: Heartbeat | None = None
    open: dict[int, Ticket] = field(default_factory=dict)
    """Updates taken and not yet finished, by id."""
    done_above_mark: set[int] = field(default_factory=set)
    """Finished updates Telegram will still send again (they are above the mark)."""
    last_taken: int | None = None
    tails: dict[LaneKey, asyncio.Future[None]] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    """Tickets by `id(update)`, from `take` until processing starts."""
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    def offset(self) -> int | None:
        """The offset to confirm with: the oldest update not finished, or the next one."""
        if self.open:
            return min(self.open)
        return None if self.last_taken is None else self.last_taken + 1

    def take(self, update: object) -> Ticket | None:
        """Admit an update; None if it was already taken in this run (a repeat delivery)."""
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is not None:
            if update_id in self.open or update_id in self.done_above_mark:
                return None
            self.last_taken = update_id
        loop = asyncio.get_running_loop()
        lane = lane_of(update) or ("update", id(update))
        ticket = Ticket(update, update_id, lane, self.tails.get(lane), loop.create_future())
        self.tails[lane] = ticket.finished
        if update_id is not None:
            self.open[update_id] = ticket
        self.tickets[id(update)] = ticket
        return ticket

    async def hand_over(self, application: Any, update: Update) -> Ticket | None:
        """Take an update that arrived outside polling (a webhook, a bench) and queue it for
        the application; None if it was already taken."""
        ticket = self.take(update)
        if ticket is not None:
            await application.update_queue.put(update)
        return ticket

    async def handled(self, ticket: Ticket) -> None:
        """Wait until the update was handled (or its handler detached)."""
        await asyncio.shield(ticket.finished)

    def ticket_for(self, update: object) -> Ticket:
        ticket = self.tickets.pop(id(update), None)
        if ticket is None:  # handed to the application without `take` (tests, the simulator)
            ticket = self.take(update)
            assert ticket is not None
            self.tickets.pop(id(update), None)
        return ticket

    def finish(self, ticket: Ticket, *, handled: bool = True) -> None:
        """The update's lane may go on; unless `handled` is False (it failed for good), it
        no longer holds the low-water mark either."""
        if not ticket.finished.done():
            ticket.finished.set_result(None)
        if self.tails.get(ticket.lane) is ticket.finished:
            del self.tails[ticket.lane]
        if not handled or ticket.confirmed:
            return
        ticket.confirmed = True
        if ticket.update_id is not None and self.open.pop(ticket.update_id, None) is not None:
            self.done_above_mark.add(ticket.update_id)
        if self.heartbeat is not None:
            self.heartbeat.beat()
        self.progress.set()

    def alive(self) -> None:
        """Polling goes on (or the webhook server is up): refresh the heartbeat."""
        if self.heartbeat is not None:
            self.heartbeat.beat(handled=False)

    async def wait_for_progress(self, seconds: float) -> None:
        self.progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.progress.wait(), seconds)

    async def take_new(self, asked_from: int | None, updates: Sequence[Update]) -> list[Update]:
        """The updates of a poll (asked from offset `asked_from`) not taken before; when there
        are none though Telegram sent some (all still in flight), wait a moment for one of
        them to finish."""
        if asked_from is not None:
            # Telegram has forgotten everything below the offset asked with: only finished
            # updates at or above it can come again.
            self.done_above_mark = {i for i in self.done_above_mark if i >= asked_from}
        fresh = [update for update in updates if self.take(update) is not None]
        if updates and not fresh:
            await self.wait_for_progress(REPEAT_WAIT)
        return fresh


class ChatLanes(BaseUpdateProcessor):
    """PTB's hook for concurrent updates: each update waits for its lane, then for one of
    `max_running` places, and is handled again after a storage error."""

    def __init__(
        self,
        flow: UpdateFlow,
        *,
        max_running: int = MAX_RUNNING,
        on_storage_failure: Callable[[BaseException], None] = exit_for_storage,
        retry_delays: Sequence[float] = STORAGE_RETRY_DELAYS,
    ) -> None:
        # PTB's own bound counts updates parked in their lanes too, which would let one busy
        # chat take every place; the real bound is `running`, taken once the lane is free.
        super().__init__(max_concurrent_updates=1_000_000)
        self.flow, self.on_storage_failure = flow, on_storage_failure
        self.retry_delays = tuple(retry_delays)
        self.running = asyncio.BoundedSemaphore(max_running)
        self.application: Any = None
        """Set by `build_application`: needed to handle an update again after a failure."""
        self.detached: set[asyncio.Task[None]] = set()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        """Handlers still waiting for the send budget give up: a stop must not wait a minute
        for a group's budget (those answers are lost, as the README says)."""
        for task in self.detached:
            task.cancel()
        while self.detached:
            await asyncio.gather(*list(self.detached), return_exceptions=True)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        ticket = self.flow.ticket_for(update)
        try:
            if ticket.previous is not None:
                await asyncio.shield(ticket.previous)
            async with self.running:
                await self._handle(ticket, coroutine)
        finally:
            # Also after a detach (a second finish changes nothing): a handler that ended in
            # the very moment it detached must not leave its update unconfirmed. A detached
            # update cannot be handled again, so it counts as handled.
            handled = ticket.storage_error is None or ticket.detached
            self.flow.finish(ticket, handled=handled)

    async def _handle(self, ticket: Ticket, coroutine: Awaitable[Any]) -> None:
        for delay in (*self.retry_delays, None):
            ticket.storage_error = None
            await self._run_until_finished_or_detached(ticket, coroutine)
            if ticket.detached or ticket.storage_error is None:
                return
            if delay is None:
                self.on_storage_failure(ticket.storage_error)
                return
            logger.warning(
                "database error handling update {} ({}); trying again in {}s",
                ticket.update_id,
                ticket.storage_error,
                delay,
            )
            await asyncio.sleep(delay)
            coroutine = self.application.process_update(ticket.update)

    async def _run_until_finished_or_detached(
        self, ticket: Ticket, coroutine: Awaitable[Any]
    ) -> None:
        token = CURRENT_TICKET.set(ticket)
        try:
            handling = asyncio.ensure_future(coroutine)
        finally:
            CURRENT_TICKET.reset(token)
        ticket.handler = handling
        await asyncio.wait({handling, ticket.finished}, return_when=asyncio.FIRST_COMPLETED)
        if handling.done():
            handling.result()
            return
        # Detached: the handler waits for a queued send; its update counts as handled.
        self.flow.finish(ticket)
        self.detached.add(handling)
        handling.add_done_callback(self.detached.discard)


class LedgerBot(ExtBot[Any]):
    """The bot, asking Telegram for updates from the flow's low-water mark, and handing the
    poller only the updates not already taken."""

    _flow: UpdateFlow | None = None

    def follow(self, flow: UpdateFlow) -> None:
        self._flow = flow

    @property
    def flow(self) -> UpdateFlow:
        if self._flow is None:
            raise RuntimeError("build the application with bot.app.build_application")
        return self._flow

    async def get_updates(
        self, offset: int | None = None, *args: Any, **kwargs: Any
    ) -> tuple[Update, ...]:
        self.flow.alive()
        mark = self.flow.offset()
        asked_from = mark if mark is not None else offset
        updates = await super().get_updates(asked_from, *args, **kwargs)
        return tuple(await self.flow.take_new(asked_from, updates))

    async def confirm_handled(self) -> None:
        """Tell Telegram what was handled since the last poll (at a graceful stop)."""
        mark = self.flow.offset()
        if mark is None:
            return
        with contextlib.suppress(Exception):
            await ExtBot.get_updates(self, offset=mark, timeout=0, limit=1)

"""The one door for every effect on a chat: delete, kick, ban, ban a sender chat, mute, unmute,
post, edit, pin.

`LiveDoor` calls Telegram; `SimulatedDoor` (a group in dry-run) calls nothing and reports what it
would have done. Features ask `Doors.for_chat` for the door of a group and never branch on
dry-run themselves, so a dry-run group is left untouched by construction. No module outside this
one calls a Bot API method that deletes, bans, restricts, unbans or pins (a test checks it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

from loguru import logger
from telegram import (
    Bot,
    ChatPermissions,
    InlineKeyboardMarkup,
    Message,
    MessageId,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.core.i18n import N_
from policies.texts import clip_html, clip_plain

KICK_BAN_SECONDS = 60
DELETABLE_FOR = 48 * 3600.0
"""Telegram refuses to delete a message older than this (a bot's own messages included)."""
"""A kick is a short ban lifted at once; the ban itself must outlive the unban call."""
DELETE_BATCH_DELAY = 0.05
"""Deletes arriving within this many seconds go out as one deleteMessages call."""
DELETE_BATCH_SIZE = 100
MAX_CAPTION = 1024
"""Telegram's limit for a photo's caption, in UTF-16 code units."""
"""Telegram's limit of message ids per deleteMessages call."""
DELETE_RETRY_DELAYS = (5.0, 30.0, 120.0, 600.0)
"""After a 5xx or a lost connection outlasting the rate limiter's retries, a delete is tried
again in the background after these pauses; past them it waits for the next start."""

DeletesDone = Callable[[int, Sequence[int]], Awaitable[None]]
DeleteFailed = Callable[[int, TelegramError], Awaitable[None]]
Report = Callable[[int, str, dict[str, object]], None]
"""A simulated effect: the chat, a catalog message id (`N_`) and its values."""

PERMISSION_FIELDS = tuple(
    name for name in ChatPermissions.all_permissions().to_dict() if name.startswith("can_")
)


def _date(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


class Door(Protocol):
    """Every effect on a chat. Member effects raise `TelegramError` when Telegram refuses."""

    simulated: bool

    def delete(self, chat_id: int, message_id: int) -> None:
        """Delete a message soon, batched with others of the chat; failures reach the staff."""
        ...

    async def kick(self, chat_id: int, user_id: int, now: float) -> None: ...

    async def ban(self, chat_id: int, user_id: int, *, revoke_messages: bool = False) -> None: ...

    async def unban(self, chat_id: int, user_id: int) -> None: ...

    async def ban_sender_chat(self, chat_id: int, sender_chat_id: int) -> None: ...

    async def unban_sender_chat(self, chat_id: int, sender_chat_id: int) -> None: ...

    async def mute(self, chat_id: int, user_id: int, until: float | None) -> None:
        """Restrict every permission until `until` (absolute), or until lifted if None."""
        ...

    async def unmute(self, chat_id: int, user_id: int) -> None:
        """Give back the group's default permissions."""
        ...

    async def release(self, chat_id: int, user_id: int) -> None:
        """Grant every permission, so Telegram drops the member's restriction altogether."""
        ...

    async def post(
        self,
        chat_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        html: bool = True,
    ) -> Message | None: ...

    async def post_photo(
        self, chat_id: int, photo: bytes, *, caption: str | None = None
    ) -> Message | None: ...

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None: ...

    async def edit_markup(
        self, chat_id: int, message_id: int, markup: InlineKeyboardMarkup | None
    ) -> None: ...

    async def copy(
        self, to_chat: int, from_chat: int, message_id: int, *, reply_to: int | None = None
    ) -> MessageId | None: ...

    async def pin(self, chat_id: int, message_id: int) -> None: ...

    async def unpin(self, chat_id: int, message_id: int) -> None: ...

    async def create_invite(self, chat_id: int, *, expires: float, name: str) -> str | None:
        """A single-use invite link valid until `expires`."""
        ...

    async def leave(self, chat_id: int) -> None:
        """qunbot leaves the chat (a group it was not configured for)."""
        ...


class DeleteBatcher:
    """Collects deletes per chat for a moment and sends them as one deleteMessages call."""

    def __init__(
        self,
        bot: Bot,
        on_done: DeletesDone,
        on_failed: DeleteFailed,
        retry_delays: Sequence[float] = DELETE_RETRY_DELAYS,
    ) -> None:
        self.bot, self.on_done, self.on_failed = bot, on_done, on_failed
        self.retry_delays = tuple(retry_delays)
        self.attempts: dict[tuple[int, int], int] = {}
        """Failed attempts of the deletes being retried, by (chat, message)."""
        self.retrying: set[asyncio.Task[None]] = set()
        self.pending: dict[int, list[int]] = defaultdict(list)
        self.collecting: set[int] = set()
        self.running: set[asyncio.Task[None]] = set()
        """Every batch not finished yet, including those being sent."""

    def delete(self, chat_id: int, message_id: int) -> None:
        self.pending[chat_id].append(message_id)
        if chat_id not in self.collecting:
            self.collecting.add(chat_id)
            task = asyncio.get_running_loop().create_task(self._flush(chat_id))
            self.running.add(task)
            task.add_done_callback(self.running.discard)

    async def _flush(self, chat_id: int) -> None:
        await asyncio.sleep(DELETE_BATCH_DELAY)
        self.collecting.discard(chat_id)
        ids = sorted(set(self.pending.pop(chat_id, [])))
        for start in range(0, len(ids), DELETE_BATCH_SIZE):
            await self._delete_batch(chat_id, ids[start : start + DELETE_BATCH_SIZE])

    async def _delete_batch(self, chat_id: int, ids: list[int]) -> None:
        try:
            if len(ids) == 1:
                await self.bot.delete_message(chat_id, ids[0])
            else:
                await self.bot.delete_messages(chat_id, ids)
        except BadRequest as error:
            if "not found" not in error.message.lower():
                await self.on_failed(chat_id, error)
                return
        except TelegramError as error:
            # A timeout or a 5xx leaves the delete owed (stored): it is tried again in the
            # background, and at the next start if the process ends first.
            if not self._retry_later(chat_id, ids, error):
                await self.on_failed(chat_id, error)
            return
        for message_id in ids:
            self.attempts.pop((chat_id, message_id), None)
        await self.on_done(chat_id, ids)

    def _retry_later(self, chat_id: int, ids: list[int], error: TelegramError) -> bool:
        """Schedule another try; False once the pauses are used up."""
        failed = max(self.attempts.get((chat_id, m), 0) for m in ids) + 1
        if failed > len(self.retry_delays):
            logger.warning(
                "{} delete(s) in {} still failing ({}); left for the next start",
                len(ids),
                chat_id,
                error.message,
            )
            return False
        for message_id in ids:
            self.attempts[(chat_id, message_id)] = failed
        delay = self.retry_delays[failed - 1]
        logger.warning(
            "{} delete(s) in {} failed ({}); trying again in {}s",
            len(ids),
            chat_id,
            error.message,
            delay,
        )
        task = asyncio.get_running_loop().create_task(self._retry(chat_id, ids, delay))
        self.retrying.add(task)
        task.add_done_callback(self.retrying.discard)
        return True

    async def _retry(self, chat_id: int, ids: list[int], delay: float) -> None:
        await asyncio.sleep(delay)
        for message_id in ids:
            self.delete(chat_id, message_id)

    def cancel_retries(self) -> None:
        """At shutdown: the deletes still owed are stored and resumed at the next start."""
        for task in self.retrying:
            task.cancel()

    async def drain(self) -> None:
        """Wait for every pending delete, those on the wire included (shutdown and tests)."""
        while self.running:
            await asyncio.gather(*list(self.running), return_exceptions=True)


class LiveDoor:
    """The door that acts: every call goes to Telegram."""

    simulated = False

    def __init__(self, bot: Bot, on_deleted: DeletesDone, on_delete_failed: DeleteFailed) -> None:
        self.bot = bot
        self.deletes = DeleteBatcher(bot, on_deleted, on_delete_failed)

    def delete(self, chat_id: int, message_id: int) -> None:
        self.deletes.delete(chat_id, message_id)

    async def kick(self, chat_id: int, user_id: int, now: float) -> None:
        await self.bot.ban_chat_member(chat_id, user_id, until_date=_date(now + KICK_BAN_SECONDS))
        await self.unban(chat_id, user_id)

    async def ban(self, chat_id: int, user_id: int, *, revoke_messages: bool = False) -> None:
        await self.bot.ban_chat_member(chat_id, user_id, revoke_messages=revoke_messages)

    async def unban(self, chat_id: int, user_id: int) -> None:
        """`only_if_banned` keeps a present member from being kicked by the unban. A basic
        group has no bans to lift: a member removed from it may come back by an invite link."""
        try:
            await self.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)
        except BadRequest as error:
            if not _only_in_supergroups(error):
                raise

    async def ban_sender_chat(self, chat_id: int, sender_chat_id: int) -> None:
        await self.bot.ban_chat_sender_chat(chat_id, sender_chat_id)

    async def unban_sender_chat(self, chat_id: int, sender_chat_id: int) -> None:
        await self.bot.unban_chat_sender_chat(chat_id, sender_chat_id)

    async def mute(self, chat_id: int, user_id: int, until: float | None) -> None:
        await self.bot.restrict_chat_member(
            chat_id,
            user_id,
            permissions=ChatPermissions.no_permissions(),
            until_date=_date(until) if until is not None else None,
            use_independent_chat_permissions=True,
        )

    async def unmute(self, chat_id: int, user_id: int) -> None:
        """Each default permission named, so nothing is left off by omission."""
        chat = await self.bot.get_chat(chat_id)
        defaults = chat.permissions or ChatPermissions.all_permissions()
        explicit = ChatPermissions.de_json(
            {name: bool(getattr(defaults, name)) for name in PERMISSION_FIELDS}, self.bot
        )
        await self.bot.restrict_chat_member(
            chat_id, user_id, permissions=explicit, use_independent_chat_permissions=True
        )

    async def release(self, chat_id: int, user_id: int) -> None:
        await self.bot.restrict_chat_member(
            chat_id,
            user_id,
            permissions=ChatPermissions.all_permissions(),
            use_independent_chat_permissions=True,
        )

    async def post(
        self,
        chat_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        html: bool = True,
    ) -> Message | None:
        return await self.bot.send_message(
            chat_id,
            clip_html(text) if html else clip_plain(text),
            parse_mode=ParseMode.HTML if html else None,
            reply_markup=markup,
            reply_parameters=_reply(reply_to),
            message_thread_id=thread_id,
        )

    async def post_photo(
        self, chat_id: int, photo: bytes, *, caption: str | None = None
    ) -> Message | None:
        return await self.bot.send_photo(
            chat_id,
            photo,
            caption=clip_html(caption, MAX_CAPTION) if caption else None,
            parse_mode=ParseMode.HTML if caption else None,
        )

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        await self.bot.edit_message_text(
            clip_html(text), chat_id, message_id, parse_mode=ParseMode.HTML, reply_markup=markup
        )

    async def edit_markup(
        self, chat_id: int, message_id: int, markup: InlineKeyboardMarkup | None
    ) -> None:
        await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup)

    async def copy(
        self, to_chat: int, from_chat: int, message_id: int, *, reply_to: int | None = None
    ) -> MessageId | None:
        return await self.bot.copy_message(
            to_chat, from_chat, message_id, reply_parameters=_reply(reply_to)
        )

    async def pin(self, chat_id: int, message_id: int) -> None:
        await self.bot.pin_chat_message(chat_id, message_id, disable_notification=True)

    async def unpin(self, chat_id: int, message_id: int) -> None:
        await self.bot.unpin_chat_message(chat_id, message_id=message_id)

    async def create_invite(self, chat_id: int, *, expires: float, name: str) -> str | None:
        link = await self.bot.create_chat_invite_link(
            chat_id, name=name, expire_date=_date(expires), member_limit=1
        )
        return link.invite_link

    async def leave(self, chat_id: int) -> None:
        await self.bot.leave_chat(chat_id)

    async def drain(self) -> None:
        await self.deletes.drain()


def _reply(message_id: int | None) -> ReplyParameters | None:
    """A reply that still goes out if the message it answers was deleted meanwhile."""
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)


_UNREPORTED: ContextVar[bool] = ContextVar("qunbot_unreported", default=False)
"""Set while a simulated effect is already told of by its caller (`SimulatedDoor.unreported`);
a context variable, so the removals a verdict starts as tasks inherit it."""


class SimulatedDoor:
    """The dry-run twin: touches nothing and reports each effect it would have had."""

    simulated = True

    def __init__(self, report: Report) -> None:
        self.report = report
        self.effects: list[tuple[int, str]] = []
        """What it would have done, newest last (bounded): for tests and /status."""

    @contextmanager
    def unreported(self) -> Iterator[None]:
        """Effects made inside (and in the tasks started inside) are recorded but not reported
        one by one: the caller tells the staff of them in its own words (a dry-run verdict's
        one note)."""
        token = _UNREPORTED.set(True)
        try:
            yield
        finally:
            _UNREPORTED.reset(token)

    def _would(self, chat_id: int, effect: str, **values: object) -> None:
        self.effects.append((chat_id, effect.format_map(values)))
        del self.effects[:-1000]
        if not _UNREPORTED.get():
            self.report(chat_id, effect, values)

    def delete(self, chat_id: int, message_id: int) -> None:
        self._would(chat_id, N_("delete message {message}"), message=message_id)

    async def kick(self, chat_id: int, user_id: int, now: float) -> None:
        self._would(chat_id, N_("remove user {user}"), user=user_id)

    async def ban(self, chat_id: int, user_id: int, *, revoke_messages: bool = False) -> None:
        self._would(chat_id, N_("ban user {user}"), user=user_id)

    async def unban(self, chat_id: int, user_id: int) -> None:
        self._would(chat_id, N_("unban user {user}"), user=user_id)

    async def ban_sender_chat(self, chat_id: int, sender_chat_id: int) -> None:
        self._would(chat_id, N_("ban channel {channel}"), channel=sender_chat_id)

    async def unban_sender_chat(self, chat_id: int, sender_chat_id: int) -> None:
        self._would(chat_id, N_("unban channel {channel}"), channel=sender_chat_id)

    async def mute(self, chat_id: int, user_id: int, until: float | None) -> None:
        self._would(chat_id, N_("mute user {user}"), user=user_id)

    async def unmute(self, chat_id: int, user_id: int) -> None:
        self._would(chat_id, N_("unmute user {user}"), user=user_id)

    async def release(self, chat_id: int, user_id: int) -> None:
        self._would(chat_id, N_("lift the restrictions of user {user}"), user=user_id)

    async def post(
        self,
        chat_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
        html: bool = True,
    ) -> Message | None:
        self._would(chat_id, N_("post a notice"))
        return None

    async def post_photo(
        self, chat_id: int, photo: bytes, *, caption: str | None = None
    ) -> Message | None:
        self._would(chat_id, N_("post a photo"))
        return None

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        self._would(chat_id, N_("edit message {message}"), message=message_id)

    async def edit_markup(
        self, chat_id: int, message_id: int, markup: InlineKeyboardMarkup | None
    ) -> None:
        self._would(chat_id, N_("edit the buttons of message {message}"), message=message_id)

    async def copy(
        self, to_chat: int, from_chat: int, message_id: int, *, reply_to: int | None = None
    ) -> MessageId | None:
        self._would(to_chat, N_("copy message {message}"), message=message_id)
        return None

    async def pin(self, chat_id: int, message_id: int) -> None:
        self._would(chat_id, N_("pin message {message}"), message=message_id)

    async def unpin(self, chat_id: int, message_id: int) -> None:
        self._would(chat_id, N_("unpin message {message}"), message=message_id)

    async def create_invite(self, chat_id: int, *, expires: float, name: str) -> str | None:
        self._would(chat_id, N_("create an invite link"))
        return None

    async def leave(self, chat_id: int) -> None:
        self._would(chat_id, N_("leave the chat"))


DryRunLookup = Callable[[int], Awaitable[bool]]


class Doors:
    """The live door, the simulated one, and which of them a group gets."""

    def __init__(self, live: LiveDoor, simulated: SimulatedDoor, dry_run: DryRunLookup) -> None:
        self.live, self.simulated, self._dry_run = live, simulated, dry_run

    async def for_chat(self, chat_id: int) -> Door:
        """The simulated door while the group is in dry-run, else the live one."""
        return self.simulated if await self._dry_run(chat_id) else self.live


def _only_in_supergroups(error: BadRequest) -> bool:
    """Telegram's answer to a method a basic group (type `group`) does not have."""
    return "supergroup and channel chats only" in error.message.lower()

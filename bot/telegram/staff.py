"""The one channel to the staff chat: audit notes, alarms, reports, tickets and reviews.

Notes are collapsed into one digest per interval (a raid must not flood the staff chat) and
every message is cut to Telegram's limits; a digest is split, never cut, so every note keeps
its buttons, and what one interval cannot send goes out in the next. Cards that need their
own message (a ticket, whose replies are relayed) go out at once through `send_card`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import ChatMigrated, Forbidden, TelegramError
from telegram.ext import JobQueue

from bot.core.bounded import BoundedDict
from bot.core.clock import Clock
from bot.core.i18n import N_, Messages
from bot.telegram.collapse import Collapser
from bot.telegram.door import LiveDoor
from policies.texts import MAX_MESSAGE, clip_html, telegram_length

ChatMoved = Callable[[int, int], Awaitable[None]]
Delivered = Callable[[list[int]], Awaitable[None]]
DIGEST_INTERVAL = 10.0
MAX_TEXT = MAX_MESSAGE
MAX_BUTTON_ROWS = 10
"""Notes with buttons per message (each has a row or two): a screenful the staff can still
read and press."""
MAX_KEYBOARD_BUTTONS = 100
"""Telegram's limit of inline buttons under one message."""
NOTES_REMEMBERED = 5_000
"""Staff messages whose actions /why finds as a reply; older ones are asked for by id."""
MAX_DIGESTS_PER_FLUSH = 3
"""Messages per interval: 18 a minute stays under Telegram's 20 a minute per group, so the
staff chat's budget is never spent on one raid; the rest goes out in the next interval."""
ALARM_INTERVAL = 3600.0
"""The same problem in the same group reaches the staff once an hour at most."""
MISSING_RIGHT_SIGNS = ("rights", "administrator", "can't be deleted", "chat_admin_required")
RIGHT_NAMES = {
    "ban": N_("Ban users"),
    "kick": N_("Ban users"),
    "mute": N_("Ban users"),
    "delete": N_("Delete messages"),
    "schedule_reinvite": N_("Invite users via link"),
}
ACTION_NAMES = {
    "ban": N_("ban"),
    "kick": N_("kick"),
    "mute": N_("mute"),
    "delete": N_("delete"),
    "schedule_reinvite": N_("schedule a re-invite"),
    "callout": N_("post a call-out"),
    "announce": N_("post an announcement"),
    "notify_admins": N_("tell the staff"),
}
"""Verdict actions in words; other callers pass a phrase marked with `N_`."""


@dataclass(frozen=True, slots=True)
class StaffNote:
    html: str
    rows: tuple[tuple[InlineKeyboardButton, ...], ...] = ()
    """The rows of buttons under this note (Undo and Confirm, then Re-invite on its own row):
    few to a row, so their words fit a phone's screen."""
    audit_id: int | None = None
    """The enforced action the note announces: marked delivered once its digest is sent."""
    about: int | None = None
    """The action the note tells of, when it is no enforced action (a manual ban, a setting,
    a dry-run): what /why explains as a reply to the note."""

    @property
    def buttons(self) -> tuple[InlineKeyboardButton, ...]:
        return tuple(button for row in self.rows for button in row)

    @property
    def action_id(self) -> int | None:
        """The action /why explains when a staff member replies to this note."""
        return self.audit_id if self.audit_id is not None else self.about


@dataclass(slots=True)
class SentDigest:
    """A staff message as sent: its notes, so one of them can be settled later."""

    chat_id: int
    message_id: int
    notes: list[StaffNote]

    def settle(self, action_id: int, line: str, *, keep_buttons: bool) -> None:
        self.notes = [
            _settled(note, line, keep_buttons) if note.action_id == action_id else note
            for note in self.notes
        ]

    @property
    def text(self) -> str:
        return "\n\n".join(clip_html(note.html, MAX_TEXT) for note in self.notes)

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        rows = [list(row) for note in self.notes for row in note.rows if row]
        return InlineKeyboardMarkup(rows) if rows else None


def _settled(note: StaffNote, line: str, keep_buttons: bool) -> StaffNote:
    """The note with what became of its action under it, its buttons gone unless they may be
    tried again."""
    rows = note.rows if keep_buttons else ()
    return StaffNote(f"{note.html}\n\n{line}", rows, note.audit_id, note.about)


def explain_failure(error: TelegramError, action: str, messages: Messages) -> str:
    """What to do about a failed call, in an operator's words (plain text)."""
    doing = messages.tp(ACTION_NAMES.get(action, action))
    if isinstance(error, Forbidden):
        return messages.tp(
            "Telegram refused to {action} ({error}): is qunbot still in the group?",
            action=doing,
            error=error.message,
        )
    message = error.message.lower()
    if action == "delete" and "can't be deleted" in message:
        return messages.tp(
            "Telegram refused to delete a message: qunbot needs the Delete messages right,"
            " unless the message is older than 48 hours (bots can never delete those)"
        )
    if any(sign in message for sign in MISSING_RIGHT_SIGNS):
        needed = messages.tp(RIGHT_NAMES.get(action, N_("admin")))
        return messages.tp(
            "qunbot needs the {right} right to {action}: make it an admin with that right",
            right=needed,
            action=doing,
        )
    return messages.tp("could not {action}: {error}", action=doing, error=error.message)


def digests(notes: list[StaffNote]) -> list[tuple[str, list[StaffNote]]]:
    """Every note, in order, as messages that each fit Telegram's limits (text, button rows,
    buttons per keyboard) and carry the buttons of each note they hold."""
    messages: list[tuple[str, list[StaffNote]]] = []
    text, held = "", list[StaffNote]()
    for note in notes:
        html = clip_html(note.html, MAX_TEXT)
        candidate = f"{text}\n\n{html}" if text else html
        if held and not _fits(candidate, [*held, note]):
            messages.append((text, held))
            text, held = html, [note]
        else:
            text, held = candidate, [*held, note]
    if held:
        messages.append((text, held))
    return messages


def _fits(text: str, notes: list[StaffNote]) -> bool:
    rows = [note.buttons for note in notes if note.buttons]
    return (
        telegram_length(text) <= MAX_TEXT
        and len(rows) <= MAX_BUTTON_ROWS
        and sum(len(row) for row in rows) <= MAX_KEYBOARD_BUTTONS
    )


class StaffChannel(Collapser):
    """Everything the staff are told goes through here."""

    def __init__(
        self,
        clock: Clock,
        jobs: JobQueue[Any] | None,
        door: LiveDoor,
        staff_chat: int | None,
        title_of: Callable[[int], str],
        messages: Messages,
    ) -> None:
        super().__init__(clock, jobs)
        self.door, self.staff_chat, self.title_of = door, staff_chat, title_of
        self.messages = messages
        """The staff chat speaks the config's language."""
        self.pending: list[StaffNote] = []
        self.last_alarm: dict[tuple[int, str], float] = {}
        self.on_moved: ChatMoved | None = None
        """Told when the staff chat turns out to have become a supergroup."""
        self.on_delivered: Delivered | None = None
        """Told the audit ids of the notes in each digest the staff chat received."""
        self.told: BoundedDict[tuple[int, int], tuple[int, ...]] = BoundedDict(NOTES_REMEMBERED)
        """The actions each staff message tells of, by (chat, message): /why as a reply."""
        self.sent: BoundedDict[int, SentDigest] = BoundedDict(NOTES_REMEMBERED)
        """The staff message of each action, to settle its note when a command undoes it."""

    def actions_in(self, chat_id: int, message_id: int) -> tuple[int, ...]:
        """The actions a staff message of qunbot's tells of, in order (none if unknown)."""
        return self.told.get((chat_id, message_id), ())

    def pending_audit_ids(self) -> set[int]:
        return {note.audit_id for note in self.pending if note.audit_id is not None}

    def add(self, note: StaffNote) -> None:
        """A note for the next digest."""
        if self.staff_chat is None:
            logger.info("staff notice (no staff chat configured): {}", note.html)
            return
        self.pending.append(note)
        self.request_flush(self.staff_chat, DIGEST_INTERVAL)

    async def settle(self, action_id: int, line: str, *, keep_buttons: bool = False) -> None:
        """Tell what became of an action (undone by a command, not by its note's button): the
        line goes under the action's note and its buttons go, as a button press would do;
        a note sent before a restart, or edited since, is answered by a note of its own."""
        for index, note in enumerate(self.pending):
            if note.action_id == action_id:
                self.pending[index] = _settled(note, line, keep_buttons)
                return
        digest = self.sent.get(action_id)
        if digest is not None:
            digest.settle(action_id, line, keep_buttons=keep_buttons)
            try:
                await self.door.edit(
                    digest.chat_id, digest.message_id, digest.text, markup=digest.markup
                )
                return
            except TelegramError as error:
                logger.warning("could not settle the staff note of #{}: {}", action_id, error)
        self.add(StaffNote(line, about=action_id))

    def edited_by_hand(self, chat_id: int, message_id: int) -> None:
        """A button press rewrote this staff message: what `sent` holds of it is stale."""
        for action_id in self.told.get((chat_id, message_id), ()):
            self.sent.pop(action_id, None)

    async def alarm(self, chat_id: int, problem: str, *, title: str = "") -> None:
        """Tell the staff once an hour per group and problem (a missing right, an empty pool);
        `problem` is plain text in the staff's language."""
        now = self.clock.now()
        key = (chat_id, problem)
        if now - self.last_alarm.get(key, float("-inf")) < ALARM_INTERVAL:
            return
        if len(self.last_alarm) > 10_000:
            self.last_alarm.clear()
        self.last_alarm[key] = now
        group = title or self.title_of(chat_id) or chat_id
        logger.warning("qunbot in {}: {}", group, problem)
        self.add(
            StaffNote(
                self.messages.t("⚠️ qunbot in {group}: {problem}", group=group, problem=problem)
            )
        )

    async def failed(
        self, chat_id: int, error: TelegramError, action: str, title: str = ""
    ) -> None:
        """A call on a group failed: tell the staff what to do about it. `action` is a verdict
        action or a phrase marked with `N_`."""
        await self.alarm(chat_id, explain_failure(error, action, self.messages), title=title)

    async def send_card(
        self,
        html: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
    ) -> Message | None:
        """A message of its own in the staff chat, now; None if there is none or it failed."""
        if self.staff_chat is None:
            return None
        try:
            return await self.door.post(
                self.staff_chat, clip_html(html), markup=markup, reply_to=reply_to
            )
        except ChatMigrated as moved:
            return await self._follow(moved, html, markup)
        except TelegramError as error:
            logger.error("cannot reach the staff chat {}: {}", self.staff_chat, error.message)
            return None

    async def _follow(
        self, moved: ChatMigrated, html: str, markup: InlineKeyboardMarkup | None
    ) -> Message | None:
        """The staff chat became a supergroup: follow it and send there instead."""
        old, self.staff_chat = self.staff_chat, moved.new_chat_id
        if self.on_moved is not None and old is not None:
            await self.on_moved(old, moved.new_chat_id)
        try:
            return await self.door.post(moved.new_chat_id, clip_html(html), markup=markup)
        except TelegramError as error:
            logger.error("cannot reach the staff chat {}: {}", moved.new_chat_id, error.message)
            return None

    def waiting_chats(self) -> list[int]:
        return [self.staff_chat] if self.pending and self.staff_chat is not None else []

    async def flush(self, chat_id: int) -> None:
        """Send the pending notes, at most `MAX_DIGESTS_PER_FLUSH` messages, notes about no
        action (alarms) first; the notes that did not fit wait, ahead of newer ones, for the
        next interval."""
        notes, self.pending = self.pending, []
        if not notes:
            return
        # An alarm (a missing right, an unknown group) must not wait behind a raid's removals.
        notes = [n for n in notes if n.audit_id is None] + [n for n in notes if n.audit_id]
        parts = digests(notes)
        now, later = parts[:MAX_DIGESTS_PER_FLUSH], parts[MAX_DIGESTS_PER_FLUSH:]
        if later:
            self.pending = [note for _, held in later for note in held]
        for text, held in now:
            rows = [list(row) for note in held for row in note.rows if row]
            sent = await self.send_card(text, markup=InlineKeyboardMarkup(rows) if rows else None)
            if sent is not None:
                self._remember(sent, held)
                await self._delivered(held)
        if later and self.staff_chat is not None:
            self.request_flush(self.staff_chat, DIGEST_INTERVAL)

    def _remember(self, sent: Message, notes: list[StaffNote]) -> None:
        actions = tuple(dict.fromkeys(n.action_id for n in notes if n.action_id is not None))
        if actions:
            self.told[(sent.chat_id, sent.message_id)] = actions
        digest = SentDigest(sent.chat_id, sent.message_id, list(notes))
        for action_id in actions:
            self.sent[action_id] = digest

    async def _delivered(self, notes: list[StaffNote]) -> None:
        audit_ids = [note.audit_id for note in notes if note.audit_id is not None]
        if audit_ids and self.on_delivered is not None:
            await self.on_delivered(audit_ids)

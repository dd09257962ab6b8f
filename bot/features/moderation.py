"""Carrying out a Verdict: Bot API calls, store writes and the audit entry.

Two enforcers share one interface: `LiveEnforcer` acts, `DryRunEnforcer` only records and
tells the staff what it would have done. Handlers pick one per group and never branch on it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from loguru import logger
from telegram import Bot, ChatPermissions, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot.core.runtime import Runtime
from bot.features.admin_actions import Member, ban_in_network
from bot.store import Offence
from policies.durations import format_duration
from policies.schema import Policy
from policies.texts import Html, join_mentions, mention, render
from policies.verdict import Action, ActionKind, Verdict

KICK_BAN_SECONDS = 60
"""A kick is a short ban lifted at once; the ban itself must outlive the unban call."""
DELETE_BATCH_DELAY = 0.05
"""Deletes arriving within this many seconds go out as one deleteMessages call."""
DELETABLE_FOR = 48 * 3600.0
"""Telegram refuses to delete older messages, so older owed deletes are not retried."""
RIGHTS_ALARM_INTERVAL = 3600.0
STAFF_DIGEST_INTERVAL = 10.0
MAX_NOTES_PER_DIGEST = 20
MAX_BUTTON_ROWS = 10
REMOVALS_KEPT = 10_000
"""Recent kicks and bans remembered, so a raid's backlog costs one ban per account."""
NOTICE_MENTIONS_BUDGET = 900
"""HTML characters of names per collapsed notice; the rest are counted ("+170"). Three notice
kinds can share one message, which must stay inside Telegram's 4096 characters."""
MISSING_RIGHT_SIGNS = ("rights", "administrator", "can't be deleted", "chat_admin_required")
RIGHT_NAMES = {
    "ban": "Ban users",
    "kick": "Ban users",
    "mute": "Ban users",
    "delete": "Delete messages",
    "schedule_reinvite": "Invite users via link",
}


@dataclass(frozen=True, slots=True)
class Target:
    """Who and what a verdict is about."""

    chat_id: int
    chat_title: str
    user_id: int
    user_name: str
    message_id: int
    text: str = ""
    sent_at: float | None = None
    """When the message was posted; None for actions that must act whatever the timing."""

    @property
    def mention(self) -> Html:
        return mention(self.user_id, self.user_name)


class Enforcer(Protocol):
    async def execute(self, target: Target, verdict: Verdict, policy: Policy) -> int:
        """Carry out the verdict; returns the audit entry id."""
        ...


def main_reason(verdict: Verdict) -> str:
    """The reason of the strongest hit: what a member or admin most needs to read."""
    if not verdict.hits:
        return verdict.explanation
    return max(verdict.hits, key=lambda hit: hit.score).reason


class RightsAlarm:
    """Tells the staff once an hour per group and problem that qunbot lacks a right."""

    def __init__(self, runtime: Runtime, staff: StaffNotices) -> None:
        self.runtime, self.staff = runtime, staff
        self.last_sent: dict[tuple[int, str], float] = {}

    async def raise_for(self, chat_id: int, chat_title: str, problem: str) -> None:
        now = self.runtime.now()
        key = (chat_id, problem)
        if now - self.last_sent.get(key, float("-inf")) < RIGHTS_ALARM_INTERVAL:
            return
        self.last_sent[key] = now
        logger.warning("qunbot in {}: {}", chat_title or chat_id, problem)
        self.staff.add(
            StaffNote(
                render(
                    "⚠️ qunbot in {group}: {problem}",
                    {"group": chat_title or chat_id, "problem": problem},
                )
            )
        )


def explain_failure(error: TelegramError, action: str) -> str:
    """What to do about a failed call, in an operator's words."""
    if isinstance(error, Forbidden):
        return f"Telegram refused to {action} ({error.message}): is qunbot still in the group?"
    message = error.message.lower()
    if any(sign in message for sign in MISSING_RIGHT_SIGNS):
        needed = RIGHT_NAMES.get(action, "admin")
        return f"qunbot needs the {needed} right to {action}: make it an admin with that right"
    return f"could not {action}: {error.message}"


class Collapser:
    """Sends to a chat at most once per interval, in a background task, so a handler never
    waits for Telegram's send budget; what arrives in between goes out together."""

    def __init__(self, runtime: Runtime, application: Application[Any, Any, Any, Any, Any, Any]):
        self.runtime, self.application = runtime, application
        self.last_sent: dict[int, float] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def request_flush(self, chat_id: int, interval: float) -> None:
        delay = self.last_sent.get(chat_id, float("-inf")) + interval - self.runtime.now()
        if delay <= 0:
            self.last_sent[chat_id] = self.runtime.now()
            task = asyncio.get_running_loop().create_task(self.flush(chat_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif not self._flush_scheduled(chat_id):
            self._schedule(chat_id, delay)

    def _job_name(self, chat_id: int) -> str:
        return f"qunbot.{type(self).__name__}.{chat_id}"

    def _flush_scheduled(self, chat_id: int) -> bool:
        queue = self.application.job_queue
        return bool(queue and queue.get_jobs_by_name(self._job_name(chat_id)))

    def _schedule(self, chat_id: int, delay: float) -> None:
        queue = self.application.job_queue
        if queue is None:
            raise RuntimeError("qunbot needs python-telegram-bot[job-queue]")
        queue.run_once(self._flush_job, when=delay, data=chat_id, name=self._job_name(chat_id))

    async def _flush_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        job = context.job
        if job is not None and isinstance(job.data, int):
            self.last_sent[job.data] = self.runtime.now()
            await self.flush(job.data)

    async def flush(self, chat_id: int) -> None:
        raise NotImplementedError

    async def drain(self) -> None:
        """Wait for every send under way; used at shutdown and by tests."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)


@dataclass
class PendingNotice:
    template: str
    mentions: list[Html] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    duration: str = ""


def capped_mentions(mentions: list[Html], budget: int = NOTICE_MENTIONS_BUDGET) -> Html:
    """The first offenders by name, then how many more: a raid's notice names 200 accounts."""
    shown: list[Html] = []
    used = 0
    for item in mentions:
        used += len(item) + 2
        if used > budget and shown:
            break
        shown.append(item)
    hidden = len(mentions) - len(shown)
    joined = join_mentions(shown)
    return Html(f"{joined} +{hidden}") if hidden else joined


class PublicNotices(Collapser):
    """Call-outs and announcements in the group, at most one message per interval: during a
    raid the offenders since the last message are named together in the next one."""

    def __init__(self, runtime: Runtime, application: Application[Any, Any, Any, Any, Any, Any]):
        super().__init__(runtime, application)
        self.pending: dict[int, dict[str, PendingNotice]] = defaultdict(dict)
        self.policies: dict[int, tuple[Policy, str]] = {}

    def add(self, target: Target, action: Action, verdict: Verdict, policy: Policy) -> None:
        chat = target.chat_id
        template = action.template or "callout"
        notice = self.pending[chat].setdefault(template, PendingNotice(template))
        if target.user_id not in notice.user_ids:
            notice.user_ids.append(target.user_id)
            notice.mentions.append(target.mention)
            notice.reasons.append(main_reason(verdict))
            notice.verdicts.append(verdict.as_dict())
        remaining = None if action.until is None else action.until - self.runtime.now()
        notice.duration = "forever" if remaining is None else format_duration(max(0, remaining))
        self.policies[chat] = (policy, target.chat_title)
        self.request_flush(chat, policy.moderation.callout_interval)

    async def flush(self, chat_id: int) -> None:
        notices = self.pending.pop(chat_id, {})
        if not notices:
            return
        policy, title = self.policies[chat_id]
        text = "\n\n".join(self._render(notice, policy, title) for notice in notices.values())
        markup = self._ack_button(chat_id, notices, policy)
        try:
            sent = await self.application.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except TelegramError as error:
            logger.warning("call-out in {} failed: {}", chat_id, error.message)
            return
        await self._remember(chat_id, sent.message_id, notices)

    async def _remember(
        self, chat_id: int, message_id: int, notices: dict[str, PendingNotice]
    ) -> None:
        """Link the notice to each offender's verdict, so /why works as a reply to it."""
        now = self.runtime.now()
        for notice in notices.values():
            for user_id, verdict in zip(notice.user_ids, notice.verdicts, strict=True):
                await self.runtime.store.audit.add(
                    chat_id,
                    now,
                    "notice",
                    target_id=user_id,
                    message_id=message_id,
                    verdict=verdict,
                )

    def _render(self, notice: PendingNotice, policy: Policy, title: str) -> str:
        template = getattr(policy.templates, notice.template)
        values = {
            "users": capped_mentions(notice.mentions),
            "group": title,
            "reason": "; ".join(dict.fromkeys(notice.reasons))[:200],
            "duration": notice.duration,
        }
        return render(template, values)

    def _ack_button(
        self, chat_id: int, notices: dict[str, PendingNotice], policy: Policy
    ) -> InlineKeyboardMarkup | None:
        callout = notices.get("callout")
        signer = self.runtime.signer
        if callout is None or len(callout.user_ids) != 1 or signer is None:
            return None
        data = signer.sign("ack", chat_id, callout.user_ids[0])
        button = InlineKeyboardButton(policy.templates.callout_button, callback_data=data)
        return InlineKeyboardMarkup([[button]])


@dataclass(frozen=True, slots=True)
class StaffNote:
    html: str
    buttons: tuple[InlineKeyboardButton, ...] = ()
    """One row of buttons under this note (Undo, Confirm, ...)."""


class StaffNotices(Collapser):
    """Notices to the staff chat; during a raid they arrive as one digest per interval."""

    def __init__(self, runtime: Runtime, application: Application[Any, Any, Any, Any, Any, Any]):
        super().__init__(runtime, application)
        self.pending: list[StaffNote] = []

    def add(self, note: StaffNote) -> None:
        staff = self.runtime.loaded.config.staff_chat
        if staff is None:
            logger.info("staff notice (no staff chat configured): {}", note.html)
            return
        self.pending.append(note)
        self.request_flush(staff, STAFF_DIGEST_INTERVAL)

    async def flush(self, chat_id: int) -> None:
        notes, self.pending = self.pending, []
        if not notes:
            return
        shown = notes[:MAX_NOTES_PER_DIGEST]
        text = "\n\n".join(note.html for note in shown)
        if len(notes) > len(shown):
            text += f"\n\n… and {len(notes) - len(shown)} more (see the audit log)"
        rows = [list(note.buttons) for note in shown if note.buttons]
        try:
            await self.application.bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=InlineKeyboardMarkup(rows[:MAX_BUTTON_ROWS]) if rows else None,
            )
        except TelegramError as error:
            logger.error("cannot reach the staff chat {}: {}", chat_id, error.message)


DeletesDone = Callable[[int, Sequence[int]], Awaitable[None]]


class DeleteBatcher:
    """Collects deletes per chat for a moment and sends them as one deleteMessages call."""

    def __init__(self, bot: Bot, alarm: RightsAlarm, on_done: DeletesDone | None = None) -> None:
        self.bot, self.alarm, self.on_done = bot, alarm, on_done
        self.pending: dict[int, list[int]] = defaultdict(list)
        self.titles: dict[int, str] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}
        """The batch still collecting, per chat."""
        self.running: set[asyncio.Task[None]] = set()
        """Every batch not finished yet, including those being sent."""

    def delete(self, chat_id: int, message_id: int, chat_title: str) -> None:
        self.pending[chat_id].append(message_id)
        self.titles[chat_id] = chat_title
        if chat_id not in self.tasks:
            task = asyncio.get_running_loop().create_task(self._flush(chat_id))
            self.tasks[chat_id] = task
            self.running.add(task)
            task.add_done_callback(self.running.discard)

    async def _flush(self, chat_id: int) -> None:
        await asyncio.sleep(DELETE_BATCH_DELAY)
        del self.tasks[chat_id]
        ids = sorted(set(self.pending.pop(chat_id, [])))
        for start in range(0, len(ids), 100):
            await self._delete_batch(chat_id, ids[start : start + 100])

    async def _delete_batch(self, chat_id: int, ids: list[int]) -> None:
        try:
            if len(ids) == 1:
                await self.bot.delete_message(chat_id, ids[0])
            else:
                await self.bot.delete_messages(chat_id, ids)
        except BadRequest as error:
            if "not found" not in error.message.lower():
                await self.alarm.raise_for(
                    chat_id, self.titles.get(chat_id, ""), explain_failure(error, "delete")
                )
                return
        except TelegramError as error:
            # A timeout or a 5xx leaves the delete owed: it is sent again at the next start.
            await self.alarm.raise_for(
                chat_id, self.titles.get(chat_id, ""), explain_failure(error, "delete")
            )
            return
        if self.on_done is not None:
            await self.on_done(chat_id, ids)

    async def drain(self) -> None:
        """Wait for every pending delete, those on the wire included (shutdown and tests)."""
        while self.running:
            await asyncio.gather(*list(self.running), return_exceptions=True)


class LiveEnforcer:
    """Records the offence and the audit entry first, then acts, so a crash loses nothing."""

    def __init__(
        self,
        runtime: Runtime,
        application: Application[Any, Any, Any, Any, Any, Any],
        staff: StaffNotices,
    ) -> None:
        self.runtime, self.bot, self.staff = runtime, application.bot, staff
        self.alarm = RightsAlarm(runtime, self.staff)
        self.notices = PublicNotices(runtime, application)
        self.deletes = DeleteBatcher(application.bot, self.alarm, self._deleted)
        self.removed: dict[tuple[int, int], tuple[float, ActionKind]] = {}

    async def execute(self, target: Target, verdict: Verdict, policy: Policy) -> int:
        store, now = self.runtime.store, self.runtime.now()
        earlier = await store.enforced.audit_id_for(target.chat_id, target.message_id)
        if earlier is not None:
            # Redelivered after a restart: recorded and acted on already.
            logger.info("message {} in {} already handled", target.message_id, target.chat_id)
            return earlier
        offence = Offence(
            chat_id=target.chat_id,
            message_id=target.message_id,
            user_id=target.user_id,
            at=now,
            action=verdict.step or "spam",
            rule=_main_rule(verdict),
            verdict=verdict.as_dict(),
            text=target.text,
            delete=ActionKind.DELETE in verdict.action_kinds,
        )
        audit_id = await store.enforced.record(offence)
        state = await store.members.state(target.chat_id, target.user_id, now)
        state.offence_times.append(now)
        actions = [a for a in verdict.actions if not self._already_removed(target, a.kind)]
        for action in actions:
            await self._act(target, action, verdict, policy, audit_id)
        if ActionKind.NOTIFY_ADMINS not in verdict.action_kinds:
            self._notify_staff(target, Action(ActionKind.NOTIFY_ADMINS), verdict, policy, audit_id)
        if any(action.kind is ActionKind.BAN for action in actions):
            member = Member(target.chat_id, target.user_id, target.user_name)
            await ban_in_network(self.runtime, self.bot, member)
        return audit_id

    async def _act(
        self, target: Target, action: Action, verdict: Verdict, policy: Policy, audit_id: int
    ) -> None:
        kind = action.kind
        try:
            if kind is ActionKind.DELETE:
                self.deletes.delete(target.chat_id, target.message_id, target.chat_title)
            elif kind in {ActionKind.CALLOUT, ActionKind.ANNOUNCE}:
                self.notices.add(target, action, verdict, policy)
            elif kind is ActionKind.KICK:
                await self._kick(target)
                self._note_removal(target, kind)
            elif kind is ActionKind.BAN:
                await self.bot.ban_chat_member(
                    target.chat_id, target.user_id, revoke_messages=action.revoke_messages
                )
                self._note_removal(target, kind)
            elif kind is ActionKind.MUTE:
                await self._mute(target, action.until)
            elif kind is ActionKind.SCHEDULE_REINVITE:
                await self.runtime.store.reinvites.add(
                    target.chat_id, target.user_id, action.until or 0.0, self.runtime.now()
                )
            elif kind is ActionKind.NOTIFY_ADMINS:
                self._notify_staff(target, action, verdict, policy, audit_id)
        except ChatMigrated:
            raise
        except TelegramError as error:
            await self.alarm.raise_for(
                target.chat_id, target.chat_title, explain_failure(error, kind.value)
            )

    def _already_removed(self, target: Target, kind: ActionKind) -> bool:
        """Whether a ban (or, for a kick, a kick) made after this message was posted covers
        it: during a raid an account's queued ads arrive after it was removed, and need only
        deleting, not another blocking ban call each."""
        if kind not in {ActionKind.KICK, ActionKind.BAN} or target.sent_at is None:
            return False
        at, done = self.removed.get((target.chat_id, target.user_id), (float("-inf"), kind))
        return at > target.sent_at and (done is ActionKind.BAN or kind is ActionKind.KICK)

    def _note_removal(self, target: Target, kind: ActionKind) -> None:
        if len(self.removed) >= REMOVALS_KEPT:
            del self.removed[next(iter(self.removed))]
        self.removed[(target.chat_id, target.user_id)] = (self.runtime.now(), kind)

    async def _kick(self, target: Target) -> None:
        until = dt.datetime.fromtimestamp(self.runtime.now() + KICK_BAN_SECONDS, tz=dt.UTC)
        await self.bot.ban_chat_member(target.chat_id, target.user_id, until_date=until)
        await self.bot.unban_chat_member(target.chat_id, target.user_id, only_if_banned=True)

    async def _mute(self, target: Target, until: float | None) -> None:
        until_date = dt.datetime.fromtimestamp(until, tz=dt.UTC) if until is not None else None
        await self.bot.restrict_chat_member(
            target.chat_id,
            target.user_id,
            permissions=ChatPermissions.no_permissions(),
            until_date=until_date,
            use_independent_chat_permissions=True,
        )

    def _notify_staff(
        self,
        target: Target,
        action: Action,
        verdict: Verdict,
        policy: Policy,
        audit_id: int,
    ) -> None:
        values = {
            "user": target.mention,
            "group": target.chat_title,
            "reason": main_reason(verdict),
            "reinvite_after": format_duration(policy.moderation.reinvite_after),
        }
        if action.template is not None:
            text = render(getattr(policy.templates, action.template), values)
        else:
            text = render("🗑 {user} in {group}: {reason}", values)
        text += f" (#{audit_id}, {verdict.step})"
        buttons = self._audit_buttons(
            target, audit_id, policy, with_reinvite=action.template == "admin_removed"
        )
        self.staff.add(StaffNote(text, buttons))

    async def _deleted(self, chat_id: int, message_ids: Sequence[int]) -> None:
        await self.runtime.store.enforced.deleted(chat_id, message_ids)

    async def resume_deletes(self) -> int:
        """Send again the deletes a crash cut short; returns how many were owed."""
        since = self.runtime.now() - DELETABLE_FOR
        owed = await self.runtime.store.enforced.deletes_pending(since)
        for chat_id, message_id in owed:
            self.deletes.delete(chat_id, message_id, "")
        if owed:
            logger.info("sending {} delete(s) left over from the last run", len(owed))
        return len(owed)

    async def drain(self) -> None:
        """Let every delete and notice under way go out (shutdown and tests)."""
        await self.deletes.drain()
        await self.notices.drain()
        await self.staff.drain()

    def _audit_buttons(
        self, target: Target, audit_id: int, policy: Policy, *, with_reinvite: bool
    ) -> tuple[InlineKeyboardButton, ...]:
        """Undo, Confirm and (in a network) Ban everywhere: signed, checked when pressed."""
        signer = self.runtime.signer
        if signer is None:
            return ()
        buttons = [
            InlineKeyboardButton("↩️ Undo", callback_data=signer.sign("undo", audit_id)),
            InlineKeyboardButton("✅ Confirm", callback_data=signer.sign("conf", audit_id)),
        ]
        if self.runtime.loaded.config.network_peers(target.chat_id):
            buttons.append(
                InlineKeyboardButton(
                    "🌐 Ban everywhere", callback_data=signer.sign("nban", audit_id)
                )
            )
        if with_reinvite:
            data = signer.sign("rin", target.chat_id, target.user_id)
            buttons.append(
                InlineKeyboardButton(policy.templates.reinvite_now_button, callback_data=data)
            )
        return tuple(buttons)


class DryRunEnforcer:
    """Decides and records exactly like the live enforcer, but touches nothing in the group."""

    def __init__(self, runtime: Runtime, staff: StaffNotices) -> None:
        self.runtime, self.staff = runtime, staff

    async def execute(self, target: Target, verdict: Verdict, policy: Policy) -> int:
        audit_id = await self.runtime.store.audit.add(
            target.chat_id,
            self.runtime.now(),
            f"dry-run {verdict.step or 'spam'}",
            target_id=target.user_id,
            message_id=target.message_id,
            verdict=verdict.as_dict() | {"dry_run": True},
            text=target.text,
        )
        values = {
            "group": target.chat_title,
            "would": ", ".join(kind.value for kind in verdict.action_kinds),
            "user": target.mention,
            "id": audit_id,
            "why": verdict.explanation,
        }
        template = "🧪 dry-run in {group}: would {would} for {user} (action #{id})\n{why}"
        self.staff.add(StaffNote(render(template, values)))
        return audit_id


def _main_rule(verdict: Verdict) -> str:
    return max(verdict.hits, key=lambda hit: hit.score).rule if verdict.hits else "spam"

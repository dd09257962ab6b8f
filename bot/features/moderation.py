"""Moderation: every group message judged by `policies.decide`, and the verdict carried out.

The enforcer records the offence and the audit entry first, then acts through the group's door,
so a crash loses nothing and a dry-run group (the simulated door) is touched by nothing. In
dry-run no offence is recorded: the ladder climbs only for what really happened.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from dataclasses import dataclass, field, replace
from typing import Any

from loguru import logger
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import ChatMigrated, TelegramError

from bot.core.bounded import BoundedDict
from bot.core.i18n import N_, Messages
from bot.core.sendqueue import Priority, send_priority
from bot.core.services import Services
from bot.features.explain import explanation, main_reason
from bot.features.network import ban_in_network
from bot.features.rule_fixes import fixes
from bot.store import MemberState, Offence, OwedNote
from bot.telegram.collapse import Collapser
from bot.telegram.door import DELETABLE_FOR, Door
from bot.telegram.extract import facts_from_message
from bot.telegram.staff import ACTION_NAMES, StaffNote
from policies.decide import FLOOD_RULE, decide, is_flood
from policies.durations import FOREVER
from policies.facts import MemberHistory, MessageFacts, is_chat_id, is_person
from policies.schema import Policy, WaveConfig
from policies.texts import (
    Html,
    capped_mentions,
    clip_plain,
    list_separator,
    mention,
    pack,
    public_reason,
    render,
)
from policies.verdict import Action, ActionKind, Verdict
from policies.waves import WaveTracker

TOO_OLD_TO_DELETE = N_(
    "🕰 Message {id} of {user} in {group} is an ad (edited into one, or seen late), but it was"
    " posted more than 48 hours ago and Telegram never lets bots delete such messages (no right"
    " changes that): please delete it by hand."
)
REMOVALS_KEPT = 10_000
"""Recent kicks and bans remembered, so a raid's backlog costs one ban per account."""
REMOVALS_AT_ONCE = 32
"""Bans, kicks and mutes on the wire at once: a raid's removals go out side by side."""
NOTES_OWED_FOR = 24 * 3600.0
"""Staff notes a crash kept from the staff chat are sent at the next start if their action is
this recent: an old database brought back must not flood the staff chat."""
AFTER_RESTART = N_(" (announced after a restart)")
DRY_RUN_NOTE = N_(
    "🧪 dry-run in {group}: {user} wrote “{quote}”; qunbot would {would} (#{id})\n{why}"
)
DRY_RUN_NOTE_NO_TEXT = N_("🧪 dry-run in {group}: qunbot would {would} for {user} (#{id})\n{why}")
NOT_SPAM_HINT = N_(
    "\nNot an ad? Reply /notspam to the message in the group. When these reports look right, "
    "send /dryrun off there."
)
RULE_FIX_HINT = N_(
    "\nA rule caught it, and /notspam does not change rules: to let such messages through for "
    "everyone, send {fixes} in the group."
)
DRY_RUN_QUOTE = 40
"""Characters of the judged message a dry-run note quotes: enough to recognise it."""
UNSIMULATED = frozenset(
    {
        ActionKind.NOTIFY_ADMINS,
        ActionKind.SCHEDULE_REINVITE,
        ActionKind.CALLOUT,
        ActionKind.ANNOUNCE,
    }
)
"""What a dry-run leaves to its one staff note: the staff are told there, a re-invite follows
no removal, and a notice the group would read is named in the note instead of being reported
as a separate "would post a notice" (queued, it would go out for real if dry-run were switched
off before the notice's interval ended)."""
UNDO_BUTTON = N_("{button} #{id} {name}")
ACTION_BUTTON = N_("{button} #{id}")
BUTTON_NAME = 6
"""Characters of a member's name on a button: with the action's id it tells the staff whose
button it is, and two buttons to a row still fit a phone's screen."""


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
    thread_id: int | None = None
    """The forum topic of the message: notices about it go there, and its root is never
    deleted."""
    posted_at: float | None = None
    """When the message was first posted (an edit does not change it): Telegram lets bots
    delete only messages younger than 48 hours."""

    @property
    def mention(self) -> Html:
        return mention(self.user_id, self.user_name)

    @property
    def is_sender_chat(self) -> bool:
        """The offender is a channel posting in the group, not a person."""
        return is_chat_id(self.user_id)

    @property
    def is_topic_root(self) -> bool:
        return self.thread_id is not None and self.message_id == self.thread_id


_CHANNEL_TEMPLATES = {"announce_muted": "announce_removed", "admin_removed": "admin_banned"}
"""What a mute's or a removal's notices become for a channel: Telegram bans it as a sender
chat, until lifted (it is neither muted for a while nor re-invited)."""


def _as_for_a_channel(action: Action) -> Action:
    template = _CHANNEL_TEMPLATES.get(action.template or "")
    return action if template is None else replace(action, template=template)


def _step_taken(target: Target, verdict: Verdict) -> str:
    """The ladder step as done: a channel's mute or removal is a ban."""
    step = verdict.step or ""
    return "hard" if target.is_sender_chat and step and step != "soft" else step


def _rules(verdict: Verdict) -> list[str]:
    """The rules that fired, strongest first."""
    return [hit.rule for hit in sorted(verdict.hits, key=lambda hit: -hit.score)]


def main_rule(verdict: Verdict) -> str:
    """The rule the offence is filed under: the flood only for a flood verdict, so an ad
    posted in a burst stays an ad on the ladder (the flood's 1.0 would outweigh its hits)."""
    if is_flood(verdict):
        return FLOOD_RULE
    said = [hit for hit in verdict.hits if hit.rule != FLOOD_RULE] or list(verdict.hits)
    return max(said, key=lambda hit: hit.score).rule if said else "spam"


@dataclass
class PendingNotice:
    template: str
    mentions: list[Html] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    judged: list[Verdict] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    remaining: float | None = None
    """Seconds the last offender's mute lasts; None for forever."""


def compose_notices(
    notices: list[PendingNotice], policy: Policy, title: str, say: Messages
) -> list[str]:
    """The public messages for a group's (or a topic's) pending notices, in the group's
    language: the call-out first, long lists of names cut short, and no message over
    Telegram's limit."""
    ordered = sorted(notices, key=lambda notice: notice.template != "callout")
    return pack(_render_notice(notice, policy, title, say) for notice in ordered)


def _render_notice(notice: PendingNotice, policy: Policy, title: str, say: Messages) -> str:
    remaining = FOREVER if notice.remaining is None else notice.remaining
    rules = [_rules(verdict) for verdict in notice.judged]
    duration = say.duration(remaining)
    return render_notice(policy, notice.template, notice.mentions, title, rules, duration)


def render_notice(
    policy: Policy,
    template: str,
    mentions: list[Html],
    title: str,
    rules: list[list[str]],
    duration: str = "",
) -> str:
    """A call-out or announcement in the group. `{reason}` names the kinds of rule broken
    (`WeChat contact`), never the matched text, number or link: the bot must not re-publish
    the ad it removes, nor a customer's phone number."""
    kinds = policy.templates.rule_kinds
    text = getattr(policy.templates, template)
    values = {
        "users": capped_mentions(mentions, separator=list_separator(text)),
        "group": title,
        "reason": public_reason([rule for broken in rules for rule in broken], kinds)[:200],
        "duration": duration,
    }
    return render(text, values)


class PublicNotices(Collapser):
    """Call-outs and announcements in the group, at most one message per interval: during a
    raid the offenders since the last message are named together in the next one."""

    def __init__(self, services: Services) -> None:
        super().__init__(services.clock, services.staff.jobs)
        self.services = services
        self.pending: dict[int, dict[int | None, dict[str, PendingNotice]]] = defaultdict(dict)
        """Per group, per forum topic (None: no topic), the notices waiting to go out."""
        self.policies: dict[int, tuple[Policy, str]] = {}

    def add(self, target: Target, action: Action, verdict: Verdict, policy: Policy) -> None:
        chat = target.chat_id
        template = action.template or "callout"
        in_topic = self.pending[chat].setdefault(target.thread_id, {})
        notice = in_topic.setdefault(template, PendingNotice(template))
        if target.user_id not in notice.user_ids:
            notice.user_ids.append(target.user_id)
            notice.mentions.append(target.mention)
            notice.judged.append(verdict)
            notice.verdicts.append(verdict.as_dict())
        remaining = None if action.until is None else action.until - self.clock.now()
        notice.remaining = None if remaining is None else max(0.0, remaining)
        self.policies[chat] = (policy, target.chat_title)
        self.request_flush(chat, policy.moderation.callout_interval)

    def waiting_chats(self) -> list[int]:
        return list(self.pending)

    async def flush(self, chat_id: int) -> None:
        topics = self.pending.pop(chat_id, {})
        if not topics:
            return
        policy, title = self.policies.pop(chat_id)
        for thread_id, notices in topics.items():
            await self._post(chat_id, thread_id, notices, policy, title)

    async def _post(
        self,
        chat_id: int,
        thread_id: int | None,
        notices: dict[str, PendingNotice],
        policy: Policy,
        title: str,
    ) -> None:
        """Every notice of a topic (or of the group outside topics) in one message, or in as
        few as Telegram's length limit allows; the call-out, with its button, comes first."""
        say = await self.services.messages_for(chat_id)
        markup = self._ack_button(chat_id, notices, policy)
        texts = compose_notices(list(notices.values()), policy, title, say)
        # Only live verdicts queue notices: the members were already removed or muted for
        # real, so their notice goes out even if dry-run was switched on since.
        door = self.services.doors.live
        for index, text in enumerate(texts):
            try:
                with send_priority(Priority.ENFORCEMENT):
                    sent = await door.post(
                        chat_id, text, markup=markup if index == 0 else None, thread_id=thread_id
                    )
            except TelegramError as error:
                logger.warning("call-out in {} failed: {}", chat_id, error.message)
                return
            if sent is not None:
                await self._remember(chat_id, sent.message_id, notices)

    async def _remember(
        self, chat_id: int, message_id: int, notices: dict[str, PendingNotice]
    ) -> None:
        """Link the notice to each offender's verdict, so /why works as a reply to it."""
        now = self.clock.now()
        for notice in notices.values():
            for user_id, verdict in zip(notice.user_ids, notice.verdicts, strict=True):
                await self.services.store.audit.add(
                    chat_id,
                    now,
                    "notice",
                    target_id=user_id,
                    message_id=message_id,
                    verdict=verdict,
                )

    def _ack_button(
        self, chat_id: int, notices: dict[str, PendingNotice], policy: Policy
    ) -> InlineKeyboardMarkup | None:
        callout = notices.get("callout")
        if callout is None or len(callout.user_ids) != 1 or is_chat_id(callout.user_ids[0]):
            return None
        data = self.services.signer.sign("ack", chat_id, callout.user_ids[0])
        button = InlineKeyboardButton(policy.templates.callout_button, callback_data=data)
        return InlineKeyboardMarkup([[button]])


class Removals:
    """Bans, kicks and mutes, carried out beside the handler so that a raid's removals go out
    side by side (`limit` at once) instead of one round trip after another. Removals of one
    member run in order: a kick's unban must never lift a later ban."""

    def __init__(self, limit: int = REMOVALS_AT_ONCE) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.last: dict[Hashable, asyncio.Task[None]] = {}
        self.running: set[asyncio.Task[None]] = set()

    def start(self, key: Hashable, work: Coroutine[Any, Any, object]) -> None:
        previous = self.last.get(key)
        task = asyncio.get_running_loop().create_task(self._run(previous, work))
        self.last[key] = task
        self.running.add(task)
        task.add_done_callback(lambda done: self._forget(key, done))

    def _forget(self, key: Hashable, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        if self.last.get(key) is task:
            del self.last[key]

    async def _run(
        self, previous: asyncio.Task[None] | None, work: Coroutine[Any, Any, object]
    ) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        async with self.slots:
            await work

    async def drain(self) -> None:
        while self.running:
            await asyncio.gather(*list(self.running), return_exceptions=True)


class Enforcer:
    """Carries out verdicts through the group's door, recording first. Removals go out beside
    the handler (`Removals`): the offence is recorded before, so a crash costs at most a
    removal on its way, and the next ad of the account climbs the ladder."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.notices = PublicNotices(services)
        self.removals = Removals()
        self.removed: BoundedDict[tuple[int, int], tuple[float, ActionKind]] = BoundedDict(
            REMOVALS_KEPT
        )
        self.removal_listeners: list[Callable[[int, int], Awaitable[None]]] = []
        """Told of every member qunbot removes or catches posting an ad (the welcome drops
        them from its wave: no greeting or gift button for an advertiser)."""

    async def execute(self, target: Target, verdict: Verdict, policy: Policy) -> int:
        """Record and carry out the verdict; returns the audit entry id."""
        door = await self.services.doors.for_chat(target.chat_id)
        if door.simulated:
            return await self._simulate(door, target, verdict, policy)
        store, now = self.services.store, self.services.now()
        earlier = await store.enforced.audit_id_for(target.chat_id, target.message_id)
        if earlier is not None:
            # Redelivered after a restart: recorded and acted on already.
            logger.info("message {} in {} already handled", target.message_id, target.chat_id)
            return earlier
        audit_id = await store.enforced.record(self._offence(target, verdict, now))
        state = await store.members.state(target.chat_id, target.user_id, now)
        if not is_flood(verdict):  # a flood is muted, never a step up the ladder
            state.offence_times.append(now)
            await self._tell_removal_listeners(target.chat_id, target.user_id)
        actions = [a for a in verdict.actions if not self._already_removed(target, a.kind)]
        for action in actions:
            await self._act(door, target, action, verdict, policy, audit_id)
        if ActionKind.NOTIFY_ADMINS not in verdict.action_kinds:
            self._notify_staff(target, Action(ActionKind.NOTIFY_ADMINS), verdict, policy, audit_id)
        banned = any(action.kind is ActionKind.BAN for action in actions)
        if banned and self.services.loaded.config.network_peers(target.chat_id):
            self.removals.start(
                (target.chat_id, target.user_id),
                ban_in_network(self.services, target.chat_id, target.user_id),
            )
        return audit_id

    @staticmethod
    def _offence(target: Target, verdict: Verdict, now: float) -> Offence:
        return Offence(
            chat_id=target.chat_id,
            message_id=target.message_id,
            user_id=target.user_id,
            at=now,
            action=verdict.step or "spam",
            rule=main_rule(verdict),
            verdict=verdict.as_dict(),
            text=target.text,
            delete=ActionKind.DELETE in verdict.action_kinds,
            user_name=target.user_name,
        )

    async def _simulate(self, door: Door, target: Target, verdict: Verdict, policy: Policy) -> int:
        """Dry-run: the audit entry and the same actions through the simulated door."""
        audit_id = await self.services.store.audit.add(
            target.chat_id,
            self.services.now(),
            f"dry-run {verdict.step or 'spam'}",
            target_id=target.user_id,
            message_id=target.message_id,
            verdict=verdict.as_dict() | {"dry_run": True},
            text=target.text,
        )
        with self.services.doors.simulated.unreported():
            for action in verdict.actions:
                if action.kind not in UNSIMULATED:
                    await self._act(door, target, action, verdict, policy, audit_id)
        self.services.staff.add(self._dry_run_note(target, verdict, audit_id))
        return audit_id

    def _dry_run_note(self, target: Target, verdict: Verdict, audit_id: int) -> StaffNote:
        """One note per judged message: who wrote what, what qunbot would have done and why,
        and how to say it is no ad (the message is still in the group)."""
        say = self.services.staff.messages
        kinds = [kind for kind in verdict.action_kinds if kind is not ActionKind.NOTIFY_ADMINS]
        values = {
            "group": target.chat_title,
            "user": target.mention,
            "quote": clip_plain(" ".join(target.text.split()), DRY_RUN_QUOTE),
            "would": say.listing(say.tp(ACTION_NAMES.get(k.value, k.value)) for k in kinds),
            "id": audit_id,
            "why": explanation(verdict.as_dict(), say),
        }
        note = say.t(DRY_RUN_NOTE if target.text.strip() else DRY_RUN_NOTE_NO_TEXT, **values)
        fix = fixes((hit.rule for hit in verdict.hits), say)
        hint = say.t(NOT_SPAM_HINT) + (say.t(RULE_FIX_HINT, fixes=fix) if fix else "")
        return StaffNote(note + hint, about=audit_id)

    async def _act(
        self,
        door: Door,
        target: Target,
        action: Action,
        verdict: Verdict,
        policy: Policy,
        audit_id: int,
    ) -> None:
        if target.is_sender_chat:
            action = _as_for_a_channel(action)
        kind, chat, user = action.kind, target.chat_id, target.user_id
        try:
            if kind is ActionKind.DELETE:
                self._delete(door, target)
            elif kind in {ActionKind.CALLOUT, ActionKind.ANNOUNCE}:
                self.notices.add(target, action, verdict, policy)
            elif kind is ActionKind.NOTIFY_ADMINS:
                self._notify_staff(target, action, verdict, policy, audit_id)
            elif target.is_sender_chat:
                await self._act_on_sender_chat(door, target, kind)
            elif not is_person(user):
                # Telegram's pseudo-users stand for whole chats: sanctioning one hits no one.
                logger.warning("not acting on pseudo-user {} in {}", user, chat)
            elif kind in {ActionKind.KICK, ActionKind.BAN, ActionKind.MUTE}:
                await self._sanction(door, target, action)
            elif kind is ActionKind.SCHEDULE_REINVITE:
                await self.services.store.reinvites.add(
                    chat, user, action.until or 0.0, self.services.now()
                )
        except ChatMigrated as moved:
            await self._remove_after_migration(door, moved.new_chat_id, target, action)
        except TelegramError as error:
            await self.services.staff.failed(chat, error, kind.value, target.chat_title)

    async def _sanction(self, door: Door, target: Target, action: Action) -> None:
        """Remove or mute the member beside the handler. In dry-run only the door's report:
        the welcome keeps them and a pending re-invite stays, as nothing happened."""
        chat, user, kind = target.chat_id, target.user_id, action.kind
        if not door.simulated:
            await self.note_removal(chat, user, kind)
            if kind is ActionKind.BAN:
                await self.services.store.reinvites.cancel(chat, user)
        self.removals.start((chat, user), self._remove(door, target, action))

    async def _remove(self, door: Door, target: Target, action: Action) -> None:
        chat, user = target.chat_id, target.user_id
        try:
            if action.kind is ActionKind.KICK:
                await door.kick(chat, user, self.services.now())
            elif action.kind is ActionKind.BAN:
                await door.ban(chat, user, revoke_messages=action.revoke_messages)
            else:
                await door.mute(chat, user, action.until)
        except ChatMigrated as moved:
            await self._remove_after_migration(door, moved.new_chat_id, target, action)
        except TelegramError as error:
            await self.services.staff.failed(chat, error, action.kind.value, target.chat_title)

    async def _remove_after_migration(
        self, door: Door, new_chat_id: int, target: Target, action: Action
    ) -> None:
        """The group became a supergroup while the ad was on its way: the member is removed
        (or muted) in the supergroup instead, where they now are."""
        kind, user = action.kind, target.user_id
        try:
            if kind is ActionKind.KICK:
                await door.kick(new_chat_id, user, self.services.now())
            elif kind is ActionKind.BAN:
                await door.ban(new_chat_id, user, revoke_messages=action.revoke_messages)
                await self.services.store.reinvites.cancel(new_chat_id, user)
            elif kind is ActionKind.MUTE:
                await door.mute(new_chat_id, user, action.until)
            else:
                return
        except TelegramError as error:
            await self.services.staff.failed(new_chat_id, error, kind.value, target.chat_title)
            return
        logger.info(
            "group {} became {}: {} of {} done there",
            target.chat_id,
            new_chat_id,
            kind.value,
            user,
        )

    def _delete(self, door: Door, target: Target) -> None:
        """Delete the message, unless it is a topic's root: that would delete the topic."""
        if target.is_topic_root:
            logger.warning("not deleting topic root {} in {}", target.message_id, target.chat_id)
            return
        age = self.services.now() - (target.posted_at or self.services.now())
        if age >= DELETABLE_FOR:
            values = {"user": target.mention, "group": target.chat_title, "id": target.message_id}
            staff = self.services.staff
            staff.add(StaffNote(staff.messages.t(TOO_OLD_TO_DELETE, **values)))
            return
        door.delete(target.chat_id, target.message_id)

    async def _act_on_sender_chat(self, door: Door, target: Target, kind: ActionKind) -> None:
        """A channel is not a member: it cannot be muted, kicked or re-invited. The one
        sanction Telegram has for it is banChatSenderChat, which stops the group receiving
        anything sent as that channel until lifted (Undo lifts it)."""
        if kind in {ActionKind.MUTE, ActionKind.KICK, ActionKind.BAN}:
            await door.ban_sender_chat(target.chat_id, target.user_id)
            await self.note_removal(target.chat_id, target.user_id, ActionKind.BAN)

    def _already_removed(self, target: Target, kind: ActionKind) -> bool:
        """Whether a ban (or, for a kick, a kick) made after this message was posted covers
        it: during a raid an account's queued ads arrive after it was removed, and need only
        deleting, not another blocking ban call each."""
        if kind not in {ActionKind.KICK, ActionKind.BAN} or target.sent_at is None:
            return False
        at, done = self.removed.get((target.chat_id, target.user_id), (float("-inf"), kind))
        return at > target.sent_at and (done is ActionKind.BAN or kind is ActionKind.KICK)

    async def note_removal(self, chat_id: int, user_id: int, kind: ActionKind) -> None:
        """A member was kicked or banned (by qunbot or an admin's command); a mute is no
        removal."""
        if kind is ActionKind.MUTE:
            return
        self.removed[(chat_id, user_id)] = (self.services.now(), kind)
        await self._tell_removal_listeners(chat_id, user_id)

    async def _tell_removal_listeners(self, chat_id: int, user_id: int) -> None:
        for listener in self.removal_listeners:
            await listener(chat_id, user_id)

    def _notify_staff(
        self, target: Target, action: Action, verdict: Verdict, policy: Policy, audit_id: int
    ) -> None:
        self.services.staff.add(self._staff_note(target, action, verdict, policy, audit_id))

    def _staff_note(
        self, target: Target, action: Action, verdict: Verdict, policy: Policy, audit_id: int
    ) -> StaffNote:
        say = self.services.staff.messages
        values = {
            "user": target.mention,
            "group": target.chat_title,
            "reason": main_reason(verdict, say),
            "reinvite_after": say.duration(policy.moderation.reinvite_after),
        }
        staff_side = self.services.staff_side(policy)
        if action.template is not None:
            text = render(getattr(staff_side.templates, action.template), values)
        elif is_flood(verdict):  # nothing was deleted: the member was slowed down
            text = say.t("🐢 {user} in {group}: {reason}", **values)
        else:
            text = say.t("🗑 {user} in {group}: {reason}", **values)
        step = say.step(_step_taken(target, verdict)) if verdict.step else ""
        text += say.t(" (#{id}, {step})", id=audit_id, step=step)
        rows = self.audit_buttons(
            target.chat_id,
            target.user_id,
            audit_id,
            target.user_name,
            reinvite_label=staff_side.templates.reinvite_now_button
            if action.template == "admin_removed" and not target.is_sender_chat
            else None,
        )
        return StaffNote(text, rows, audit_id)

    def audit_buttons(
        self,
        chat_id: int,
        user_id: int,
        audit_id: int,
        name: str,
        *,
        reinvite_label: str | None = None,
    ) -> tuple[tuple[InlineKeyboardButton, ...], ...]:
        """Undo and Confirm in one row, then (in a network) Ban everywhere and the re-invite
        each in a row of its own: signed, checked when pressed. Each says which action and
        member it is for, so in a raid's digest the staff need not count rows."""
        signer, say = self.services.signer, self.services.staff.messages
        whose = {"id": audit_id, "name": clip_plain(" ".join(name.split()), BUTTON_NAME)}
        rows: list[tuple[InlineKeyboardButton, ...]] = [
            (
                InlineKeyboardButton(
                    say.tp(UNDO_BUTTON, button=say.tp("↩️ Undo"), **whose),
                    callback_data=signer.sign("undo", audit_id),
                ),
                InlineKeyboardButton(
                    say.tp(ACTION_BUTTON, button=say.tp("✅ Confirm"), id=audit_id),
                    callback_data=signer.sign("conf", audit_id),
                ),
            )
        ]
        if self.services.loaded.config.network_peers(chat_id):
            label = say.tp(ACTION_BUTTON, button=say.tp("🌐 Ban everywhere"), id=audit_id)
            data = signer.sign("nban", audit_id)
            rows.append((InlineKeyboardButton(label, callback_data=data),))
        if reinvite_label is not None:
            label = say.tp(UNDO_BUTTON, button=reinvite_label, **whose)
            data = signer.sign("rin", chat_id, user_id)
            rows.append((InlineKeyboardButton(label, callback_data=data),))
        return tuple(rows)

    async def resume_deletes(self) -> int:
        """Send again the deletes a crash cut short; returns how many were owed."""
        since = self.services.now() - DELETABLE_FOR
        owed = await self.services.store.enforced.deletes_pending(since)
        for chat_id, message_id in owed:
            self.services.door.delete(chat_id, message_id)
        if owed:
            logger.info("sending {} delete(s) left over from the last run", len(owed))
        return len(owed)

    async def resume_staff_notes(self) -> int:
        """Queue again the staff notes of recent enforced actions that never reached the staff
        chat (a crash took the digest waiting for its interval); returns how many. The public
        call-out is not posted again: the group has moved on, the staff note carries the
        buttons."""
        staff, store = self.services.staff, self.services.store
        if staff.staff_chat is None:
            # Nobody to tell: a staff chat added later must not get a day of old removals.
            unsent = await store.enforced.notes_owed(float("-inf"))
            if unsent:
                await store.enforced.noted([note.audit_id for note in unsent])
            return 0
        owed = await store.enforced.notes_owed(self.services.now() - NOTES_OWED_FOR)
        queued = staff.pending_audit_ids()
        owed = [note for note in owed if note.audit_id not in queued]
        for note in owed:
            staff.add(await self._owed_note(note))
        if owed:
            logger.info("sending {} staff note(s) left over from the last run", len(owed))
        return len(owed)

    async def _owed_note(self, owed: OwedNote) -> StaffNote:
        """The note the crashed run would have sent, marked as late."""
        verdict = Verdict.from_dict(owed.verdict)
        target = Target(
            chat_id=owed.chat_id,
            chat_title=self.services.chat_info.title_of(owed.chat_id)
            or await self._stored_title(owed.chat_id),
            user_id=owed.user_id,
            user_name=owed.user_name,
            message_id=owed.message_id,
        )
        policy = (await self.services.policies.policy_for(owed.chat_id)).policy
        told = [a for a in verdict.actions if a.kind is ActionKind.NOTIFY_ADMINS]
        action = told[0] if told else Action(ActionKind.NOTIFY_ADMINS)
        if target.is_sender_chat:
            action = _as_for_a_channel(action)
        note = self._staff_note(target, action, verdict, policy, owed.audit_id)
        late = self.services.staff.messages.t(AFTER_RESTART)
        return replace(note, html=note.html + late)

    async def _stored_title(self, chat_id: int) -> str:
        group = await self.services.store.groups.get(chat_id)
        return group.title if group is not None and group.title else str(chat_id)

    async def drain(self) -> None:
        """Let every removal, delete and notice under way go out (shutdown and tests)."""
        await self.removals.drain()
        await self.services.doors.live.drain()
        await self.notices.drain()
        await self.services.staff.drain()


ALBUM_WINDOW = 120.0
"""Seconds an album's message ids are remembered: Telegram delivers its items together."""
ALBUMS_KEPT = 2_000
"""Albums remembered at once, across every group."""
ALBUM_ITEMS = 10
"""Telegram's largest album."""


@dataclass
class Album:
    """The items of one album seen so far, and whether it was removed as an ad."""

    first_seen: float
    message_ids: list[int] = field(default_factory=list)
    removed: bool = False


class Albums:
    """Recent albums by group and media group id, so an ad in any item removes them all."""

    def __init__(self) -> None:
        self.recent: BoundedDict[tuple[int, str], Album] = BoundedDict(ALBUMS_KEPT)

    def note(self, facts: MessageFacts, now: float) -> Album | None:
        """The message's album with this item added; None outside albums."""
        if facts.media_group_id is None:
            return None
        key = (facts.chat_id, facts.media_group_id)
        album = self.recent.touch(key)
        if album is None or now - album.first_seen > ALBUM_WINDOW:
            album = Album(now)
            self.recent[key] = album
        if facts.message_id not in album.message_ids and len(album.message_ids) < ALBUM_ITEMS:
            album.message_ids.append(facts.message_id)
        return album


class Moderation:
    """Judges each group message (new or edited) and hands ads to the enforcer."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.enforcer = Enforcer(services)
        self.waves: dict[float, WaveTracker] = {}
        """One tracker per wave window in use (a handful, one per distinct policy setting)."""
        self.albums = Albums()

    async def judge(self, bot: Bot, message: Message, *, is_edit: bool) -> bool:
        """Judge a message and carry out the verdict; True when it was acted on."""
        rt = self.services
        if message.chat_id == rt.loaded.config.staff_chat or message.chat_id in rt.idle_chats:
            return False
        facts = facts_from_message(message, is_edit=is_edit)
        if only_the_text_speaks(facts) and rt.cleared.cleared(facts.chat_id, facts.text):
            facts = replace(facts, cleared_by_admin=True)
        now = rt.now()
        album = self.albums.note(facts, now)
        if album is not None and album.removed:
            await self._remove_album(facts.chat_id, album)
            return True
        await rt.policies.note_group(message.chat_id, message.chat.title or "")
        if facts.username and is_person(facts.user_id):
            rt.remember_username(facts.username, facts.user_id)
        state = await rt.store.members.state(facts.chat_id, facts.offender_id, now)
        if not is_edit:
            rt.store.members.record_message(state, now)
        compiled = await rt.policies.policy_for(facts.chat_id)
        wave = self._wave_count(facts, compiled.policy.moderation.wave, now)
        history = _history(state, is_admin=False, counted=not is_edit)
        verdict = decide(facts, compiled, history, now, wave_accounts=wave)
        if verdict.spam:
            # Only exemptions need the admins and the linked channel, which cost two API calls
            # per group and ADMIN_LIST_TTL; they can only clear a message, so ads alone fetch them.
            info = await rt.chat_info.get(bot, message.chat_id)
            is_admin = facts.offender_id in info.admins
            if is_admin or info.linked_chat_id != facts.linked_chat_id:
                # Judged again only when an exemption may apply: the same facts give the same
                # verdict, and a raid's backlog is judged one message after another.
                facts = replace(facts, linked_chat_id=info.linked_chat_id)
                history = replace(history, is_admin=is_admin)
                verdict = decide(facts, compiled, history, now, wave_accounts=wave)
        if not verdict.spam:
            if not is_edit:
                rt.stats.message(facts.chat_id, _speaker(facts))
            return False
        audit_id = await self.enforcer.execute(_target(message, facts), verdict, compiled.policy)
        removed = ActionKind.DELETE in verdict.action_kinds
        if removed and album is not None:
            album.removed = True
            await self._remove_album(facts.chat_id, album)
        if not await rt.policies.dry_run(facts.chat_id) and removed:
            rt.stats.count(facts.chat_id, "ads_removed")
        logger.info(
            "chat {} sender {} message {}: {} (action #{})",
            facts.chat_id,
            facts.offender_id,
            facts.message_id,
            verdict.explanation,
            audit_id,
        )
        return True

    async def _remove_album(self, chat_id: int, album: Album) -> None:
        """Every item of an album seen so far; later items are removed as they arrive."""
        door = await self.services.doors.for_chat(chat_id)
        for message_id in album.message_ids:
            door.delete(chat_id, message_id)

    def _wave_count(self, facts: MessageFacts, wave: WaveConfig, now: float) -> int:
        if not wave.enabled or not facts.text or facts.is_edit:
            return 0
        tracker = self.waves.get(wave.window)
        if tracker is None:
            tracker = WaveTracker(window=wave.window, min_length=wave.min_length)
            self.waves[wave.window] = tracker
        return tracker.observe(facts.chat_id, facts.offender_id, facts.text, now)


def history_of(state: MemberState) -> MemberHistory:
    """What `decide` needs to know of a member's past."""
    return _history(state, is_admin=False, counted=False)


def _history(state: MemberState, *, is_admin: bool, counted: bool) -> MemberHistory:
    """The member as they were before this message, plus its time for flood counting."""
    return MemberHistory(
        message_count=state.message_count - (1 if counted else 0),
        first_seen=state.first_seen,
        joined_at=state.joined_at,
        trusted=state.trusted,
        is_admin=is_admin,
        offence_times=tuple(state.offence_times),
        recent_message_times=tuple(state.recent_message_times),
    )


def _speaker(facts: MessageFacts) -> int | None:
    """Who counts as an active member: people, not bots or chats posting in the group."""
    if facts.is_bot or facts.sender_chat_id is not None or not is_person(facts.user_id):
        return None
    return facts.user_id


def _target(message: Message, facts: MessageFacts) -> Target:
    return Target(
        chat_id=facts.chat_id,
        chat_title=message.chat.title or "",
        user_id=facts.offender_id,
        user_name=facts.offender_name,
        message_id=facts.message_id,
        text=facts.text,
        sent_at=facts.date,
        thread_id=facts.thread_id,
        posted_at=message.date.timestamp(),
    )


def target_of(message: Message) -> Target | None:
    """Who answers for a message someone replied to (for /spam and /report): the channel it
    was sent as, else its sender; None for a message nobody can answer for (no sender, an
    anonymous admin, an automatic forward from the linked channel, Telegram itself)."""
    if message.from_user is None and message.sender_chat is None:
        return None
    facts = facts_from_message(message)
    if message.is_automatic_forward or facts.is_anonymous_admin:
        return None
    if not is_person(facts.offender_id) and not is_chat_id(facts.offender_id):
        return None
    return _target(message, facts)


def only_the_text_speaks(facts: MessageFacts) -> bool:
    """Whether everything the message carries is in its visible text: no link behind other
    words, no button, no forward or inline bot, so clearing the text clears the message."""
    return (
        all(url in facts.text for url in facts.link_urls)
        and not facts.button_urls
        and facts.forward_kind is None
        and facts.via_bot is None
    )

"""Moderation: every group message judged by `policies.decide`, and the verdict carried out.

The enforcer records the offence and the audit entry first, then acts through the group's door,
so a crash loses nothing and a dry-run group (the simulated door) is touched by nothing. In
dry-run no offence is recorded: the ladder climbs only for what really happened.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from loguru import logger
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import ChatMigrated, TelegramError

from bot.core.bounded import BoundedDict
from bot.core.i18n import Messages
from bot.core.services import Services
from bot.features.explain import explanation, main_reason
from bot.features.network import ban_in_network
from bot.store import MemberState, Offence
from bot.telegram.collapse import Collapser
from bot.telegram.door import Door
from bot.telegram.extract import display_name, facts_from_message
from bot.telegram.staff import ACTION_NAMES, StaffNote
from policies.decide import decide
from policies.durations import FOREVER
from policies.facts import MemberHistory, MessageFacts
from policies.schema import Policy, WaveConfig
from policies.texts import Html, join_mentions, mention, render
from policies.verdict import Action, ActionKind, Verdict
from policies.waves import WaveTracker

DELETABLE_FOR = 48 * 3600.0
"""Telegram refuses to delete older messages, so older owed deletes are not retried."""
REMOVALS_KEPT = 10_000
"""Recent kicks and bans remembered, so a raid's backlog costs one ban per account."""
NOTICE_MENTIONS_BUDGET = 900
"""HTML characters of names per collapsed notice; the rest are counted ("+170"). Three notice
kinds can share one message, which must stay inside Telegram's 4096 characters."""


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


def main_rule(verdict: Verdict) -> str:
    return max(verdict.hits, key=lambda hit: hit.score).rule if verdict.hits else "spam"


@dataclass
class PendingNotice:
    template: str
    mentions: list[Html] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    judged: list[Verdict] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    remaining: float | None = None
    """Seconds the last offender's mute lasts; None for forever."""


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

    def __init__(self, services: Services) -> None:
        super().__init__(services.clock, services.staff.jobs)
        self.services = services
        self.pending: dict[int, dict[str, PendingNotice]] = defaultdict(dict)
        self.policies: dict[int, tuple[Policy, str]] = {}

    def add(self, target: Target, action: Action, verdict: Verdict, policy: Policy) -> None:
        chat = target.chat_id
        template = action.template or "callout"
        notice = self.pending[chat].setdefault(template, PendingNotice(template))
        if target.user_id not in notice.user_ids:
            notice.user_ids.append(target.user_id)
            notice.mentions.append(target.mention)
            notice.judged.append(verdict)
            notice.verdicts.append(verdict.as_dict())
        remaining = None if action.until is None else action.until - self.clock.now()
        notice.remaining = None if remaining is None else max(0.0, remaining)
        self.policies[chat] = (policy, target.chat_title)
        self.request_flush(chat, policy.moderation.callout_interval)

    async def flush(self, chat_id: int) -> None:
        notices = self.pending.pop(chat_id, {})
        if not notices:
            return
        policy, title = self.policies.pop(chat_id)
        say = await self.services.messages_for(chat_id)
        text = "\n\n".join(self._render(notice, policy, title, say) for notice in notices.values())
        markup = self._ack_button(chat_id, notices, policy)
        door = await self.services.doors.for_chat(chat_id)
        try:
            sent = await door.post(chat_id, text, markup=markup)
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

    def _render(self, notice: PendingNotice, policy: Policy, title: str, say: Messages) -> str:
        template = getattr(policy.templates, notice.template)
        reasons = (main_reason(verdict, say) for verdict in notice.judged)
        remaining = FOREVER if notice.remaining is None else notice.remaining
        values = {
            "users": capped_mentions(notice.mentions),
            "group": title,
            "reason": say.tp("; ").join(dict.fromkeys(reasons))[:200],
            "duration": say.duration(remaining),
        }
        return render(template, values)

    def _ack_button(
        self, chat_id: int, notices: dict[str, PendingNotice], policy: Policy
    ) -> InlineKeyboardMarkup | None:
        callout = notices.get("callout")
        if callout is None or len(callout.user_ids) != 1:
            return None
        data = self.services.signer.sign("ack", chat_id, callout.user_ids[0])
        button = InlineKeyboardButton(policy.templates.callout_button, callback_data=data)
        return InlineKeyboardMarkup([[button]])


class Enforcer:
    """Carries out verdicts through the group's door, recording first."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.notices = PublicNotices(services)
        self.removed: BoundedDict[tuple[int, int], tuple[float, ActionKind]] = BoundedDict(
            REMOVALS_KEPT
        )

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
        state.offence_times.append(now)
        actions = [a for a in verdict.actions if not self._already_removed(target, a.kind)]
        for action in actions:
            await self._act(door, target, action, verdict, policy, audit_id)
        if ActionKind.NOTIFY_ADMINS not in verdict.action_kinds:
            self._notify_staff(target, Action(ActionKind.NOTIFY_ADMINS), verdict, policy, audit_id)
        if any(action.kind is ActionKind.BAN for action in actions):
            await ban_in_network(self.services, target.chat_id, target.user_id)
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
        for action in verdict.actions:
            if action.kind not in {ActionKind.NOTIFY_ADMINS, ActionKind.SCHEDULE_REINVITE}:
                await self._act(door, target, action, verdict, policy, audit_id)
        say = self.services.staff.messages
        note = say.t(
            "🧪 dry-run in {group}: would {would} for {user} (action #{id})\n{why}",
            group=target.chat_title,
            would=say.listing(
                say.tp(ACTION_NAMES.get(k.value, k.value)) for k in verdict.action_kinds
            ),
            user=target.mention,
            id=audit_id,
            why=explanation(verdict.as_dict(), say),
        )
        self.services.staff.add(StaffNote(note))
        return audit_id

    async def _act(
        self,
        door: Door,
        target: Target,
        action: Action,
        verdict: Verdict,
        policy: Policy,
        audit_id: int,
    ) -> None:
        kind, chat, user = action.kind, target.chat_id, target.user_id
        try:
            if kind is ActionKind.DELETE:
                door.delete(chat, target.message_id)
            elif kind in {ActionKind.CALLOUT, ActionKind.ANNOUNCE}:
                self.notices.add(target, action, verdict, policy)
            elif kind is ActionKind.KICK:
                await door.kick(chat, user, self.services.now())
                self._note_removal(target, kind)
            elif kind is ActionKind.BAN:
                await door.ban(chat, user, revoke_messages=action.revoke_messages)
                self._note_removal(target, kind)
                await self.services.store.reinvites.cancel(chat, user)
            elif kind is ActionKind.MUTE:
                await door.mute(chat, user, action.until)
            elif kind is ActionKind.SCHEDULE_REINVITE:
                await self.services.store.reinvites.add(
                    chat, user, action.until or 0.0, self.services.now()
                )
            elif kind is ActionKind.NOTIFY_ADMINS:
                self._notify_staff(target, action, verdict, policy, audit_id)
        except ChatMigrated as moved:
            await self._remove_after_migration(door, moved.new_chat_id, target, action)
        except TelegramError as error:
            await self.services.staff.failed(chat, error, kind.value, target.chat_title)

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

    def _already_removed(self, target: Target, kind: ActionKind) -> bool:
        """Whether a ban (or, for a kick, a kick) made after this message was posted covers
        it: during a raid an account's queued ads arrive after it was removed, and need only
        deleting, not another blocking ban call each."""
        if kind not in {ActionKind.KICK, ActionKind.BAN} or target.sent_at is None:
            return False
        at, done = self.removed.get((target.chat_id, target.user_id), (float("-inf"), kind))
        return at > target.sent_at and (done is ActionKind.BAN or kind is ActionKind.KICK)

    def _note_removal(self, target: Target, kind: ActionKind) -> None:
        self.removed[(target.chat_id, target.user_id)] = (self.services.now(), kind)

    def _notify_staff(
        self, target: Target, action: Action, verdict: Verdict, policy: Policy, audit_id: int
    ) -> None:
        say = self.services.staff.messages
        values = {
            "user": target.mention,
            "group": target.chat_title,
            "reason": main_reason(verdict, say),
            "reinvite_after": say.duration(policy.moderation.reinvite_after),
        }
        if action.template is not None:
            text = render(getattr(policy.templates, action.template), values)
        else:
            text = say.t("🗑 {user} in {group}: {reason}", **values)
        step = say.step(verdict.step) if verdict.step else ""
        text += say.t(" (#{id}, {step})", id=audit_id, step=step)
        buttons = self.audit_buttons(
            target.chat_id,
            target.user_id,
            audit_id,
            reinvite_label=policy.templates.reinvite_now_button
            if action.template == "admin_removed"
            else None,
        )
        self.services.staff.add(StaffNote(text, buttons))

    def audit_buttons(
        self, chat_id: int, user_id: int, audit_id: int, *, reinvite_label: str | None = None
    ) -> tuple[InlineKeyboardButton, ...]:
        """Undo, Confirm and (in a network) Ban everywhere: signed, checked when pressed."""
        signer, say = self.services.signer, self.services.staff.messages
        buttons = [
            InlineKeyboardButton(say.tp("↩️ Undo"), callback_data=signer.sign("undo", audit_id)),
            InlineKeyboardButton(
                say.tp("✅ Confirm"), callback_data=signer.sign("conf", audit_id)
            ),
        ]
        if self.services.loaded.config.network_peers(chat_id):
            buttons.append(
                InlineKeyboardButton(
                    say.tp("🌐 Ban everywhere"), callback_data=signer.sign("nban", audit_id)
                )
            )
        if reinvite_label is not None:
            data = signer.sign("rin", chat_id, user_id)
            buttons.append(InlineKeyboardButton(reinvite_label, callback_data=data))
        return tuple(buttons)

    async def resume_deletes(self) -> int:
        """Send again the deletes a crash cut short; returns how many were owed."""
        since = self.services.now() - DELETABLE_FOR
        owed = await self.services.store.enforced.deletes_pending(since)
        for chat_id, message_id in owed:
            self.services.door.delete(chat_id, message_id)
        if owed:
            logger.info("sending {} delete(s) left over from the last run", len(owed))
        return len(owed)

    async def drain(self) -> None:
        """Let every delete and notice under way go out (shutdown and tests)."""
        await self.services.doors.live.drain()
        await self.notices.drain()
        await self.services.staff.drain()


class Moderation:
    """Judges each group message (new or edited) and hands ads to the enforcer."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.enforcer = Enforcer(services)
        self.waves: dict[float, WaveTracker] = {}
        """One tracker per wave window in use (a handful, one per distinct policy setting)."""

    async def judge(self, bot: Bot, message: Message, *, is_edit: bool) -> bool:
        """Judge a message and carry out the verdict; True when it was acted on."""
        rt = self.services
        if message.chat_id == rt.loaded.config.staff_chat or message.chat_id in rt.idle_chats:
            return False
        facts = facts_from_message(message, is_edit=is_edit)
        await rt.policies.note_group(message.chat_id, message.chat.title or "")
        if facts.username:
            rt.usernames[facts.username.lower()] = facts.user_id
        now = rt.now()
        state = await rt.store.members.state(facts.chat_id, facts.user_id, now)
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
            facts = replace(facts, linked_chat_id=info.linked_chat_id)
            history = replace(history, is_admin=facts.user_id in info.admins)
            verdict = decide(facts, compiled, history, now, wave_accounts=wave)
        if not verdict.spam:
            if not is_edit:
                rt.stats.message(facts.chat_id, _speaker(facts))
            return False
        audit_id = await self.enforcer.execute(_target(message, facts), verdict, compiled.policy)
        if (
            not await rt.policies.dry_run(facts.chat_id)
            and ActionKind.DELETE in verdict.action_kinds
        ):
            rt.stats.count(facts.chat_id, "ads_removed")
        logger.info(
            "chat {} user {} message {}: {} (action #{})",
            facts.chat_id,
            facts.user_id,
            facts.message_id,
            verdict.explanation,
            audit_id,
        )
        return True

    async def acknowledge(self, chat_id: int, user_id: int) -> None:
        """The member acknowledged a call-out: their first call-out in the window is forgiven."""
        rt = self.services
        since = rt.now() - (await rt.policies.policy_for(chat_id)).policy.moderation.window
        if await rt.store.offences.acknowledged_since(chat_id, user_id, since) == 0:
            await rt.store.offences.acknowledge_latest(chat_id, user_id)
            state = await rt.store.members.state(chat_id, user_id, rt.now())
            if state.offence_times:
                state.offence_times.pop()

    def _wave_count(self, facts: MessageFacts, wave: WaveConfig, now: float) -> int:
        if not wave.enabled or not facts.text or facts.is_edit:
            return 0
        tracker = self.waves.get(wave.window)
        if tracker is None:
            tracker = WaveTracker(window=wave.window, min_length=wave.min_length)
            self.waves[wave.window] = tracker
        return tracker.observe(facts.chat_id, facts.user_id, facts.text, now)


def history_of(state: MemberState) -> MemberHistory:
    """What `decide` needs to know of a member's past."""
    return _history(state, is_admin=False, counted=False)


def _history(state: MemberState, *, is_admin: bool, counted: bool) -> MemberHistory:
    """The member as they were before this message, plus its time for flood counting."""
    return MemberHistory(
        message_count=state.message_count - (1 if counted else 0),
        first_seen=state.first_seen,
        trusted=state.trusted,
        is_admin=is_admin,
        offence_times=tuple(state.offence_times),
        recent_message_times=tuple(state.recent_message_times),
    )


def _speaker(facts: MessageFacts) -> int | None:
    """Who counts as an active member: people, not bots or chats posting in the group."""
    return None if facts.is_bot or facts.sender_chat_id is not None else facts.user_id


def _target(message: Message, facts: MessageFacts) -> Target:
    user = message.from_user
    name = display_name(user.first_name, user.last_name) if user else facts.user_name
    return Target(
        chat_id=facts.chat_id,
        chat_title=message.chat.title or "",
        user_id=facts.user_id,
        user_name=name,
        message_id=facts.message_id,
        text=facts.text,
        sent_at=facts.date,
    )

"""What admins do to members by hand, and undoing what qunbot or an admin did.

Every action goes through the group's door and is recorded in the audit log the same way,
whoever started it; the staff chat hears of each with an Undo button.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import reduce

from telegram.error import TelegramError

from bot.core.i18n import N_, Messages
from bot.core.services import Services
from bot.features.explain import action_name
from bot.features.moderation import Enforcer, Target, history_of
from bot.features.network import ban_in_network, unban_in_network
from bot.features.reinvite import Reinvites
from bot.features.rule_fixes import fixes, rules_of
from bot.store import AuditEntry
from bot.telegram.door import Door
from bot.telegram.permissions import is_member_now
from bot.telegram.staff import StaffNote
from policies.decide import escalate
from policies.durations import format_duration
from policies.facts import is_chat_id
from policies.texts import mention
from policies.verdict import ActionKind, Hit

MANUAL_NOTE = N_("👮 {actor}: {action} {user} in {group} (#{id})")
MANUAL_NOTE_WITH_REASON = N_("👮 {actor}: {action} {user} in {group}: {reason} (#{id})")
UNDOABLE = frozenset({"mute", "kick", "ban", "warn"})
"""Manual actions whose staff note carries Undo; the others (unban, trust, pardon ...) are
themselves the way back."""
BAN_ACTIONS = frozenset({"ban", "hard"})
NOTHING_TO_LIFT = {
    "warn": N_("Undone #{id}: warning taken back."),
    "soft": N_("Undone #{id}: call-out taken back, offence forgiven."),
}
"""Actions that removed and restricted no one: undoing them forgives the offence and lifts
nothing (a later ban of the same member or channel stays, with its own Undo)."""
"""Audit actions that banned (by hand, or the ladder's last step): their undo lifts the ban
in every group of the network, the same groups the ban reached."""

SAME_TEXT_CLEARED = N_(
    "The same text will not be taken for an ad in this group for the next {retention} (the "
    "config's retention); the member's other messages are judged as before."
)
RULE_NOT_LEARNED = N_(
    "A rule caught the message, and rules do not learn: to let such messages through for "
    "everyone, send {fixes}."
)
NEXT_SENTENCE = N_("{said} {more}")
"""One sentence after another: a space in English, none after a Chinese full stop."""
SETTLED_BY_COMMAND = N_("{outcome} (/notspam by {by})")
ADMIN_SPAM_REASON = N_("marked as an ad by an admin")
"""The reason of a /spam verdict; `bot.features.explain` names the rule `admin.spam`."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a staff button did, in the staff's language; `failed` when Telegram refused, so
    the buttons stay for another try."""

    text: str
    failed: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    """A catalog message and its values, put into words when read: an undo is told to the
    group in its language and to the staff in theirs, and only the staff may read an invite
    link."""

    message: str
    values: Mapping[str, object] = field(default_factory=dict)
    for_staff: Phrase | None = None
    """What the staff chat reads instead."""

    def said(self, say: Messages, *, staff: bool = False) -> str:
        phrase = self.for_staff if staff and self.for_staff is not None else self
        values = {
            name: value.said(say, staff=staff) if isinstance(value, Phrase) else value
            for name, value in phrase.values.items()
        }
        return say.tp(phrase.message, **values)


@dataclass(frozen=True, slots=True)
class Undone:
    phrase: Phrase
    failed: bool = False
    """Telegram refused: the undo may be tried again."""
    happened: bool = True
    """False when there was nothing to undo (or someone undid it first): no note to settle."""


@dataclass(frozen=True, slots=True)
class Member:
    chat_id: int
    user_id: int
    name: str


class AdminActions:
    """Manual actions on members, each audited and told to the staff."""

    def __init__(self, services: Services, enforcer: Enforcer, reinvites: Reinvites) -> None:
        self.services, self.enforcer, self.reinvites = services, enforcer, reinvites

    async def record(
        self, member: Member, action: str, actor_id: int | None, text: str = ""
    ) -> int:
        """The audit entry of a manual action, and a note for the staff like an automatic
        action's: with Undo when the action can be undone."""
        rt = self.services
        audit_id = await rt.store.audit.add(
            member.chat_id,
            rt.now(),
            action,
            actor_id=actor_id,
            target_id=member.user_id,
            text=text or None,
        )
        say = rt.staff.messages
        values = {
            "actor": rt.actor(actor_id),
            "action": action_name(action, say),
            "user": mention(member.user_id, member.name),
            "group": await self.services.known_title(member.chat_id),
            "reason": text,
            "id": audit_id,
        }
        note = say.t(MANUAL_NOTE_WITH_REASON if text else MANUAL_NOTE, **values)
        undoable = action.split()[0] in UNDOABLE
        buttons = (
            self.enforcer.audit_buttons(member.chat_id, member.user_id, audit_id, member.name)
            if undoable
            else ()
        )
        rt.staff.add(StaffNote(note, buttons, about=audit_id))
        return audit_id

    async def mute(self, member: Member, seconds: float, actor_id: int | None) -> None:
        until = None if seconds == float("inf") else self.services.now() + seconds
        door = await self.services.doors.for_chat(member.chat_id)
        await door.mute(member.chat_id, member.user_id, until)
        await self.record(member, f"mute {format_duration(seconds)}", actor_id)

    async def unmute(self, member: Member, actor_id: int | None) -> None:
        door = await self.services.doors.for_chat(member.chat_id)
        await door.unmute(member.chat_id, member.user_id)
        await self.record(member, "unmute", actor_id)

    async def kick(self, member: Member, actor_id: int | None) -> None:
        """Remove the member; a channel, which cannot be kicked, is banned as a sender chat."""
        door = await self.services.doors.for_chat(member.chat_id)
        if is_chat_id(member.user_id):
            await door.ban_sender_chat(member.chat_id, member.user_id)
        else:
            await door.kick(member.chat_id, member.user_id, self.services.now())
        await self.enforcer.note_removal(member.chat_id, member.user_id, ActionKind.KICK)
        await self.record(member, "kick", actor_id)

    async def ban(self, member: Member, actor_id: int | None) -> list[int]:
        """Ban here and in every group of the network; returns the other groups reached."""
        door = await self.services.doors.for_chat(member.chat_id)
        if is_chat_id(member.user_id):
            await door.ban_sender_chat(member.chat_id, member.user_id)
        else:
            await door.ban(member.chat_id, member.user_id)
        await self.services.store.reinvites.cancel(member.chat_id, member.user_id)
        await self.enforcer.note_removal(member.chat_id, member.user_id, ActionKind.BAN)
        await self.record(member, "ban", actor_id)
        return await ban_in_network(self.services, member.chat_id, member.user_id)

    async def unban(self, member: Member, actor_id: int | None) -> None:
        """Lift the ban here and wherever the network spread it."""
        door = await self.services.doors.for_chat(member.chat_id)
        if is_chat_id(member.user_id):
            await door.unban_sender_chat(member.chat_id, member.user_id)
        else:
            await door.unban(member.chat_id, member.user_id)
        await unban_in_network(self.services, member.chat_id, member.user_id)
        await self.record(member, "unban", actor_id)

    async def set_trusted(self, member: Member, trusted: bool, actor_id: int | None) -> None:
        rt = self.services
        await rt.store.members.set_trusted(member.chat_id, member.user_id, trusted, rt.now())
        await self.record(member, "trust" if trusted else "untrust", actor_id)

    async def warn(self, member: Member, reason: str, actor_id: int | None) -> str:
        """Record an offence by hand; returns the step a next offence would bring."""
        rt = self.services
        audit_id = await self.record(member, "warn", actor_id, reason)
        await rt.store.offences.add(
            member.chat_id, member.user_id, rt.now(), "admin.warn", audit_id
        )
        await rt.store.members.refresh_offences(member.chat_id, member.user_id)
        policy = (await rt.policies.policy_for(member.chat_id)).policy
        state = await rt.store.members.state(member.chat_id, member.user_id, rt.now())
        return escalate(policy, history_of(state), rt.now(), (), judged="").step or ""

    async def unwarn(self, member: Member, actor_id: int | None) -> bool:
        """Take back the latest offence; False if there was none."""
        rt = self.services
        forgiven = await rt.store.offences.acknowledge_latest(member.chat_id, member.user_id)
        await rt.store.members.refresh_offences(member.chat_id, member.user_id)
        await self.record(member, "unwarn", actor_id)
        return bool(forgiven)

    async def pardon(self, member: Member, actor_id: int | None) -> int:
        """Forget every offence of the member in this group; returns how many."""
        rt = self.services
        removed = await rt.store.offences.pardon(member.chat_id, member.user_id)
        await rt.store.members.refresh_offences(member.chat_id, member.user_id)
        await self.record(member, "pardon", actor_id)
        return int(removed)

    async def mark_spam(self, target: Target, actor_id: int | None) -> None:
        """Remove a message as an ad, apply the ladder, and teach the scorer."""
        rt = self.services
        compiled = await rt.policies.policy_for(target.chat_id)
        state = await rt.store.members.state(target.chat_id, target.user_id, rt.now())
        hit = Hit("admin.spam", ADMIN_SPAM_REASON, target.text[:80], 1.0)
        verdict = escalate(
            compiled.policy, history_of(state), rt.now(), (hit,), judged="an admin's /spam"
        )
        await self.enforcer.execute(target, verdict, compiled.policy)
        await self.learn(target.chat_id, target.text, spam=True, actor_id=actor_id)

    async def mark_not_spam(
        self,
        member: Member,
        text: str,
        actor_id: int | None,
        say: Messages,
        message_id: int | None = None,
    ) -> str:
        """Teach the scorer that this is ordinary chat (`text`, else the message the last
        automatic action removed), clear the same text in this group for good (a rule would
        catch it again), and undo the action taken on it; says what was done, and which
        command lets through for everyone what a rule caught. `message_id`: the message
        judged, when the admin answered it; else the member's last automatic action counts.
        The member is not trusted: their next ad is judged like anyone's."""
        judged = await self._judged(member, message_id)
        entry = judged if judged is not None and _undoable(judged) else None
        removed = text or (judged.text if judged is not None else "") or ""
        if not removed and entry is None:
            return say.tp("Nothing to learn or undo for {name}.", name=member.name)
        await self.learn(member.chat_id, removed, spam=False, actor_id=actor_id)
        undone = await self._undo_for_group(entry, actor_id, say) if entry else ""
        told = [say.tp("Learned as not spam. {outcome}", outcome=undone) if removed else undone]
        if removed:
            kept = say.duration(self.services.loaded.config.retention)
            told.append(say.tp(SAME_TEXT_CLEARED, retention=kept))
        fix = fixes(rules_of(judged.verdict), say) if judged is not None else ""
        if fix:
            told.append(say.tp(RULE_NOT_LEARNED, fixes=fix))
        sentences = [part.strip() for part in told if part.strip()]
        return reduce(lambda said, more: say.tp(NEXT_SENTENCE, said=said, more=more), sentences)

    async def _judged(self, member: Member, message_id: int | None) -> AuditEntry | None:
        """The entry of the message the admin answered (a dry-run's too; None if qunbot
        never judged it), else the member's last automatic action."""
        audit = self.services.store.audit
        if message_id is None:
            return await audit.last_automatic(member.chat_id, member.user_id)
        entry = await audit.for_message(member.chat_id, message_id)
        return entry if entry is not None and entry.target_id == member.user_id else None

    async def _undo_for_group(self, entry: AuditEntry, actor_id: int | None, say: Messages) -> str:
        """Undo as the staff note's button does: the note settled with the outcome, and an
        invite link, if the member cannot be written to, for the staff alone; the group
        hears the outcome without it."""
        staff = self.services.staff
        undone = await self._undo(entry, actor_id, staff_link=staff.staff_chat is not None)
        if not undone.happened:
            return undone.phrase.said(say)
        line = staff.messages.t(
            SETTLED_BY_COMMAND,
            outcome=undone.phrase.said(staff.messages, staff=True),
            by=self.services.actor(actor_id),
        )
        await staff.settle(entry.id, line, keep_buttons=undone.failed)
        return undone.phrase.said(say)

    async def learn(self, chat_id: int, text: str, *, spam: bool, actor_id: int | None) -> None:
        if not text:
            return
        rt = self.services
        await rt.store.learned.add(chat_id, text, spam=spam, at=rt.now(), actor_id=actor_id)
        rt.classifier.learn(text, spam)
        rt.cleared.mark(chat_id, text, spam=spam)

    async def undo(
        self, entry: AuditEntry, actor_id: int | None, say: Messages | None = None
    ) -> str:
        """Reverse an action: lift the ban or mute, forgive the offence, offer the way back.
        Returns what happened, in the language of `say` (the staff's by default)."""
        return (await self.undo_outcome(entry, actor_id, say or self.services.staff.messages)).text

    async def undo_outcome(
        self, entry: AuditEntry, actor_id: int | None, say: Messages, *, for_staff: bool = False
    ) -> Outcome:
        """`for_staff`: the outcome is read in the staff chat only, so it may carry an invite
        link for the member (never in a group, where anyone could take it)."""
        undone = await self._undo(entry, actor_id, staff_link=for_staff)
        return Outcome(undone.phrase.said(say, staff=for_staff), undone.failed)

    async def _undo(self, entry: AuditEntry, actor_id: int | None, *, staff_link: bool) -> Undone:
        """`staff_link`: make a single-use invite the staff can pass on to a member qunbot
        cannot write to."""
        rt = self.services
        if entry.target_id is None:
            return Undone(Phrase(N_("nothing to undo for that action")), happened=False)
        if not await rt.store.audit.claim_undo(entry.id, rt.now()):
            already = Phrase(N_("#{id} was undone already."), {"id": entry.id})
            return Undone(already, happened=False)
        if entry.action in NOTHING_TO_LIFT:
            await rt.store.offences.forgive(entry.chat_id, entry.target_id, entry.id)
            await rt.store.members.refresh_offences(entry.chat_id, entry.target_id)
            await self._audit_undo(entry, actor_id)
            return Undone(Phrase(NOTHING_TO_LIFT[entry.action], {"id": entry.id}))
        door = await rt.doors.for_chat(entry.chat_id)
        if is_chat_id(entry.target_id):
            return await self._undo_sender_chat_ban(door, entry, actor_id)
        muted = "mute" in entry.action
        try:
            if muted:
                await door.unmute(entry.chat_id, entry.target_id)
            else:
                await door.unban(entry.chat_id, entry.target_id)
        except TelegramError as error:
            return await self._undo_refused(entry, error)
        await rt.store.offences.forgive(entry.chat_id, entry.target_id, entry.id)
        await rt.store.members.refresh_offences(entry.chat_id, entry.target_id)
        outcome = Phrase(N_("mute lifted"))
        if not muted:
            if entry.action in BAN_ACTIONS:
                await unban_in_network(rt, entry.chat_id, entry.target_id)
            outcome = await self._invite_back(entry.chat_id, entry.target_id, staff_link)
        await self._audit_undo(entry, actor_id)
        return Undone(
            Phrase(
                N_("Undone #{id}: {outcome}, offence forgiven."),
                {"id": entry.id, "outcome": outcome},
            )
        )

    async def _undo_refused(self, entry: AuditEntry, error: TelegramError) -> Undone:
        """Telegram refused: the undo is free to be tried again."""
        await self.services.store.audit.release_undo(entry.id)
        refused = Phrase(
            N_("could not undo #{id}: {error}"), {"id": entry.id, "error": error.message}
        )
        return Undone(refused, failed=True)

    async def _invite_back(self, chat_id: int, user_id: int, staff_link: bool) -> Phrase:
        """An invite for a member an undo let back, unless they are back already (a re-invite
        used, or an admin added them): a second invite would only puzzle them."""
        rt = self.services
        if await is_member_now(self.reinvites.bot, chat_id, user_id):
            await rt.store.reinvites.cancel(chat_id, user_id)
            return Phrase(N_("ban lifted, they are back in the group already"))
        await rt.store.reinvites.add(chat_id, user_id, rt.now(), rt.now(), after_undo=True)
        if await self.reinvites.offer(user_id):
            return Phrase(N_("ban lifted, invite sent"))
        waiting = Phrase(N_("ban lifted, an invite waits for them in the bot's private chat"))
        link = await self.reinvites.link_for_staff(chat_id, user_id) if staff_link else None
        if link is None:
            return waiting
        pass_it_on = Phrase(
            N_(
                "ban lifted; they never opened the bot's private chat, so pass them this "
                "single-use invite yourself: {link}"
            ),
            {"link": link},
        )
        return Phrase(waiting.message, for_staff=pass_it_on)

    async def _audit_undo(self, entry: AuditEntry, actor_id: int | None) -> None:
        await self.services.store.audit.add(
            entry.chat_id,
            self.services.now(),
            "undo",
            actor_id=actor_id,
            target_id=entry.target_id,
            text=f"undo #{entry.id}",
        )

    async def _undo_sender_chat_ban(
        self, door: Door, entry: AuditEntry, actor_id: int | None
    ) -> Undone:
        """A channel's ban lifted here and across the network; a channel gets no invite."""
        rt, channel = self.services, entry.target_id
        assert channel is not None
        try:
            await door.unban_sender_chat(entry.chat_id, channel)
        except TelegramError as error:
            return await self._undo_refused(entry, error)
        await rt.store.offences.forgive(entry.chat_id, channel, entry.id)
        await rt.store.members.refresh_offences(entry.chat_id, channel)
        await unban_in_network(rt, entry.chat_id, channel)
        await self._audit_undo(entry, actor_id)
        return Undone(
            Phrase(
                N_("Undone #{id}: the channel may post again, offence forgiven."),
                {"id": entry.id},
            )
        )

    async def apply_button(self, kind: str, entry: AuditEntry, actor_id: int) -> Outcome:
        """An audit note's button (in the staff chat): undo, spread the ban, or confirm."""
        say = self.services.staff.messages
        if kind == "undo":
            return await self.undo_outcome(entry, actor_id, say, for_staff=True)
        if kind == "nban":
            return await self.ban_everywhere(entry, actor_id, say)
        return Outcome(await self.confirm(entry, actor_id, say))

    async def ban_everywhere(
        self, entry: AuditEntry, actor_id: int | None, say: Messages
    ) -> Outcome:
        """Ban in the group of the action and in every other group of its network: the same
        groups an undo or /unban there lifts it from."""
        if entry.target_id is None:
            return Outcome(say.tp("nobody to ban for that action"))
        door = await self.services.doors.for_chat(entry.chat_id)
        try:
            if is_chat_id(entry.target_id):
                await door.ban_sender_chat(entry.chat_id, entry.target_id)
            else:
                await door.ban(entry.chat_id, entry.target_id)
        except TelegramError as error:
            refused = say.tp("could not ban #{id}: {error}", id=entry.id, error=error.message)
            return Outcome(refused, failed=True)
        peers = await ban_in_network(self.services, entry.chat_id, entry.target_id)
        await self.services.store.audit.add(
            entry.chat_id,
            self.services.now(),
            "ban",
            actor_id=actor_id,
            target_id=entry.target_id,
            text=f"ban everywhere #{entry.id}",
        )
        return Outcome(
            say.tnp(
                "Banned here and in {count} other group of the network.",
                "Banned here and in {count} other groups of the network.",
                len(peers),
            )
        )

    async def confirm(self, entry: AuditEntry, actor_id: int, say: Messages) -> str:
        await self.services.store.audit.add(
            entry.chat_id,
            self.services.now(),
            "confirm",
            actor_id=actor_id,
            target_id=entry.target_id,
            text=f"confirm #{entry.id}",
        )
        return say.tp("Confirmed #{id}.", id=entry.id)


def _undoable(entry: AuditEntry) -> bool:
    """An action qunbot took on its own that /notspam may undo: no dry-run report, notice,
    re-invite or ticket, and nothing an admin did."""
    return entry.actor_id is None and not entry.action.startswith(
        ("dry-run", "notice", "reinvite", "ticket #")
    )

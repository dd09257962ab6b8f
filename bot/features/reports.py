"""Member reports: staff hear of every one. Enough distinct established reporters remove a
newcomer's message; a report can never be turned on the shop's own people: admins, trusted
members and the linked channel are never removed by reports, and a reported established member
goes to the staff, who decide with a button."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, Message

from bot.core.bounded import BoundedDict
from bot.core.i18n import N_
from bot.core.services import Services
from bot.features.moderation import Enforcer, Target, history_of, target_of
from bot.store import MemberState
from bot.telegram.staff import StaffNote
from policies.decide import escalate, on_probation
from policies.schema import Policy
from policies.texts import mention, render
from policies.verdict import Hit

REPORTED_MESSAGES_KEPT = 5_000
"""Reported messages whose reporters are remembered until enough agree."""
REPORTERS_KEPT = 20_000
"""Reporters whose last report is remembered, for the cool-down."""
DECISIONS_KEPT = 2_000
"""Reported messages waiting for a staff decision (their Remove button)."""
REMOVE_KIND = "rrm"

NEWCOMER_REPORTER = N_(" (a newcomer: not counted)")
PROTECTED_NOTE = N_("🛡 {author} is {who} in {group}: reports never remove them.")
DECIDE_NOTE = N_(
    "⚖️ {count} members reported {author} in {group}, a member from before: "
    "remove the message as an ad?"
)
REMOVE_BUTTON = N_("🗑 Remove as an ad")
PROTECTED_WHO = {
    "admin": N_("an admin"),
    "trusted": N_("a trusted member"),
    "channel": N_("the group's linked channel"),
}


class ReportDesk:
    """Who reported which message, and when each reporter last reported."""

    def __init__(self, services: Services, enforcer: Enforcer) -> None:
        self.services, self.enforcer = services, enforcer
        self.reporters: BoundedDict[tuple[int, int], set[int]] = BoundedDict(
            REPORTED_MESSAGES_KEPT
        )
        self.last_report: BoundedDict[tuple[int, int], float] = BoundedDict(REPORTERS_KEPT)
        self.awaiting: BoundedDict[tuple[int, int], Target] = BoundedDict(DECISIONS_KEPT)
        """Reported messages of established members, until the staff press Remove."""

    async def file(self, bot: Bot, message: Message, reported: Message) -> str:
        """Record a report and answer the reporter (text from the group's templates)."""
        rt = self.services
        policy = (await rt.policies.policy_for(message.chat_id)).policy
        reporter, author = message.from_user, target_of(reported)
        if reporter is None or author is None or author.is_topic_root:
            return policy.templates.report_needs_reply
        wait = self._cooldown_left(policy, message.chat_id, reporter.id)
        if wait > 0:
            say = await rt.messages_for(message.chat_id)
            return render(policy.templates.report_too_soon, {"wait": say.duration(round(wait))})
        counted = not await self._is_newcomer(policy, message.chat_id, reporter.id)
        key = (message.chat_id, reported.message_id)
        reporters = self.reporters.get(key) or set()
        if counted:
            reporters.add(reporter.id)
            self.reporters[key] = reporters
        self._tell_staff(message, author, len(reporters), policy, counted=counted)
        await rt.store.audit.add(
            message.chat_id,
            rt.now(),
            "report",
            actor_id=reporter.id,
            target_id=author.user_id,
            message_id=reported.message_id,
        )
        threshold = policy.moderation.reports_to_remove
        if counted and threshold and len(reporters) >= threshold:
            del self.reporters[key]
            await self._enough_reports(bot, author, len(reporters), policy)
        return policy.templates.report_thanks

    async def _is_newcomer(self, policy: Policy, chat_id: int, user_id: int) -> bool:
        rt = self.services
        state = await rt.store.members.state(chat_id, user_id, rt.now())
        return on_probation(policy, history_of(state), rt.now())

    def _cooldown_left(self, policy: Policy, chat_id: int, reporter_id: int) -> float:
        now = self.services.now()
        last = self.last_report.get((chat_id, reporter_id), float("-inf"))
        left = last + policy.moderation.report_cooldown - now
        if left <= 0:
            self.last_report[(chat_id, reporter_id)] = now
        return left

    def _tell_staff(
        self, message: Message, author: Target, count: int, policy: Policy, *, counted: bool
    ) -> None:
        reporter = message.from_user
        assert reporter is not None
        values = {
            "reporter": mention(reporter.id, reporter.full_name),
            "author": author.mention,
            "group": message.chat.title or message.chat_id,
            "quote": author.text[:200],
            "count": count,
        }
        say = self.services.staff.messages
        note = say.t(
            "🚩 {reporter} reported {author} in {group} ({count}/{needed}): {quote}",
            **values,
            needed=policy.moderation.reports_to_remove or say.tp("off"),
        )
        if not counted:
            note += say.t(NEWCOMER_REPORTER)
        self.services.staff.add(StaffNote(note))

    async def _enough_reports(self, bot: Bot, author: Target, count: int, policy: Policy) -> None:
        """Remove a newcomer's message; ask the staff about anyone else's; never act on the
        shop's own people."""
        rt = self.services
        state = await rt.store.members.state(author.chat_id, author.user_id, rt.now())
        protected = await self._protected(bot, author, state)
        say = rt.staff.messages
        values = {"author": author.mention, "group": author.chat_title or author.chat_id}
        if protected is not None:
            who = say.tp(PROTECTED_WHO[protected])
            rt.staff.add(StaffNote(say.t(PROTECTED_NOTE, **values, who=who)))
        elif on_probation(policy, history_of(state), rt.now()):
            await self._remove(author, state, count, policy)
        else:
            self.awaiting[(author.chat_id, author.message_id)] = author
            data = rt.signer.sign(REMOVE_KIND, author.chat_id, author.message_id)
            button = InlineKeyboardButton(say.tp(REMOVE_BUTTON), callback_data=data)
            rt.staff.add(StaffNote(say.t(DECIDE_NOTE, **values, count=count), ((button,),)))

    async def _protected(self, bot: Bot, author: Target, state: MemberState) -> str | None:
        """`admin`, `trusted` or `channel` when reports must never remove the author."""
        if state.trusted:
            return "trusted"
        info = await self.services.chat_info.get(bot, author.chat_id)
        if author.is_sender_chat:
            return "channel" if author.user_id == info.linked_chat_id else None
        return "admin" if author.user_id in info.admins else None

    async def _remove(
        self, author: Target, state: MemberState, count: int, policy: Policy
    ) -> None:
        rt = self.services
        hit = Hit("members.report", f"reported by {count} members", author.text, 1.0)
        verdict = escalate(policy, history_of(state), rt.now(), (hit,), judged="member reports")
        await self.enforcer.execute(author, verdict, policy)

    def awaiting_decision(self, data: str) -> Target | None:
        """The reported message a staff Remove button names, if the data is genuine."""
        parts = self.services.signer.verify(data, REMOVE_KIND)
        if parts is None or len(parts) != 2:
            return None
        return self.awaiting.get((parts[0], parts[1]))

    def decided(self, target: Target) -> None:
        self.awaiting.pop((target.chat_id, target.message_id), None)

"""Member reports: staff hear of them; enough distinct reporters remove the message."""

from __future__ import annotations

from telegram import Message

from bot.core.bounded import BoundedDict
from bot.core.services import Services
from bot.features.moderation import Enforcer, Target, history_of
from bot.telegram.extract import display_name
from bot.telegram.staff import StaffNote
from policies.decide import escalate
from policies.schema import Policy
from policies.texts import mention, render
from policies.verdict import Hit

REPORTED_MESSAGES_KEPT = 5_000
"""Reported messages whose reporters are remembered until enough agree."""
REPORTERS_KEPT = 20_000
"""Reporters whose last report is remembered, for the cool-down."""


class ReportDesk:
    """Who reported which message, and when each reporter last reported."""

    def __init__(self, services: Services, enforcer: Enforcer) -> None:
        self.services, self.enforcer = services, enforcer
        self.reporters: BoundedDict[tuple[int, int], set[int]] = BoundedDict(
            REPORTED_MESSAGES_KEPT
        )
        self.last_report: BoundedDict[tuple[int, int], float] = BoundedDict(REPORTERS_KEPT)

    async def file(self, message: Message, reported: Message) -> str:
        """Record a report and answer the reporter (text from the group's templates)."""
        rt = self.services
        policy = (await rt.policies.policy_for(message.chat_id)).policy
        reporter = message.from_user
        if reporter is None or reported.from_user is None:
            return policy.templates.report_needs_reply
        wait = self._cooldown_left(policy, message.chat_id, reporter.id)
        if wait > 0:
            say = await rt.messages_for(message.chat_id)
            return render(policy.templates.report_too_soon, {"wait": say.duration(round(wait))})
        key = (message.chat_id, reported.message_id)
        reporters = self.reporters.get(key) or set()
        reporters.add(reporter.id)
        self.reporters[key] = reporters
        self._tell_staff(message, reported, len(reporters), policy)
        await rt.store.audit.add(
            message.chat_id,
            rt.now(),
            "report",
            actor_id=reporter.id,
            target_id=reported.from_user.id,
            message_id=reported.message_id,
        )
        threshold = policy.moderation.reports_to_remove
        if threshold and len(reporters) >= threshold:
            del self.reporters[key]
            await self._remove(reported, len(reporters), policy)
        return policy.templates.report_thanks

    def _cooldown_left(self, policy: Policy, chat_id: int, reporter_id: int) -> float:
        now = self.services.now()
        last = self.last_report.get((chat_id, reporter_id), float("-inf"))
        left = last + policy.moderation.report_cooldown - now
        if left <= 0:
            self.last_report[(chat_id, reporter_id)] = now
        return left

    def _tell_staff(self, message: Message, reported: Message, count: int, policy: Policy) -> None:
        author, reporter = reported.from_user, message.from_user
        assert author is not None and reporter is not None
        values = {
            "reporter": mention(reporter.id, reporter.full_name),
            "author": mention(author.id, author.full_name),
            "group": message.chat.title or message.chat_id,
            "quote": (reported.text or reported.caption or "")[:200],
            "count": count,
        }
        say = self.services.staff.messages
        note = say.t(
            "🚩 {reporter} reported {author} in {group} ({count}/{needed}): {quote}",
            **values,
            needed=policy.moderation.reports_to_remove or say.tp("off"),
        )
        self.services.staff.add(StaffNote(note))

    async def _remove(self, reported: Message, count: int, policy: Policy) -> None:
        rt, author = self.services, reported.from_user
        assert author is not None
        state = await rt.store.members.state(reported.chat_id, author.id, rt.now())
        hit = Hit("members.report", f"reported by {count} members", reported.text or "", 1.0)
        verdict = escalate(policy, history_of(state), rt.now(), (hit,), judged="member reports")
        target = Target(
            reported.chat_id,
            reported.chat.title or "",
            author.id,
            display_name(author.first_name, author.last_name),
            reported.message_id,
            reported.text or "",
        )
        await self.enforcer.execute(target, verdict, policy)

"""Member reports: staff hear of them; enough distinct reporters remove the message."""

from __future__ import annotations

from telegram import Bot, Message

from bot.core.bounded import BoundedDict
from bot.core.services import Services
from bot.features.moderation import Enforcer, Target, history_of, target_of
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
        reporter, author = message.from_user, target_of(reported)
        if reporter is None or author is None or author.is_topic_root:
            return policy.templates.report_needs_reply
        wait = self._cooldown_left(policy, message.chat_id, reporter.id)
        if wait > 0:
            say = await rt.messages_for(message.chat_id)
            return render(policy.templates.report_too_soon, {"wait": say.duration(round(wait))})
        key = (message.chat_id, reported.message_id)
        reporters = self.reporters.get(key) or set()
        reporters.add(reporter.id)
        self.reporters[key] = reporters
        self._tell_staff(message, author, len(reporters), policy)
        await rt.store.audit.add(
            message.chat_id,
            rt.now(),
            "report",
            actor_id=reporter.id,
            target_id=author.user_id,
            message_id=reported.message_id,
        )
        threshold = policy.moderation.reports_to_remove
        if (
            threshold
            and len(reporters) >= threshold
            and not await self._shops_own(message.get_bot(), author)
        ):
            del self.reporters[key]
            await self._remove(author, len(reporters), policy)
        return policy.templates.report_thanks

    async def _shops_own(self, bot: Bot, author: Target) -> bool:
        """A post of the group's linked channel: the staff hear of reports, nobody is removed."""
        if not author.is_sender_chat:
            return False
        info = await self.services.chat_info.get(bot, author.chat_id)
        return author.user_id == info.linked_chat_id

    def _cooldown_left(self, policy: Policy, chat_id: int, reporter_id: int) -> float:
        now = self.services.now()
        last = self.last_report.get((chat_id, reporter_id), float("-inf"))
        left = last + policy.moderation.report_cooldown - now
        if left <= 0:
            self.last_report[(chat_id, reporter_id)] = now
        return left

    def _tell_staff(self, message: Message, author: Target, count: int, policy: Policy) -> None:
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
        self.services.staff.add(StaffNote(note))

    async def _remove(self, author: Target, count: int, policy: Policy) -> None:
        rt = self.services
        state = await rt.store.members.state(author.chat_id, author.user_id, rt.now())
        hit = Hit("members.report", f"reported by {count} members", author.text, 1.0)
        verdict = escalate(policy, history_of(state), rt.now(), (hit,), judged="member reports")
        await self.enforcer.execute(author, verdict, policy)

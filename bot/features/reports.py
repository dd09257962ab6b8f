"""Member reports: staff hear of them; enough distinct reporters remove the message."""

from __future__ import annotations

from telegram import Message
from telegram.ext import ContextTypes

from bot.core.runtime import Runtime, runtime
from bot.features.moderation import StaffNote, Target
from bot.telegram.extract import display_name
from policies.decide import escalate
from policies.durations import format_duration
from policies.facts import MemberHistory
from policies.schema import Policy
from policies.texts import mention, render
from policies.verdict import Hit


async def file_report(context: ContextTypes.DEFAULT_TYPE, message: Message) -> str:
    """Record a report and answer the reporter (text from the group's templates)."""
    rt = runtime(context)
    policy = (await rt.policy_for(message.chat_id)).policy
    reported, reporter = message.reply_to_message, message.from_user
    if reported is None or reporter is None or reported.from_user is None:
        return policy.templates.report_needs_reply
    wait = _cooldown_left(rt, policy, message.chat_id, reporter.id)
    if wait > 0:
        return render(policy.templates.report_too_soon, {"wait": format_duration(round(wait))})
    reporters = rt.reports.setdefault((message.chat_id, reported.message_id), set())
    reporters.add(reporter.id)
    _tell_staff(rt, message, len(reporters), policy)
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
        del rt.reports[(message.chat_id, reported.message_id)]
        await _remove_reported(rt, reported, len(reporters), policy)
    return policy.templates.report_thanks


def _cooldown_left(rt: Runtime, policy: Policy, chat_id: int, reporter_id: int) -> float:
    last = rt.last_report.get((chat_id, reporter_id), float("-inf"))
    left = last + policy.moderation.report_cooldown - rt.now()
    if left <= 0:
        rt.last_report[(chat_id, reporter_id)] = rt.now()
    return left


def _tell_staff(rt: Runtime, message: Message, count: int, policy: Policy) -> None:
    reported = message.reply_to_message
    assert reported is not None and reported.from_user is not None
    author = reported.from_user
    values = {
        "reporter": mention(message.from_user.id, message.from_user.full_name)
        if message.from_user
        else "?",
        "author": mention(author.id, author.full_name),
        "group": message.chat.title or message.chat_id,
        "quote": (reported.text or reported.caption or "")[:200],
        "count": count,
        "needed": policy.moderation.reports_to_remove or "off",
    }
    template = "🚩 {reporter} reported {author} in {group} ({count}/{needed}): {quote}"
    if rt.staff_notices is not None:
        rt.staff_notices.add(StaffNote(render(template, values)))


async def _remove_reported(rt: Runtime, reported: Message, count: int, policy: Policy) -> None:
    author = reported.from_user
    assert author is not None
    state = await rt.store.members.state(reported.chat_id, author.id, rt.now())
    history = MemberHistory(
        message_count=state.message_count,
        first_seen=state.first_seen,
        offence_times=tuple(state.offence_times),
    )
    hit = Hit("members.report", f"reported by {count} members", reported.text or "", 1.0)
    verdict = escalate(policy, history, rt.now(), (hit,), judged="member reports")
    _, dry_run = await rt.group_settings(reported.chat_id)
    target = Target(
        reported.chat_id,
        reported.chat.title or "",
        author.id,
        display_name(author.first_name, author.last_name),
        reported.message_id,
        reported.text or "",
    )
    await rt.enforcer(dry_run).execute(target, verdict, policy)

"""The rhythm shell: a periodic tick asks the pure planner which posts are due in each group,
and sends them, each at most once.

Every post is claimed in SQLite (group, post key, due time) before it is sent, so neither a
restart nor two ticks at once can post it twice. A post missed by less than the grace period
(the bot was restarting) still goes out; older ones are recorded as missed and logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from typing import Any

from loguru import logger
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, JobQueue

from bot.core.i18n import N_, Messages
from bot.core.sendqueue import Priority, send_priority
from bot.core.services import Services
from bot.features.stats import forget_old_speakers, send_weekly_report
from bot.telegram.staff import StaffNote
from policies.rhythm import (
    DAY,
    LOOKBACK,
    CountdownStep,
    Decision,
    Outcome,
    PlannedPost,
    PostKind,
    RhythmConfig,
    planned_posts,
    rehearse,
    skipped_line,
)
from policies.rhythm import decide_due as plan_due
from policies.schema import Policy
from policies.stats import weekly_reports
from policies.texts import render

TICK_JOB = "qunbot.rhythm"
TICK_INTERVAL = 30.0
"""Posts go out within this many seconds of their time."""
PROMOTION_HISTORY = 4 * DAY
"""Enough sent promotions to judge the 3-day cap."""
WARN_AHEAD = 14 * DAY
"""The staff are told about planned posts that would be skipped this far ahead."""
MAX_WARNINGS = 5
SKIPPED_WARNINGS = {Outcome.CAPPED, Outcome.QUIET}

App = Application[Any, Any, Any, Any, Any, Any]


class Rhythm:
    """Scheduled posts, countdowns and weekly reports for every group the bot knows."""

    def __init__(self, rt: Services, bot: Bot, jobs: JobQueue[Any] | None) -> None:
        self.rt, self.bot, self.jobs = rt, bot, jobs
        self.lock = asyncio.Lock()
        self.checked: dict[int, Policy] = {}
        """The policy each group's planned posts were last checked against, for warnings."""

    async def start(self) -> None:
        """On start: report interrupted sends, start the periodic tick and catch up at once."""
        for chat_id, key, due in await self.rt.store.rhythm.interrupted():
            logger.warning(
                "post {} due {} in chat {} may not have gone out: qunbot stopped while sending "
                "it, and it is not sent again",
                key,
                due,
                chat_id,
            )
        await forget_old_speakers(self.rt)
        if self.jobs is None:
            raise RuntimeError("qunbot needs python-telegram-bot[job-queue]")
        self.jobs.run_repeating(
            self._tick_job, interval=TICK_INTERVAL, first=TICK_INTERVAL, name=TICK_JOB
        )
        await self.tick()

    async def tick(self) -> None:
        """Send or skip everything due now in every group; one tick at a time."""
        async with self.lock:
            now = self.rt.now()
            decided: dict[int, set[tuple[str, float]]] = defaultdict(set)
            for chat_id, key, due in await self.rt.store.rhythm.decided_since(now - LOOKBACK):
                decided[chat_id].add((key, due))
            for chat_id, (title, first_seen) in (await self._groups(now)).items():
                try:
                    await self._tick_group(
                        chat_id, title, max(first_seen, now - LOOKBACK), now, decided[chat_id]
                    )
                except Exception:
                    logger.exception("scheduled posts of chat {} failed", chat_id)

    async def next_due(self, after: float, until: float) -> float | None:
        """The earliest post due in (after, until] in any group; the simulator jumps there."""
        found: list[float] = []
        for chat_id in await self._groups(after):
            posts = await self._planned(chat_id, after, until)
            found += [post.due for post in posts if post.due > after]
        return min(found, default=None)

    async def _groups(self, now: float) -> dict[int, tuple[str, float]]:
        """Every configured group, seen or not yet; never the staff chat, never a group the
        config does not list (a stranger's group, or one dropped from the config)."""
        config = self.rt.loaded.config
        seen = await self.rt.store.groups.titles_and_first_seen()
        known = {chat: row for chat, row in seen.items() if config.serves(chat)}
        known.pop(config.staff_chat or 0, None)
        for group in self.rt.loaded.config.groups:
            if group.chat_id not in known:
                starting = config.start_in_dry_run
                await self.rt.store.groups.ensure(group.chat_id, "", now, dry_run=starting)
                known[group.chat_id] = ("", now)
        return known

    async def _planned(self, chat_id: int, start: float, end: float) -> list[PlannedPost]:
        policy = (await self.rt.policies.policy_for(chat_id)).policy
        posts = planned_posts(policy.rhythm, start, end)
        if self.rt.loaded.config.staff_chat is not None:
            posts += weekly_reports(policy.stats, policy.rhythm.zone, start, end)
        return sorted(posts, key=lambda post: (post.due, post.key))

    async def _tick_group(
        self, chat_id: int, title: str, since: float, now: float, decided: set[tuple[str, float]]
    ) -> None:
        policy = (await self.rt.policies.policy_for(chat_id)).policy
        await self._warn_ahead(chat_id, title, policy, now)
        planned = await self._planned(chat_id, since, now)
        if not planned:
            return
        promotions = await self.rt.store.rhythm.promotions_since(chat_id, now - PROMOTION_HISTORY)
        for decision in plan_due(planned, now, policy.rhythm, decided, promotions):
            if decision.outcome is Outcome.SEND:
                await self._send(chat_id, title, decision.post)
            else:
                await self._skip(chat_id, title, decision, now)

    async def _skip(self, chat_id: int, title: str, decision: Decision, now: float) -> None:
        post = decision.post
        if not await self.rt.store.rhythm.record(
            chat_id,
            post.key,
            post.due,
            decision.outcome.value,
            promotional=post.promotional,
            now=now,
        ):
            return
        logger.warning("chat {}: {} not posted: {}", chat_id, post.label, decision.reason)
        if decision.outcome is Outcome.CAPPED:
            note = self.rt.staff.messages.t(
                "🛑 {group}: {post} was not posted, to spare the members: {reason}",
                group=title or chat_id,
                post=post_name(post, self.rt.staff.messages),
                reason=skip_reason(decision, None, self.rt.staff.messages),
            )
            self.rt.staff.add(StaffNote(note))

    async def _send(self, chat_id: int, title: str, post: PlannedPost) -> None:
        store = self.rt.store
        if not await store.rhythm.claim(
            chat_id, post.key, post.due, promotional=post.promotional, now=self.rt.now()
        ):
            return
        try:
            message_id = await self._deliver(chat_id, title, post)
        except TelegramError as error:
            await self._failed(chat_id, title, post, error)
            return
        await store.rhythm.finish(chat_id, post.key, post.due, "sent", message_id)
        logger.info("chat {}: posted {}", chat_id, post.label)
        if post.pin and message_id is not None:
            await self._pin(chat_id, title, post, message_id)

    async def _deliver(self, chat_id: int, title: str, post: PlannedPost) -> int | None:
        """Send the post (or the report); the message id, if a message was sent."""
        if post.kind is PostKind.REPORT:
            with send_priority(Priority.SCHEDULED):
                await send_weekly_report(self.rt, chat_id, await self._title(chat_id, title))
            return None
        if post.scope and post.unpin_scope and not post.pin:
            await self._unpin(chat_id, post.scope)
        if not post.template:
            return None
        values = {**post.values, "group": await self._title(chat_id, title)}
        if post.starts_in is not None:
            say = await self.rt.messages_for(chat_id)
            values["remaining"] = say.duration(post.starts_in)
        with send_priority(Priority.SCHEDULED):
            sent = await self.rt.door.post(chat_id, render(post.template, values))
        return sent.message_id if sent is not None else None

    async def _title(self, chat_id: int, title: str) -> str:
        return title or (await self.rt.chat_info.get(self.bot, chat_id)).title

    async def _failed(
        self, chat_id: int, title: str, post: PlannedPost, error: TelegramError
    ) -> None:
        store = self.rt.store
        if _transient(error):
            await store.rhythm.release(chat_id, post.key, post.due)
            logger.warning("chat {}: {} will be retried: {}", chat_id, post.label, error.message)
            return
        await store.rhythm.finish(chat_id, post.key, post.due, "failed")
        problem = self.rt.staff.messages.tp(
            "could not post {post}: {error}",
            post=post_name(post, self.rt.staff.messages),
            error=error.message,
        )
        await self._alarm(chat_id, title, problem)

    async def _alarm(self, chat_id: int, title: str, problem: str) -> None:
        await self.rt.staff.alarm(chat_id, problem, title=title)

    async def _pin(self, chat_id: int, title: str, post: PlannedPost, message_id: int) -> None:
        try:
            await self.rt.door.pin(chat_id, message_id)
        except TelegramError as error:
            problem = self.rt.staff.messages.tp(
                "could not pin {post} (is the Pin messages right granted?)",
                post=post_name(post, self.rt.staff.messages),
            )
            logger.warning("chat {}: {}: {}", chat_id, problem, error.message)
            await self._alarm(chat_id, title, problem)
            return
        await self.rt.store.rhythm.set_pinned(chat_id, post.key, post.due, True)
        if post.scope and post.unpin_scope:
            await self._unpin(chat_id, post.scope, keep=(post.key, post.due))

    async def _unpin(
        self, chat_id: int, scope: str, keep: tuple[str, float] | None = None
    ) -> None:
        for pinned in await self.rt.store.rhythm.pinned_in(chat_id, scope):
            if (pinned.post_key, pinned.due_at) == keep:
                continue
            try:
                await self.rt.door.unpin(chat_id, pinned.message_id)
            except TelegramError as error:
                logger.info(
                    "chat {}: could not unpin {}: {}", chat_id, pinned.post_key, error.message
                )
            await self.rt.store.rhythm.set_pinned(chat_id, pinned.post_key, pinned.due_at, False)

    async def _warn_ahead(self, chat_id: int, title: str, policy: Policy, now: float) -> None:
        """Once per policy version: tell the staff which planned posts would be skipped."""
        if self.checked.get(chat_id) is policy:
            return
        self.checked[chat_id] = policy
        if not policy.rhythm.schedules and not policy.rhythm.campaigns:
            return
        promotions = await self.rt.store.rhythm.promotions_since(chat_id, now - PROMOTION_HISTORY)
        skipped = [
            decision
            for decision in rehearse(policy.rhythm, now, now + WARN_AHEAD, promotions)
            if decision.outcome in SKIPPED_WARNINGS
        ]
        if not skipped:
            return
        say = self.rt.staff.messages
        lines = [f"• {skipped_in(policy.rhythm, decision, say)}" for decision in skipped]
        if len(lines) > MAX_WARNINGS:
            more = say.tp("… and {count} more", count=len(lines) - MAX_WARNINGS)
            lines = [*lines[:MAX_WARNINGS], more]
        note = say.t(
            "⚠️ {group}: planned posts that will not go out (change the policy to fix):\n{lines}",
            group=title or chat_id,
            lines="\n".join(lines),
        )
        self.rt.staff.add(StaffNote(note))

    async def _tick_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.tick()


def _transient(error: TelegramError) -> bool:
    """Telegram was busy or unreachable: the post may be retried within the grace period."""
    if isinstance(error, RetryAfter):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


COUNTDOWN_STEPS = {
    CountdownStep.ANNOUNCE: N_("announcement"),
    CountdownStep.PREVIEW: N_("preview"),
    CountdownStep.MORNING: N_("morning notice"),
    CountdownStep.LAST_CALL: N_("last call"),
    CountdownStep.START: N_("start"),
    CountdownStep.END: N_("end"),
}
SOURCE_LANGUAGE = "en"
"""The language the planner (`policies.rhythm`) names posts and reasons in."""


def post_name(post: PlannedPost, say: Messages) -> str:
    """A planned post in words: `campaign 'summer' (start)`, `活动「summer」（开始）`."""
    if say.language == SOURCE_LANGUAGE:
        return post.label
    kind, _, rest = post.key.partition(":")
    if kind == "campaign":
        name, _, step = rest.rpartition(":")
        step_name = say.tp(COUNTDOWN_STEPS.get(CountdownStep(step), step))
        return say.tp("campaign {name} ({step})", name=name, step=step_name)
    if kind == "schedule":
        return say.tp("scheduled post {name}", name=rest)
    if post.kind is PostKind.REPORT:
        return say.tp("weekly report")
    return post.label


def skip_reason(decision: Decision, rhythm: RhythmConfig | None, say: Messages) -> str:
    """Why a planned post is not sent, in the staff's language."""
    if say.language == SOURCE_LANGUAGE:
        return decision.reason
    if decision.outcome is Outcome.MISSED:
        return say.tp("missed: qunbot was not running when it was due")
    if decision.outcome is Outcome.QUIET and rhythm is not None and rhythm.quiet_hours:
        return say.tp("due in the quiet hours {hours}", hours=rhythm.quiet_hours.label())
    if decision.outcome is Outcome.CAPPED:
        return say.tp("over the promotion cap (too many promotions in a row tire the members)")
    return decision.reason


def skipped_in(rhythm: RhythmConfig, decision: Decision, say: Messages) -> str:
    """`05-16 20:00 campaign 'summer' (start): why`, in the group's time zone."""
    if say.language == SOURCE_LANGUAGE:
        return skipped_line(rhythm, decision)
    moment = dt.datetime.fromtimestamp(decision.post.due, rhythm.zone)
    return say.tp(
        "{moment} {post}: {reason}",
        moment=f"{moment:%m-%d %H:%M}",
        post=post_name(decision.post, say),
        reason=skip_reason(decision, rhythm, say),
    )

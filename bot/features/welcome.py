"""Welcoming newcomers: one welcome per join wave, the gift and rules buttons, the newcomer
check, and the rules text shown by /rules and the rules button."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from telegram.error import TelegramError
from telegram.ext import ContextTypes, JobQueue
from telegram.helpers import create_deep_linked_url

from bot.core.i18n import N_, Messages
from bot.core.services import Services
from bot.core.signing import Signer
from bot.features.gifts import gift_button
from bot.features.newcomers import NewcomerGate
from bot.store import WaitingNewcomer
from bot.telegram.door import DELETABLE_FOR
from bot.telegram.extract import display_name
from policies.schema import Policy
from policies.texts import Html, capped_mentions, clip_html, list_separator, mention, render
from policies.welcome import JoinWaves, Newcomer

CHECK_KIND = "nc"
RULES_KIND = "rules"
MAX_MENTIONS = 30
"""A raid's welcome names this many newcomers and counts the rest."""
NEXT_WAVE_AT_LEAST = 1.0
"""Seconds before the next welcome when one is still going out (with a zero wave window)."""
WELCOME_MENTIONS_BUDGET = 1800
"""UTF-16 units of names per list: thirty ordinary names fit; thirty 64-character names full of
escaped characters would not, and two lists plus the templates must stay inside 4096."""


def welcome_job_name(chat_id: int) -> str:
    return f"qunbot.welcome.{chat_id}"


def mentions(newcomers: tuple[Newcomer, ...] | list[Newcomer], template: str = "") -> Html:
    """At most MAX_MENTIONS names, and no more than fit the mentions budget; the rest counted;
    joined the way the template's language joins names."""
    named = (mention(n.user_id, n.name) for n in newcomers[:MAX_MENTIONS])
    return capped_mentions(
        named,
        WELCOME_MENTIONS_BUDGET,
        total=len(newcomers),
        separator=list_separator(template),
    )


def welcome_text(
    policy: Policy, title: str, newcomers: tuple[Newcomer, ...], say: Messages
) -> str:
    """The welcome (and newcomer check prompt) for newcomers, in the group's language and
    within Telegram's limit."""
    parts = []
    templates = policy.welcome.templates
    if policy.welcome.enabled:
        values = {"users": mentions(newcomers, templates.text), "group": title}
        parts.append(render(templates.text, values))
        if _offers_gift(policy) and templates.gift_text:
            parts.append(render(templates.gift_text, {}))
    checked = [n for n in newcomers if n.checked]
    if checked:
        check = policy.welcome.newcomer_check
        values = {
            "users": mentions(checked, check.templates.prompt),
            "timeout": say.duration(check.timeout),
        }
        parts.append(render(check.templates.prompt, values))
    return clip_html("\n\n".join(parts))


def _offers_gift(policy: Policy) -> bool:
    return policy.gifts.welcome_pool is not None and bool(policy.welcome.templates.gift_button)


def rules_text(policy: Policy, group: str) -> str:
    return render(policy.welcome.templates.rules, {"group": group})


class Welcomer:
    """Collects newcomers into waves and posts their welcome within the policy's limits."""

    def __init__(self, runtime: Services, bot: Bot, jobs: JobQueue[Any] | None) -> None:
        self.runtime, self.bot, self.jobs = runtime, bot, jobs
        self.gate = NewcomerGate(runtime, bot, jobs)
        self.waves = JoinWaves()
        self.posting: set[int] = set()
        """Groups whose welcome is going out right now."""

    @property
    def signer(self) -> Signer:
        return self.runtime.signer

    async def member_joined(
        self, chat_id: int, title: str, user: User, *, added_by: User | None, status: str
    ) -> None:
        """Welcome a newcomer, and check them if the policy says so, once per join. The
        newcomer waits in SQLite until their welcome is posted, so a restart welcomes them."""
        rt = self.runtime
        if user.is_bot or not self.waves.first_report(chat_id, user.id, rt.now()):
            return
        if await rt.store.welcome_queue.known(chat_id, user.id):
            return  # delivered again after a restart: already waiting or welcomed
        welcome = (await rt.policies.policy_for(chat_id)).policy.welcome
        check = welcome.newcomer_check
        checked = (
            check.enabled
            and not await self.gate.exempt(chat_id, status, added_by, user)
            and await self.gate.start(chat_id, title, user.id, check.timeout)
        )
        if not (welcome.enabled or checked):
            return
        name = display_name(user.first_name, user.last_name)
        now = rt.now()
        await rt.store.welcome_queue.add(
            chat_id, WaitingNewcomer(user.id, name, title, checked), now
        )
        due = self.waves.due_at(
            chat_id, now, window=welcome.wave_window, per_minute=welcome.max_per_minute
        )
        if due <= now:
            await self.post(chat_id)
        else:
            self._schedule(chat_id, due - now)

    async def member_left(self, chat_id: int, user_id: int) -> None:
        self.waves.left(chat_id, user_id)
        await self.runtime.store.welcome_queue.left(chat_id, user_id)

    async def member_removed(self, chat_id: int, user_id: int) -> None:
        """qunbot or an admin removed the member: the pending welcome (with its gift button)
        does not name them, and a welcome posted for them alone is taken down. One they share
        with other newcomers stays: it greets them too."""
        self.waves.left(chat_id, user_id)
        store = self.runtime.store
        posted_since = self.runtime.now() - DELETABLE_FOR
        alone = await store.welcome_queue.welcome_of_only(
            chat_id, user_id, posted_since=posted_since
        )
        await store.welcome_queue.removed(chat_id, user_id)
        if alone is not None:
            self.runtime.door.delete(chat_id, alone)

    async def moved(self, new_id: int) -> None:
        """The group became a supergroup (its rows moved already): newcomers who were waiting
        are welcomed there. A basic group has no newcomer checks: Telegram restricts members
        only in supergroups."""
        await self.post(new_id)

    async def resume_waiting(self) -> int:
        """After a restart: post the welcome of every group with newcomers still waiting."""
        chats = await self.runtime.store.welcome_queue.chats_waiting()
        for chat_id in chats:
            await self.post(chat_id)
        return len(chats)

    async def remove_service_message(self, message: Message) -> None:
        """Delete Telegram's 'X joined' message if the policy asks for it."""
        policy = (await self.runtime.policies.policy_for(message.chat_id)).policy
        if policy.welcome.delete_service_message:
            await self._delete(message.chat_id, message.message_id, message.chat.title or "")

    async def post(self, chat_id: int) -> None:
        """Post the welcome of everyone waiting in this group, replacing the previous one.

        The wave is marked welcomed only once Telegram has the post: a crash before that
        leaves it waiting, and the next start posts it. One welcome goes out at a time per
        group; whoever joins meanwhile gets the next one."""
        if chat_id in self.posting:
            await self._schedule_next(chat_id)
            return
        self.posting.add(chat_id)
        self.waves.posted(chat_id, self.runtime.now())
        try:
            await self._post_waiting(chat_id)
        finally:
            self.posting.discard(chat_id)

    async def _schedule_next(self, chat_id: int) -> None:
        welcome = (await self.runtime.policies.policy_for(chat_id)).policy.welcome
        now = self.runtime.now()
        due = self.waves.due_at(
            chat_id, now, window=welcome.wave_window, per_minute=welcome.max_per_minute
        )
        self._schedule(chat_id, max(due - now, NEXT_WAVE_AT_LEAST))

    async def _post_waiting(self, chat_id: int) -> None:
        rt = self.runtime
        waiting = await rt.store.welcome_queue.waiting(chat_id)
        if not waiting:
            return
        newcomers = tuple(Newcomer(w.user_id, w.name, w.checked) for w in waiting)
        wave = [n.user_id for n in newcomers]
        policy = (await rt.policies.policy_for(chat_id)).policy
        title = waiting[-1].title
        say = await rt.messages_for(chat_id)
        text = welcome_text(policy, title, newcomers, say)
        markup = await self._buttons(chat_id, policy, newcomers)
        try:
            sent = await rt.door.post(chat_id, text, markup=markup)
        except TelegramError as error:
            await rt.staff.failed(chat_id, error, N_("post the welcome"), title)
            await rt.store.welcome_queue.welcomed(chat_id, wave, None, rt.now())
            return
        # Telegram refuses to delete a message older than 48 hours: an old welcome stays.
        previous = await rt.store.welcome_posts.latest(
            chat_id, posted_since=rt.now() - DELETABLE_FOR
        )
        posted = sent.message_id if sent is not None else None
        await rt.store.welcome_queue.welcomed(chat_id, wave, posted, rt.now())
        if policy.welcome.delete_previous and previous is not None and posted is not None:
            await self._delete(chat_id, previous, title)

    async def _buttons(
        self, chat_id: int, policy: Policy, newcomers: tuple[Newcomer, ...]
    ) -> InlineKeyboardMarkup | None:
        rows: list[list[InlineKeyboardButton]] = []
        # The check button works for every pending newcomer, so it stays on the latest welcome
        # even when that one replaced the welcome that first carried it.
        pending = await self.runtime.store.newcomer_checks.pending_in(chat_id)
        if pending or any(n.checked for n in newcomers):
            label = policy.welcome.newcomer_check.templates.button
            data = self.signer.sign(CHECK_KIND, chat_id)
            rows.append([InlineKeyboardButton(label, callback_data=data)])
        if policy.welcome.enabled:
            rows.append(self._welcome_buttons(chat_id, policy))
        rows = [row for row in rows if row]
        return InlineKeyboardMarkup(rows) if rows else None

    def _welcome_buttons(self, chat_id: int, policy: Policy) -> list[InlineKeyboardButton]:
        templates, pool = policy.welcome.templates, policy.gifts.welcome_pool
        row = []
        if pool is not None and _offers_gift(policy):
            row.append(gift_button(self.signer, chat_id, pool, templates.gift_button))
        if templates.rules_button:
            url = create_deep_linked_url(self.bot.username, self.signer.sign(RULES_KIND, chat_id))
            row.append(InlineKeyboardButton(templates.rules_button, url=url))
        return row

    def _schedule(self, chat_id: int, delay: float) -> None:
        queue = self.jobs
        if queue is None:
            raise RuntimeError("qunbot needs python-telegram-bot[job-queue]")
        name = welcome_job_name(chat_id)
        if not queue.get_jobs_by_name(name):
            queue.run_once(self._post_job, when=delay, data=chat_id, name=name)

    async def _post_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        job = context.job
        if job is not None and isinstance(job.data, int):
            await self.post(job.data)

    async def _delete(self, chat_id: int, message_id: int, title: str) -> None:
        self.runtime.door.delete(chat_id, message_id)

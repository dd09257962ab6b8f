"""The running bot's shared services, built once by `build_application` and reached from
handlers through `runtime(context)`. Nothing here is a module global."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loguru import logger
from telegram import Bot, ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackContext

from bot.core.clock import Clock
from bot.core.config import LoadedConfig
from bot.features.counters import StatsCounter
from policies.decide import CompiledPolicy
from policies.detect.classifier import NaiveBayes
from policies.loader import with_overrides
from policies.schema import Policy
from policies.waves import WaveTracker
from policies.yamlsource import Located

if TYPE_CHECKING:
    from bot.core.signing import Signer
    from bot.features.moderation import Enforcer, StaffNotices
    from bot.store import Store

ADMIN_LIST_TTL = 600.0
"""Admin lists are refreshed on chat_member updates; this is only the safety net."""

RUNTIME_KEY = "qunbot.runtime"

DeepLinkHandler = Callable[[Update, CallbackContext[Any, Any, Any, Any], str], Awaitable[None]]
ReadyHook = Callable[[Application], Awaitable[None]]  # type: ignore[type-arg]


@dataclass(slots=True)
class ChatInfo:
    """What the bot caches about a group: its admins and its linked channel."""

    admins: frozenset[int]
    linked_chat_id: int | None
    title: str
    fetched_at: float


class ChatInfoCache:
    """Admin lists per group, fetched on first need and kept fresh by chat_member updates."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.chats: dict[int, ChatInfo] = {}

    async def get(self, bot: Bot, chat_id: int) -> ChatInfo:
        info = self.chats.get(chat_id)
        if info is not None and self.clock.now() - info.fetched_at < ADMIN_LIST_TTL:
            return info
        try:
            admins = await bot.get_chat_administrators(chat_id)
            chat = await bot.get_chat(chat_id)
        except TelegramError as error:
            logger.warning("cannot read the admins of chat {}: {}", chat_id, error.message)
            return info or ChatInfo(frozenset(), None, "", self.clock.now())
        info = ChatInfo(
            admins=frozenset(member.user.id for member in admins),
            linked_chat_id=chat.linked_chat_id,
            title=chat.title or "",
            fetched_at=self.clock.now(),
        )
        self.chats[chat_id] = info
        return info

    def member_changed(self, chat_id: int, user_id: int, new_status: str) -> None:
        """Keep a cached admin list right without another request."""
        info = self.chats.get(chat_id)
        if info is None:
            return
        is_admin = new_status in {ChatMember.ADMINISTRATOR, ChatMember.OWNER}
        admins = info.admins | {user_id} if is_admin else info.admins - {user_id}
        self.chats[chat_id] = ChatInfo(admins, info.linked_chat_id, info.title, info.fetched_at)

    def forget(self, chat_id: int) -> None:
        self.chats.pop(chat_id, None)


@dataclass
class Runtime:
    """Services shared by every handler."""

    loaded: LoadedConfig
    clock: Clock
    classifier: NaiveBayes
    chat_info: ChatInfoCache
    _store: Store | None = None
    signer: Signer | None = None
    staff_notices: StaffNotices | None = None
    live_enforcer: Enforcer | None = None
    dry_enforcer: Enforcer | None = None
    waves: dict[float, WaveTracker] = field(default_factory=dict)
    _compiled: dict[str, CompiledPolicy] = field(default_factory=dict)
    _documents: dict[str, Located] = field(default_factory=dict)
    _group_overrides: dict[int, tuple[dict[str, Any], bool]] = field(default_factory=dict)
    _all_groups_read: bool = False
    _group_changes: int = 0
    _known_groups: set[int] = field(default_factory=set)
    reports: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    """Who reported which (chat, message), until enough members agree."""
    last_report: dict[tuple[int, int], float] = field(default_factory=dict)
    command_times: dict[int, deque[float]] = field(default_factory=dict)
    """Each user's latest commands and private messages, for the per-user limit."""
    idle_chats: set[int] = field(default_factory=set)
    """Groups where qunbot was removed or demoted: it keeps their state but does not act."""
    usernames: dict[str, int] = field(default_factory=dict)
    """Lower-case @usernames seen in groups, so admins can name members by them."""
    deep_links: dict[str, DeepLinkHandler] = field(default_factory=dict)
    """`/start <kind>_...` payloads by kind; feature modules add theirs in `register`."""
    on_ready: list[ReadyHook] = field(default_factory=list)
    """Run at the end of post_init, once the store is open (to reschedule persisted jobs)."""
    stats: StatsCounter = field(init=False)
    """Daily counters: `rt.stats.count(chat_id, "ads_removed")`; written with the members."""

    def __post_init__(self) -> None:
        self.stats = StatsCounter(self.clock)

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is opened in post_init; the application is not running")
        return self._store

    def now(self) -> float:
        return self.clock.now()

    async def group_settings(self, chat_id: int) -> tuple[dict[str, Any], bool]:
        """The group's /set overrides and dry-run flag, cached until they change."""
        cached = self._group_overrides.get(chat_id)
        if cached is None and not self._all_groups_read:
            await self._read_all_groups()
            cached = self._group_overrides.get(chat_id)
        if cached is None:
            row = await self.store.groups.get(chat_id)
            cached = (row.overrides, row.dry_run) if row else ({}, False)
            self._group_overrides[chat_id] = cached
        return cached

    async def _read_all_groups(self) -> None:
        """Every group's settings in one query, the first time any is needed: with 10,000
        groups, a query each made start-up (the first schedule tick) take seconds."""
        self._all_groups_read = True
        changes = self._group_changes
        rows = await self.store.groups.all()
        if changes != self._group_changes:
            return  # a group changed meanwhile: its row may be stale, so read groups one by one
        for row in rows:
            self._group_overrides.setdefault(row.chat_id, (row.overrides, row.dry_run))

    async def note_group(self, chat_id: int, title: str) -> None:
        """Make sure the group has a row, once per process rather than once per message."""
        if chat_id not in self._known_groups:
            await self.store.groups.ensure(chat_id, title, self.now())
            self._known_groups.add(chat_id)

    def invalidate_group(self, chat_id: int) -> None:
        self._group_overrides.pop(chat_id, None)
        self._group_changes += 1

    async def policy_for(self, chat_id: int) -> CompiledPolicy:
        """The compiled policy of a group; groups with the same policy share one compilation."""
        overrides, _ = await self.group_settings(chat_id)
        name = self.loaded.config.policy_for(chat_id)
        key = name + json.dumps(overrides, sort_keys=True) if overrides else name
        compiled = self._compiled.get(key)
        if compiled is None:
            policy = self.validate_policy(name, overrides)
            compiled = CompiledPolicy.compile(policy, self.classifier)
            self._compiled[key] = compiled
        return compiled

    def validate_policy(self, name: str, overrides: dict[str, Any] | None) -> Policy:
        """A policy from the documents read at start-up or at the last /reload, never from
        files edited since: a half-saved file must not break a running group."""
        document = self._documents.get(name)
        if document is None:
            document = self._documents[name] = self.loaded.library.resolve(name)
        return with_overrides(document, overrides)

    def reload_policies(self, names: Iterable[str]) -> None:
        """Re-read the named policy files; raises `SourceError` and keeps the old ones if any
        is broken."""
        fresh = {name: self.loaded.library.resolve(name) for name in names}
        for document in fresh.values():
            with_overrides(document, None)
        self._documents = fresh
        self._compiled.clear()

    def wave_tracker(self, window: float, min_length: int) -> WaveTracker:
        tracker = self.waves.get(window)
        if tracker is None:
            tracker = self.waves[window] = WaveTracker(window=window, min_length=min_length)
        return tracker

    def enforcer(self, dry_run: bool) -> Enforcer:
        chosen = self.dry_enforcer if dry_run else self.live_enforcer
        if chosen is None:
            raise RuntimeError("enforcers are created in post_init")
        return chosen


def runtime(context: CallbackContext[Any, Any, Any, Any]) -> Runtime:
    """The runtime of the application handling this update."""
    found = context.bot_data.get(RUNTIME_KEY)
    if not isinstance(found, Runtime):
        raise RuntimeError("build the application with bot.app.build_application")
    return found


def runtime_of(application: Application) -> Runtime:  # type: ignore[type-arg]
    """The runtime of an application built by `build_application`."""
    found = application.bot_data.get(RUNTIME_KEY)
    if not isinstance(found, Runtime):
        raise RuntimeError("build the application with bot.app.build_application")
    return found

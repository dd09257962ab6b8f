"""Each group's effective policy: the policy files read at start-up (or the last /reload), the
group's /set overrides and dry-run flag from the store, compiled once and cached."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from bot.core.clock import Clock
from bot.core.config import LoadedConfig
from bot.store import Store
from policies.decide import CompiledPolicy
from policies.detect.classifier import Scorer
from policies.detect.linear import LinearModel
from policies.loader import with_overrides
from policies.schema import Policy
from policies.yamlsource import Located


class PolicyBook:
    """Policies by group, with the group's settings cached until they change."""

    def __init__(
        self,
        loaded: LoadedConfig,
        classifier: Scorer,
        complaint_model: LinearModel,
        clock: Clock,
        store: Callable[[], Store],
    ) -> None:
        self.loaded, self.classifier, self.clock, self._store = loaded, classifier, clock, store
        self.complaint_model = complaint_model
        """The process's taught copy, shared by every compiled policy whose scorer is on."""
        self._documents: dict[str, Located] = dict(loaded.documents)
        self._compiled: dict[str, CompiledPolicy] = {}
        self._settings: dict[int, tuple[dict[str, Any], bool]] = {}
        self._all_groups_read = False
        self._changes = 0
        self._known_groups: set[int] = set()

    async def settings(self, chat_id: int) -> tuple[dict[str, Any], bool]:
        """The group's /set overrides and dry-run flag, cached until they change."""
        cached = self._settings.get(chat_id)
        if cached is None and not self._all_groups_read:
            await self._read_all_groups()
            cached = self._settings.get(chat_id)
        if cached is None:
            row = await self._store().groups.get(chat_id)
            # A group never served yet starts as the config says (its row is made with it).
            starting = self.loaded.config.start_in_dry_run
            cached = (row.overrides, row.dry_run) if row else ({}, starting)
            self._settings[chat_id] = cached
        return cached

    async def dry_run(self, chat_id: int) -> bool:
        return (await self.settings(chat_id))[1]

    async def _read_all_groups(self) -> None:
        """Every group's settings in one query, the first time any is needed: with 10,000
        groups, a query each made start-up (the first schedule tick) take seconds."""
        self._all_groups_read = True
        changes = self._changes
        rows = await self._store().groups.all()
        if changes != self._changes:
            return  # a group changed meanwhile: its row may be stale, so read groups one by one
        for row in rows:
            self._settings.setdefault(row.chat_id, (row.overrides, row.dry_run))

    async def note_group(self, chat_id: int, title: str) -> None:
        """Make sure the group has a row, once per process rather than once per message."""
        if chat_id not in self._known_groups:
            starting = self.loaded.config.start_in_dry_run
            await self._store().groups.ensure(chat_id, title, self.clock.now(), dry_run=starting)
            self._known_groups.add(chat_id)

    def invalidate(self, chat_id: int) -> None:
        self._settings.pop(chat_id, None)
        self._changes += 1

    async def policy_for(self, chat_id: int) -> CompiledPolicy:
        """The compiled policy of a group; groups with the same policy share one compilation."""
        overrides, _ = await self.settings(chat_id)
        name = self.loaded.config.policy_for(chat_id)
        key = name + json.dumps(overrides, sort_keys=True) if overrides else name
        compiled = self._compiled.get(key)
        if compiled is None:
            policy = self.validate(name, overrides)
            compiled = CompiledPolicy.compile(policy, self.classifier, self.complaint_model)
            self._compiled[key] = compiled
        return compiled

    def validate(self, name: str, overrides: dict[str, Any] | None) -> Policy:
        """A policy from the documents read at start-up or at the last /reload, never from
        files edited since: a half-saved file must not break a running group."""
        document = self._documents.get(name)
        if document is None:
            document = self._documents[name] = self.loaded.library.resolve(name)
        return with_overrides(document, overrides)

    def reload(self, names: Iterable[str]) -> None:
        """Re-read the named policy files; raises `SourceError` and keeps the old ones if any
        is broken."""
        fresh = {name: self.loaded.library.resolve(name) for name in names}
        for document in fresh.values():
            with_overrides(document, None)
        self._documents = fresh
        self._compiled.clear()

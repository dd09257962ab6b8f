"""A group's own settings, changed by its admins: policy overrides (/set, /mode, /ladder,
/allow, /block), dry-run, and what the audit log says about an action (/why)."""

from __future__ import annotations

import json
from typing import Any

from bot.core.services import Services
from bot.store import AuditEntry
from policies.yamlsource import SourceError


class GroupSettings:
    """Overrides validated by the schema before they are stored, each change audited."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def override(
        self, chat_id: int, title: str, path: tuple[str, ...], value: Any, actor_id: int | None
    ) -> str | None:
        """Store a per-group override once the schema accepts it; else say why not."""
        rt = self.services
        overrides, _ = await rt.policies.settings(chat_id)
        updated = json.loads(json.dumps(overrides))
        node = updated
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
        try:
            rt.policies.validate(rt.loaded.config.policy_for(chat_id), updated)
        except SourceError as error:
            return "; ".join(f"{p.path}: {p.message}" for p in error.problems[:3])
        await rt.policies.note_group(chat_id, title)
        await rt.store.groups.set_overrides(chat_id, updated, rt.now())
        rt.policies.invalidate(chat_id)
        await rt.store.audit.add(
            chat_id,
            rt.now(),
            f"set {'.'.join(path)}",
            actor_id=actor_id,
            text=json.dumps(value, ensure_ascii=False),
        )
        return None

    async def set_dry_run(self, chat_id: int, title: str, on: bool, actor_id: int | None) -> None:
        rt = self.services
        await rt.policies.note_group(chat_id, title)
        await rt.store.groups.set_dry_run(chat_id, on, rt.now())
        rt.policies.invalidate(chat_id)
        state = "on" if on else "off"
        await rt.store.audit.add(chat_id, rt.now(), f"dryrun {state}", actor_id=actor_id)

    async def audit_entry(
        self, chat_id: int, entry_id: int | None, replied_message_id: int | None
    ) -> AuditEntry | None:
        """The action named by its id, or the one recorded for a replied-to message."""
        audit = self.services.store.audit
        entry = None
        if entry_id is not None:
            entry = await audit.get(entry_id)
        elif replied_message_id is not None:
            entry = await audit.for_message(chat_id, replied_message_id)
        return entry if entry is not None and entry.chat_id == chat_id else None

    async def signed_entry(self, data: str, kind: str) -> AuditEntry | None:
        """The audit entry a signed button names, or None if the data is not genuine."""
        parts = self.services.signer.verify(data, kind)
        if parts is None or len(parts) != 1:
            return None
        return await self.services.store.audit.get(parts[0])

"""A group's own settings, changed by its admins: policy overrides (/set, /mode, /ladder,
/allow, /block), dry-run, and what the audit log says about an action (/why)."""

from __future__ import annotations

import json
from typing import Any

from bot.core.i18n import N_
from bot.core.reasons import say_problems
from bot.core.services import Services
from bot.store import AuditEntry
from bot.telegram.staff import StaffNote
from policies.yamlsource import SourceError

SETTING_NOTE = N_("⚙️ {actor} in {group}: {change} (#{id})")
SET_CHANGE = N_("set {key} = {value}")
DRY_RUN_CHANGE = {True: N_("dry-run on"), False: N_("dry-run off")}


class GroupSettings:
    """Overrides validated by the schema before they are stored, each change audited."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def override(
        self, chat_id: int, title: str, path: tuple[str, ...], value: Any, actor_id: int | None
    ) -> str | None:
        """Store a per-group override once the schema accepts it; else say why not, in the
        group's language."""
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
            return say_problems(await rt.messages_for(chat_id), error.problems[:3])
        await rt.policies.note_group(chat_id, title)
        await rt.store.groups.set_overrides(chat_id, updated, rt.now())
        rt.policies.invalidate(chat_id)
        shown = json.dumps(value, ensure_ascii=False)
        key = ".".join(path)
        audit_id = await rt.store.audit.add(
            chat_id, rt.now(), f"set {key}", actor_id=actor_id, text=shown
        )
        change: tuple[str, dict[str, object]] = (SET_CHANGE, {"key": key, "value": shown[:300]})
        self._tell_staff(chat_id, title, actor_id, change, audit_id)
        return None

    def _tell_staff(
        self,
        chat_id: int,
        title: str,
        actor_id: int | None,
        change: tuple[str, dict[str, object]],
        audit_id: int,
    ) -> None:
        """Every manual change reaches the staff chat, like every automatic action, in the
        staff chat's language."""
        staff = self.services.staff
        template, changed = change
        values = {
            "actor": self.services.actor(actor_id),
            "group": title or chat_id,
            "change": staff.messages.tp(template, **changed),
            "id": audit_id,
        }
        staff.add(StaffNote(staff.messages.t(SETTING_NOTE, **values)))

    async def set_dry_run(self, chat_id: int, title: str, on: bool, actor_id: int | None) -> None:
        rt = self.services
        await rt.policies.note_group(chat_id, title)
        await rt.store.groups.set_dry_run(chat_id, on, rt.now())
        rt.policies.invalidate(chat_id)
        state = "on" if on else "off"
        audit_id = await rt.store.audit.add(
            chat_id, rt.now(), f"dryrun {state}", actor_id=actor_id
        )
        self._tell_staff(chat_id, title, actor_id, (DRY_RUN_CHANGE[on], {}), audit_id)

    async def audit_entry(
        self, chat_id: int | None, entry_id: int | None, replied_message_id: int | None
    ) -> AuditEntry | None:
        """The action named by its id, or the one recorded for a replied-to message; of this
        group, or (`chat_id` None, for the staff) of any group, by id only."""
        audit = self.services.store.audit
        entry = None
        if entry_id is not None:
            entry = await audit.get(entry_id)
        elif replied_message_id is not None and chat_id is not None:
            entry = await audit.for_message(chat_id, replied_message_id)
        return entry if entry is not None and chat_id in (None, entry.chat_id) else None

    async def signed_entry(self, data: str, kind: str) -> AuditEntry | None:
        """The audit entry a signed button names, or None if the data is not genuine."""
        parts = self.services.signer.verify(data, kind)
        if parts is None or len(parts) != 1:
            return None
        return await self.services.store.audit.get(parts[0])

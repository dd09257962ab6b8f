"""A group's own settings, changed by its admins: policy overrides (/set, /mode, /ladder,
/allow, /block), dry-run, and what the audit log says about an action (/why)."""

from __future__ import annotations

import json
from typing import Any

from bot.core.i18n import N_, Messages
from bot.core.reasons import say_problems
from bot.core.services import Services
from bot.features.explain import SOURCE_LANGUAGE, action_name, explain_entry, rule_names
from bot.store import AuditEntry
from bot.telegram.staff import StaffNote
from policies.schema import LADDER_PATH, MODE_PATH, LadderStep, canonical_setting
from policies.texts import public_reason
from policies.yamlsource import SourceError

SETTING_NOTE = N_("⚙️ {actor} in {group}: {change} (#{id})")
SET_CHANGE = N_("set {key} = {value}")
LIST_CHANGE = N_("{key}: {changes}")
WHY_NOTE = N_("🔎 /why in {group}: {why}")
WHY_IN_GROUP = N_("#{id} {action}: rules {rules} ({kinds}). {where}")
WHY_IN_GROUP_NAMED = N_("#{id} {action}: rules {rules}. {where}")
EVIDENCE_IN_STAFF_CHAT = N_("The evidence is in the staff chat.")
EVIDENCE_IN_PRIVATE = N_("For the evidence, send /why {group} {id} to me in private.")
DRY_RUN_CHANGE = {True: N_("dry-run on"), False: N_("dry-run off")}
SETTING_NAMED = N_("{name} ({key})")
SETTING_NAMES = {
    "language": N_("language"),
    "moderation.mode": N_("mode"),
    "moderation.ladder": N_("ladder"),
    "moderation.reinvite_after": N_("re-invite after"),
    "moderation.detectors.links.allow": N_("allowed links"),
    "moderation.detectors.links.block": N_("blocked links"),
    "moderation.detectors.contacts.allow": N_("allowed contacts"),
    "moderation.detectors.marketplace.allow": N_("allowed shops"),
    "moderation.detectors.keywords.entries": N_("ad words"),
}
"""The settings admins change most, named in the staff's words beside the key a policy file
uses for them."""


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
        value = canonical_setting(path, value)
        before = _value_at((await rt.policies.policy_for(chat_id)).policy.model_dump(), path)
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
        named = setting_name(key, rt.staff.messages)
        listed = None if path == LADDER_PATH else _list_change(named, before, value)
        change = listed or (
            SET_CHANGE,
            {
                "key": named,
                "value": _spoken(path, value, rt.staff.messages)
                or shown_value(value, rt.staff.messages)[:300],
            },
        )
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
        staff.add(StaffNote(staff.messages.t(SETTING_NOTE, **values), about=audit_id))

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

    async def entries_asked(
        self, chat_id: int, entry_id: int | None, replied_message_id: int | None
    ) -> list[AuditEntry]:
        """What /why in a group asks about: the action named by its id, or the one recorded
        for the replied-to message; for a notice of qunbot's, the action taken on each member
        it names (the ids the staff chat gave them), not the notice itself."""
        if entry_id is None and replied_message_id is not None:
            audit = self.services.store.audit
            rows = await audit.notice_rows(chat_id, replied_message_id)
            found = [await audit.last_automatic(chat_id, target, row) for target, row in rows]
            actions = [entry for entry in found if entry is not None]
            if actions:
                return actions
        entry = await self.audit_entry(chat_id, entry_id, replied_message_id)
        return [entry] if entry is not None else []

    async def explained(
        self, entry: AuditEntry, say: Messages, title: str, *, in_group: bool
    ) -> str:
        """One action explained where /why was asked; in a group without the evidence, which
        the group must not read again (the ad, or a customer's number): it goes to the staff
        chat, or to the admin in private."""
        hits = entry.verdict.get("hits", [])
        if not (in_group and entry.verdict.get("spam") and any(h.get("evidence") for h in hits)):
            return explain_entry(entry, say)
        policy = (await self.services.policies.policy_for(entry.chat_id)).policy
        rules = [str(hit.get("rule", "")) for hit in hits]
        kinds = public_reason(rules, policy.templates.rule_kinds)
        staff = self.services.staff
        if staff.staff_chat is not None:
            full = explain_entry(entry, staff.messages)
            staff.add(StaffNote(staff.messages.t(WHY_NOTE, group=title, why=full), about=entry.id))
            where = say.tp(EVIDENCE_IN_STAFF_CHAT)
        else:
            where = say.tp(EVIDENCE_IN_PRIVATE, group=entry.chat_id, id=entry.id)
        step = entry.verdict.get("step") if entry.action == "notice" else None
        action = say.step(str(step)) if step else action_name(entry.action, say)
        values = {"id": entry.id, "action": action, "rules": rule_names(rules, say)}
        if say.language != SOURCE_LANGUAGE:
            # The rules' names in the group's language already say what the kinds would.
            return say.tp(WHY_IN_GROUP_NAMED, **values, where=where)
        return say.tp(WHY_IN_GROUP, **values, kinds=kinds, where=where)

    async def signed_entry(self, data: str, kind: str) -> AuditEntry | None:
        """The audit entry a signed button names, or None if the data is not genuine."""
        parts = self.services.signer.verify(data, kind)
        if parts is None or len(parts) != 1:
            return None
        return await self.services.store.audit.get(parts[0])


def _spoken(path: tuple[str, ...], value: Any, say: Messages) -> str | None:
    """A mode or ladder in the staff chat's words (`提醒`, `禁言 1 天 → 踢出`); None for other
    settings, which are shown as stored."""
    if path == MODE_PATH:
        return say.step(str(value))
    if path == LADDER_PATH:
        return say.ladder(LadderStep.model_validate(step) for step in value)
    return None


def _value_at(document: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        document = document.get(key) if isinstance(document, dict) else None
    return document


def setting_name(key: str, say: Messages) -> str:
    """A setting as the staff read it: `模式（moderation.mode）`; a rarer key as it is."""
    name = SETTING_NAMES.get(key)
    return say.tp(SETTING_NAMED, name=say.tp(name), key=key) if name else key


def _list_change(key: str, before: Any, after: Any) -> tuple[str, dict[str, object]] | None:
    """A list setting's change as what was added and taken away (`+代购`), not the whole
    list: /block and /allow change one entry of a list of dozens."""
    if not isinstance(before, list) or not isinstance(after, list):
        return None
    added = [f"+{entry_name(item)}" for item in after if item not in before]
    removed = [f"−{entry_name(item)}" for item in before if item not in after]
    if not added and not removed:
        return None
    return LIST_CHANGE, {"key": key, "changes": " ".join(added + removed)[:300]}


def entry_name(item: Any) -> str:
    """A list entry by what names it (a keyword's pattern), else as written."""
    if isinstance(item, dict) and "pattern" in item:
        return str(item["pattern"])
    return plain_value(item)


def shown_value(value: Any, say: Messages) -> str:
    """A value as an admin reads it: a list as its entries (`a、b`), anything else plainly."""
    if isinstance(value, list):
        return say.listing(entry_name(item) for item in value)
    return plain_value(value)


def plain_value(value: Any) -> str:
    """A value as an admin typed it: text without JSON's quotes, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

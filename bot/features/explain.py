"""Why something happened, in the language of the chat that asks.

The core (`policies.decide`) explains each verdict in English, with the rule that fired and the
evidence. English chats read that explanation as it is; other languages get the rule's name from
the catalog and the evidence (the member's own words), so no English sentence reaches them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import Any

from bot.core.i18n import N_, Messages
from bot.store import AuditEntry
from policies.verdict import Verdict

SOURCE_LANGUAGE = "en"
"""The language the core writes its reasons and explanations in."""
MAX_EVIDENCE = 60

RULE_NAMES = {
    "contact.wechat": N_("WeChat contact"),
    "contact.qq": N_("QQ contact"),
    "contact.phone": N_("phone number"),
    "contact.offer": N_("private contact offer"),
    "link.blocked": N_("blocked link"),
    "link.shortener": N_("short link"),
    "link.invite": N_("invite link to another group"),
    "link.unknown": N_("unknown link"),
    "link.mention": N_("channel or group mention"),
    "kind.via_bot": N_("message sent via a bot"),
    "kind.contact_card": N_("contact card"),
    "kind.sender_chat": N_("posted as a channel"),
    "kind.forward_channel": N_("forward from a channel"),
    "kind.forward_chat": N_("forward from another chat"),
    "behaviour.flood": N_("flooding"),
    "behaviour.wave": N_("the same message from many accounts"),
    "classifier.spam": N_("reads like an ad"),
    "admin.spam": N_("marked as an ad by an admin"),
    "admin.warn": N_("warning"),
    "members.report": N_("reported by members"),
    "complaint.model": N_("reads like a complaint"),
    "complaint.not_arrived": N_("order not arrived"),
    "complaint.slow_shipping": N_("slow shipping"),
    "complaint.broken": N_("arrived broken"),
    "complaint.quality": N_("quality problem"),
    "complaint.refund": N_("refund or return"),
    "complaint.review": N_("bad review"),
    "complaint.escalate": N_("complaint to an authority"),
    "complaint.report": N_("report"),
    "complaint.service": N_("service"),
    "complaint.no_reply": N_("no reply"),
    "complaint.anger": N_("anger"),
    "complaint.shouting": N_("shouting"),
}
"""The rules of the shipped presets; a policy's own complaint cues read as "complaint"."""
FAMILY_NAMES = {
    "market": N_("shopping app share code"),
    "keyword": N_("ad keyword"),
    "complaint": N_("complaint"),
    "link": N_("link"),
    "contact": N_("contact offer"),
}


def rule_name(rule: str, messages: Messages) -> str:
    """A rule in words (plain text): `contact.wechat` → `WeChat contact` / `微信联系方式`."""
    name = RULE_NAMES.get(rule) or FAMILY_NAMES.get(rule.split(".")[0]) or N_("ad")
    return messages.tp(name)


def rule_names(rules: Iterable[str], messages: Messages) -> str:
    """The rules that fired, for /why: their ids in English (the words a policy is written
    with), their names in any other language (`微信联系方式、私聊招揽`)."""
    rules = [rule for rule in rules if rule]
    if not rules:
        return messages.tp("none")
    if messages.language == SOURCE_LANGUAGE:
        return ", ".join(rules)
    return messages.listing(dict.fromkeys(rule_name(rule, messages) for rule in rules))


def hit_reason(hit: Mapping[str, Any], messages: Messages) -> str:
    """One hit as a member or admin reads it (plain text)."""
    if messages.language == SOURCE_LANGUAGE:
        return str(hit.get("reason", ""))
    name = rule_name(str(hit.get("rule", "")), messages)
    evidence = " ".join(str(hit.get("evidence", "")).split())[:MAX_EVIDENCE]
    return messages.tp("{rule}: {evidence}", rule=name, evidence=evidence) if evidence else name


def main_reason(verdict: Verdict, messages: Messages) -> str:
    """The reason of the strongest hit: what a member or admin most needs to read."""
    if not verdict.hits:
        if messages.language == SOURCE_LANGUAGE:
            return verdict.explanation
        return messages.tp(N_("ad"))
    strongest = max(verdict.hits, key=lambda hit: hit.score)
    return hit_reason(strongest.as_dict(), messages)


def explanation(verdict: Mapping[str, Any], messages: Messages) -> str:
    """The verdict's explanation: the core's own in English, the hits' reasons otherwise."""
    if messages.language == SOURCE_LANGUAGE:
        return str(verdict.get("explanation", ""))
    return "\n".join(hit_reason(hit, messages) for hit in _hits(verdict))


def _hits(verdict: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    hits = verdict.get("hits", [])
    return [hit for hit in hits if isinstance(hit, Mapping)] if isinstance(hits, list) else []


def explain_entry(entry: AuditEntry, messages: Messages) -> str:
    """/why: the action, the rules that fired and why (plain text)."""
    verdict = entry.verdict
    rules = rule_names((str(hit.get("rule", "")) for hit in _hits(verdict)), messages)
    step = verdict.get("step") if entry.action == "notice" else None
    action = messages.step(str(step)) if step else action_name(entry.action, messages)
    return messages.tp(
        "#{id} {action}: rules {rules}\n{explanation}",
        id=entry.id,
        action=action,
        rules=rules,
        explanation=explanation(verdict, messages),
    )


def action_name(action: str, messages: Messages) -> str:
    """An audit entry's action in words (`ticket #1` → `工单 #1`, `dryrun on` → `开启演练模式`);
    ladder steps by their name in the language. A setting keeps its key as written."""
    with suppress(ValueError):
        return messages.step(action)
    if action in WHOLE_ACTION_NAMES:
        return messages.tp(WHOLE_ACTION_NAMES[action])
    head, _, rest = action.partition(" ")
    if head == "ticket" and rest.endswith(" closed"):
        return messages.tp(N_("ticket {ticket} closed"), ticket=rest.removesuffix(" closed"))
    if head == "ticket" and rest.endswith(NOT_COMPLAINT_ACTION):
        number = rest.removesuffix(NOT_COMPLAINT_ACTION)
        return messages.tp(N_("ticket {ticket}: not a complaint"), ticket=number)
    if head not in ACTION_NAMES:
        return action
    with suppress(ValueError):
        rest = messages.step(rest) if rest else ""
    return f"{messages.tp(ACTION_NAMES[head])} {rest}".strip()


NOT_COMPLAINT_ACTION = " not a complaint"
"""How the audit log ends a ticket's action when staff marked it as no complaint."""
ACTION_NAMES = {
    "ticket": N_("ticket"),
    "warn": N_("warning"),
    "spam": N_("ad"),
    "dry-run": N_("dry-run"),
    "kick": N_("kick"),
    "ban": N_("ban"),
    "unban": N_("unban"),
    "unmute": N_("unmute"),
    "unwarn": N_("unwarn"),
    "trust": N_("trust"),
    "untrust": N_("untrust"),
    "pardon": N_("pardon"),
    "set": N_("set"),
}
"""Actions by their first word; what follows (a ladder step, a ticket's number, a setting's
key) is shown after the name."""
WHOLE_ACTION_NAMES = {
    "dryrun on": N_("dry-run on"),
    "dryrun off": N_("dry-run off"),
    "undo": N_("undo"),
    "confirm": N_("confirmed as an ad"),
    "notice": N_("public notice"),
    "report": N_("report"),
    "reinvite": N_("re-invite link sent"),
    "reinvite-now": N_("re-invited at once"),
    "inactive-removed": N_("removed as inactive"),
    "newcomer-check-removed": N_("removed: did not pass the newcomer check"),
    "network ban": N_("banned across the network"),
    "remove bot": N_("removed a bot added by a member"),
}
"""Actions recorded under a fixed name."""

"""A decision as data: the rules that fired, why, and the actions to take.

`/why`, the audit log and dry-run all read a `Verdict`; only the door (`bot.telegram.door`)
turns it into Bot API calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SlotSetter = Callable[[Any, Any], None]


def slot_setters(cls: type, *names: str) -> tuple[SlotSetter, ...]:
    """The setters of a slotted class's fields, for a frozen dataclass's own `__init__`.

    The generated `__init__` of a frozen dataclass stores each field through
    `object.__setattr__`, a generic look-up that costs more than `decide`'s arithmetic on its
    hot path (a verdict, its hits and actions, the normalized text). The slot descriptors
    store the same values directly; `tests/test_detect_fast_paths.py` checks each such
    `__init__` against the fields.
    """
    return tuple(getattr(cls, name).__set__ for name in names)


@dataclass(frozen=True, slots=True, init=False)
class Hit:
    """One rule that matched, with the evidence that made it match."""

    rule: str
    """Dotted rule name, for example `link.blocked` or `contact.wechat`."""
    reason: str
    """A sentence a shop admin understands, for example `link: pinduoduo.com (written ...)`."""
    evidence: str = ""
    """The span of the original text that matched."""
    score: float = 1.0
    """How strongly this hit alone says spam: 1.0 or more is enough on its own."""

    def __init__(self, rule: str, reason: str, evidence: str = "", score: float = 1.0) -> None:
        set_rule, set_reason, set_evidence, set_score = _HIT_FIELDS
        set_rule(self, rule)
        set_reason(self, reason)
        set_evidence(self, evidence)
        set_score(self, score)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "reason": self.reason,
            "evidence": self.evidence,
            "score": round(self.score, 3),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Hit:
        return cls(
            str(data.get("rule", "")),
            str(data.get("reason", "")),
            str(data.get("evidence", "")),
            float(data.get("score", 1.0)),
        )


_HIT_FIELDS = slot_setters(Hit, "rule", "reason", "evidence", "score")


class ActionKind(StrEnum):
    """What the enforcer may do. Each kind maps to a few Bot API calls."""

    DELETE = "delete"
    CALLOUT = "callout"
    ANNOUNCE = "announce"
    KICK = "kick"
    BAN = "ban"
    MUTE = "mute"
    SCHEDULE_REINVITE = "schedule_reinvite"
    NOTIFY_ADMINS = "notify_admins"


@dataclass(frozen=True, slots=True, init=False)
class Action:
    """One step of a verdict. `until` is an absolute unix time, never a duration."""

    kind: ActionKind
    template: str | None = None
    until: float | None = None
    revoke_messages: bool = False

    def __init__(
        self,
        kind: ActionKind,
        template: str | None = None,
        until: float | None = None,
        revoke_messages: bool = False,
    ) -> None:
        set_kind, set_template, set_until, set_revoke_messages = _ACTION_FIELDS
        set_kind(self, kind)
        set_template(self, template)
        set_until(self, until)
        set_revoke_messages(self, revoke_messages)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.template:
            data["template"] = self.template
        if self.until is not None:
            data["until"] = self.until
        if self.revoke_messages:
            data["revoke_messages"] = True
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        until = data.get("until")
        return cls(
            ActionKind(data["kind"]),
            data.get("template") or None,
            None if until is None else float(until),
            bool(data.get("revoke_messages", False)),
        )


_ACTION_FIELDS = slot_setters(Action, "kind", "template", "until", "revoke_messages")


@dataclass(frozen=True, slots=True, init=False)
class Verdict:
    """The outcome of `decide` for one message."""

    spam: bool
    score: float
    hits: tuple[Hit, ...] = ()
    actions: tuple[Action, ...] = ()
    explanation: str = ""
    step: str | None = None
    """The ladder step that was applied, for example `neutral` or `mute 7d`."""
    offence_number: int = 0
    """Which offence within the window this is (1 for a first offence)."""
    exempt_reason: str | None = None

    def __init__(
        self,
        spam: bool,
        score: float,
        hits: tuple[Hit, ...] = (),
        actions: tuple[Action, ...] = (),
        explanation: str = "",
        step: str | None = None,
        offence_number: int = 0,
        exempt_reason: str | None = None,
    ) -> None:
        (
            set_spam,
            set_score,
            set_hits,
            set_actions,
            set_explanation,
            set_step,
            set_offence_number,
            set_exempt_reason,
        ) = _VERDICT_FIELDS
        set_spam(self, spam)
        set_score(self, score)
        set_hits(self, hits)
        set_actions(self, actions)
        set_explanation(self, explanation)
        set_step(self, step)
        set_offence_number(self, offence_number)
        set_exempt_reason(self, exempt_reason)

    @property
    def action_kinds(self) -> tuple[ActionKind, ...]:
        return tuple(action.kind for action in self.actions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "spam": self.spam,
            "score": round(self.score, 3),
            "hits": [hit.as_dict() for hit in self.hits],
            "actions": [action.as_dict() for action in self.actions],
            "explanation": self.explanation,
            "step": self.step,
            "offence_number": self.offence_number,
            "exempt_reason": self.exempt_reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        """The verdict `as_dict` wrote (an audit entry's); unknown action kinds are skipped."""
        kinds = {kind.value for kind in ActionKind}
        actions = [a for a in data.get("actions", []) if a.get("kind") in kinds]
        return cls(
            spam=bool(data.get("spam", False)),
            score=float(data.get("score", 0.0)),
            hits=tuple(Hit.from_dict(hit) for hit in data.get("hits", [])),
            actions=tuple(Action.from_dict(action) for action in actions),
            explanation=str(data.get("explanation", "")),
            step=data.get("step"),
            offence_number=int(data.get("offence_number", 0)),
            exempt_reason=data.get("exempt_reason"),
        )


_VERDICT_FIELDS = slot_setters(
    Verdict,
    "spam",
    "score",
    "hits",
    "actions",
    "explanation",
    "step",
    "offence_number",
    "exempt_reason",
)

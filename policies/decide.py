"""decide(facts, policy, history, now) -> Verdict: exemptions, scoring and the ladder.

Pure and table-tested: the shell supplies everything (member history, the wave count, the
time); nothing here reads a clock, the store or Telegram.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from policies.complaints import ComplaintMatcher
from policies.detect import Detector, build_detector
from policies.detect.classifier import Scorer
from policies.detect.linear import LinearModel
from policies.durations import FOREVER, format_duration
from policies.facts import SERVICE_USER_ID, MemberHistory, MessageFacts
from policies.schema import LadderStep, Policy, StepKind, UnknownMembers
from policies.verdict import Action, ActionKind, Hit, Verdict

FLOOD_RULE = "behaviour.flood"
WAVE_RULE = "behaviour.wave"
_NOTHING_FIRED = Verdict(spam=False, score=0, hits=(), explanation="no rule fired")
"""The verdict on most messages, built once: verdicts are immutable."""
_CLEARED = Verdict(
    spam=False, score=0, hits=(), explanation="an admin marked this same text as no ad (/notspam)"
)


ActionsAt = Callable[[float], tuple[Action, ...]]
"""A ladder step's actions for a given time: only the deadlines depend on it."""


@dataclass(frozen=True, slots=True)
class Ladder:
    """A policy's escalation ladder with each rung's label and actions worked out once, so
    a verdict builds only what depends on the time."""

    window: float
    first_index: int
    labels: tuple[str, ...]
    actions: tuple[ActionsAt, ...]

    @classmethod
    def of(cls, policy: Policy) -> Ladder:
        steps = policy.moderation.ladder
        return cls(
            window=policy.moderation.window,
            first_index=policy.first_step_index(),
            labels=tuple(step.label() for step in steps),
            actions=tuple(_actions_at(step, policy) for step in steps),
        )


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy with its detectors compiled once, reused for every message of its groups."""

    policy: Policy
    detector: Detector = field(repr=False)
    complaints: ComplaintMatcher = field(repr=False)
    ladder: Ladder = field(repr=False)
    thresholds: tuple[float, float] = field(repr=False)
    """The spam threshold for established members, then for members on probation."""
    judged_against: tuple[str, str] = field(repr=False)
    """How a verdict names each threshold: " ≥ 1.00", " ≥ 0.80 (newcomer on probation)"."""

    @classmethod
    def compile(
        cls,
        policy: Policy,
        classifier: Scorer | None = None,
        complaint_model: LinearModel | None = None,
    ) -> CompiledPolicy:
        detector = build_detector(policy.moderation.detectors, classifier=classifier)
        complaints = ComplaintMatcher.compile(policy.complaints, complaint_model)
        thresholds = (threshold_for(policy, False), threshold_for(policy, True))
        judged_against = (
            f" ≥ {thresholds[False]:.2f}",
            f" ≥ {thresholds[True]:.2f} (newcomer on probation)",
        )
        return cls(policy, detector, complaints, Ladder.of(policy), thresholds, judged_against)


def exemption(facts: MessageFacts, history: MemberHistory) -> str | None:
    """Why this sender is never moderated, or None. Checked before anything else."""
    if facts.user_id == SERVICE_USER_ID:
        return "Telegram's service account (posts from the linked channel)"
    if facts.is_anonymous_admin:
        return "an anonymous admin posting as the group"
    if facts.sender_chat_id is not None and facts.sender_chat_id == facts.linked_chat_id:
        return "the group's linked channel"
    if history.is_admin:
        return "a group admin"
    if history.trusted:
        return "a trusted member"
    return None


def on_probation(policy: Policy, history: MemberHistory, now: float) -> bool:
    """Newcomers' first messages or first hours are judged more strictly. Only members whose
    join qunbot saw are newcomers: a customer who was in the group before qunbot (or before
    its database) is established and judged at the normal threshold from the first message."""
    probation = policy.moderation.probation
    joined_at = history.joined_at
    if joined_at is None and probation.unknown_members is UnknownMembers.NEWCOMERS:
        joined_at = history.first_seen if history.first_seen is not None else now
    if joined_at is None:
        return False
    if history.message_count < probation.messages:
        return True
    return now - joined_at < probation.duration


def behaviour_hits(
    policy: Policy, history: MemberHistory, now: float, wave_accounts: int
) -> list[Hit]:
    """Hits that come from how the member posts rather than what the message says."""
    hits = []
    flood, wave = policy.moderation.flood, policy.moderation.wave
    times = history.recent_message_times
    if flood.enabled and times:
        recent = sum(1 for at in times if now - at <= flood.window)
        if recent >= flood.messages:
            reason = f"flood: {recent} messages within {format_duration(flood.window)}"
            hits.append(Hit(FLOOD_RULE, reason, score=1.0))
    if wave.enabled and wave_accounts >= wave.accounts:
        reason = (
            f"spam wave: the same text from {wave_accounts} accounts within "
            f"{format_duration(wave.window)}"
        )
        hits.append(Hit(WAVE_RULE, reason, score=1.0))
    return hits


def decide(
    facts: MessageFacts,
    compiled: CompiledPolicy,
    history: MemberHistory,
    now: float,
    *,
    wave_accounts: int = 0,
) -> Verdict:
    """Judge one message: exempt, clean, or spam with the ladder step and its actions."""
    exempt = exemption(facts, history)
    if exempt is not None:
        return Verdict(
            spam=False, score=0.0, explanation=f"exempt: {exempt}", exempt_reason=exempt
        )
    policy = compiled.policy
    probation = on_probation(policy, history, now)
    threshold = compiled.thresholds[probation]
    # Flood and wave need at least two messages or accounts (the schema's minimum).
    if history.recent_message_times or wave_accounts > 0:
        behaviour = behaviour_hits(policy, history, now, wave_accounts)
        # A flood must not cut the scan short: whether the message is also an ad decides
        # between the ladder and a flood's short mute.
        counted = [hit for hit in behaviour if hit.rule != FLOOD_RULE]
        enough = threshold - compiled.detector.score(counted)
    else:
        behaviour, enough = [], threshold
    # A text an admin cleared is not read again; how it is posted (a flood, a wave) still is.
    said = () if facts.cleared_by_admin else compiled.detector.scan(facts, enough=enough)
    hits = (*said, *behaviour)
    score = compiled.detector.score(hits) if hits else 0
    if score < threshold:
        if not hits:
            return _CLEARED if facts.cleared_by_admin else _NOTHING_FIRED
        explanation = _clean_explanation(hits, score, threshold)
        return Verdict(spam=False, score=score, hits=hits, explanation=explanation)
    judged = f"score {score:.2f}{compiled.judged_against[probation]}"
    if behaviour and _flood_tipped_it(compiled, hits, threshold):
        return _flood(policy, now, hits, judged, channel=facts.sender_chat_id is not None)
    return _escalate(compiled.ladder, history, now, hits, judged)


FLOOD_TEMPLATES = frozenset({"flood_muted", "flood_warned"})


def is_flood(verdict: Verdict) -> bool:
    """A verdict on posting too fast rather than on an ad (see `_flood`)."""
    return any(action.template in FLOOD_TEMPLATES for action in verdict.actions)


def _flood_tipped_it(compiled: CompiledPolicy, hits: tuple[Hit, ...], threshold: float) -> bool:
    """Whether the message is spam only because it came too fast: what it says is no ad."""
    if not any(hit.rule == FLOOD_RULE for hit in hits):
        return False
    said = [hit for hit in hits if hit.rule != FLOOD_RULE]
    return compiled.detector.score(said) < threshold


def _flood(
    policy: Policy, now: float, hits: tuple[Hit, ...], judged: str, *, channel: bool
) -> Verdict:
    """Too many messages: a short mute (or a reminder) and nothing more. A red-envelope
    thank-you storm is no ad: it is never called one and never climbs the ladder, and the
    mute ends the burst, so one burst is one verdict. A channel cannot be muted (Telegram
    only bans one from the group), so it gets the reminder."""
    mute = policy.moderation.flood.mute
    reasons = "; ".join(hit.reason for hit in hits)
    if mute > 0 and not channel:
        until = now + mute
        actions: tuple[Action, ...] = (
            Action(ActionKind.MUTE, until=until),
            Action(ActionKind.ANNOUNCE, template="flood_muted", until=until),
        )
        step = LadderStep(kind=StepKind.MUTE, duration=mute).label()
        outcome = f"muted for {format_duration(mute)}"
    else:
        actions = (Action(ActionKind.ANNOUNCE, template="flood_warned"),)
        step, outcome = StepKind.SOFT.value, "a public reminder"
    return Verdict(
        spam=True,
        score=sum(hit.score for hit in hits),
        hits=hits,
        actions=actions,
        explanation=f"{judged}: {reasons}. A flood, not an ad: {outcome}, off the ladder",
        step=step,
    )


def escalate(
    policy: Policy, history: MemberHistory, now: float, hits: tuple[Hit, ...], *, judged: str
) -> Verdict:
    """The ladder step for this member's next offence, with what the enforcer must do.

    Used for detected ads, and for what admins (`/spam`) or members (`/report`) flag by hand.
    """
    return _escalate(Ladder.of(policy), history, now, hits, judged)


def _escalate(
    ladder: Ladder, history: MemberHistory, now: float, hits: tuple[Hit, ...], judged: str
) -> Verdict:
    offence_number = _offences(ladder.window, history, now) + 1
    index = _rung(ladder.first_index, offence_number, len(ladder.labels))
    label = ladder.labels[index]
    reasons = "; ".join(hit.reason for hit in hits)
    climb = f"Offence {offence_number} in the window → {label}"
    return Verdict(
        spam=True,
        score=sum(hit.score for hit in hits),
        hits=hits,
        actions=ladder.actions[index](now),
        explanation=f"{judged}: {reasons}. {climb}",
        step=label,
        offence_number=offence_number,
    )


def threshold_for(policy: Policy, probation: bool) -> float:
    general = policy.moderation.detectors.spam_threshold
    return min(general, policy.moderation.probation.spam_threshold) if probation else general


def offences_within(policy: Policy, history: MemberHistory, now: float) -> int:
    return _offences(policy.moderation.window, history, now)


def _offences(window: float, history: MemberHistory, now: float) -> int:
    since = now - window
    return sum(1 for at in history.offence_times if at >= since)


def ladder_step(policy: Policy, offence_number: int) -> LadderStep:
    ladder = policy.moderation.ladder
    return ladder[_rung(policy.first_step_index(), offence_number, len(ladder))]


def _rung(first_index: int, offence_number: int, rungs: int) -> int:
    """The mode picks the first rung; each further offence in the window climbs one."""
    return min(first_index + offence_number - 1, rungs - 1)


def actions_for(step: LadderStep, policy: Policy, now: float) -> tuple[Action, ...]:
    """The enforcer's to-do list for one ladder step."""
    return _actions_at(step, policy)(now)


def _actions_at(step: LadderStep, policy: Policy) -> ActionsAt:
    """One ladder step's actions as a function of the time; what does not depend on the time
    is built once (actions are immutable, so verdicts may share them)."""
    moderation = policy.moderation
    delete = (Action(ActionKind.DELETE),) if moderation.delete_ads else ()
    if step.kind is StepKind.SOFT:
        return _fixed((*delete, Action(ActionKind.CALLOUT, template="callout")))
    if step.kind is StepKind.MUTE:
        duration = step.duration
        if duration in (None, FOREVER):
            muted = Action(ActionKind.MUTE, until=None)
            return _fixed((*delete, muted, Action(ActionKind.ANNOUNCE, template="announce_muted")))

        def muted_until(now: float) -> tuple[Action, ...]:
            until = now + (duration or 0)
            return (
                *delete,
                Action(ActionKind.MUTE, until=until),
                Action(ActionKind.ANNOUNCE, template="announce_muted", until=until),
            )

        return muted_until
    if step.kind is StepKind.NEUTRAL:
        before = (
            Action(ActionKind.DELETE),
            Action(ActionKind.ANNOUNCE, template="announce_removed"),
            Action(ActionKind.KICK),
        )
        after = Action(ActionKind.NOTIFY_ADMINS, template="admin_removed")
        reinvite_after = moderation.reinvite_after
        return lambda now: (
            *before,
            Action(ActionKind.SCHEDULE_REINVITE, until=now + reinvite_after),
            after,
        )
    notices = [Action(ActionKind.NOTIFY_ADMINS, template="admin_banned")]
    if moderation.paid_group:
        notices.append(Action(ActionKind.NOTIFY_ADMINS, template="admin_refund"))
    return _fixed(
        (
            Action(ActionKind.DELETE),
            Action(ActionKind.BAN, revoke_messages=moderation.revoke_messages_on_ban),
            *notices,
        )
    )


def _fixed(actions: tuple[Action, ...]) -> ActionsAt:
    return lambda now: actions


def _clean_explanation(hits: tuple[Hit, ...], score: float, threshold: float) -> str:
    if not hits:
        return _NOTHING_FIRED.explanation
    return f"score {score:.2f} below {threshold:.2f}: " + "; ".join(hit.reason for hit in hits)

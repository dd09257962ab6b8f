"""Complaints: telling an unhappy customer from an ordinary question, and the texts that move
the conversation to a private ticket with the shop's staff.

The policy's cues compile once into one regex, matched on the normalized text, so a cue also
catches its full-width and case disguises. Every cue that fires becomes a `Hit` that explains
itself. Intensity cues ("!!!", 垃圾, 骗子) add weight only to a message that already has a
complaint cue, because an excited "great sale!!!" is no complaint. A message that reaches the
threshold is a complaint; one below it that reads as a question ("how do I return an item?")
is an after-sales question, routed only if the policy says so.

Beside the cues, a linear model trained on labelled complaints (`LinearModel`, kind
"complaints") reads the whole message: when it is sure enough, its hit counts like a cue, so a
complaint the cue list does not foresee ("收到的东西是坏的") is still recognised, and the cues
that also fired still explain it. A message the model only leans toward (within `LEAN` log-odds
of its threshold) gets half the weight: enough next to a complaint cue, not alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator, model_validator

from policies.base import Invalid, StrictModel, check_placeholders
from policies.detect.base import quote, word_start
from policies.detect.homophones import CJK
from policies.detect.linear import LinearModel, logit_of
from policies.detect.normalize import Normalized, normalize
from policies.detect.safe_regex import SafePattern, compile_safe, safe_pattern_problem
from policies.durations import FOREVER, Duration, parse_duration
from policies.verdict import Hit

__all__ = [
    "Assessment",
    "ComplaintCue",
    "ComplaintKind",
    "ComplaintMatcher",
    "ComplaintScorerConfig",
    "ComplaintTemplates",
    "ComplaintsConfig",
    "OriginalMessage",
]

_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]")
_QUESTION_MARK = "?"
LEAN = 1.5
"""How far below the model's threshold, in log-odds, a message still counts half."""
_WEIGHED_CANDIDATES = 8
_WEIGHED_SHOWN = 3
_WORDY = re.compile(f"[{CJK}]|[a-z]{{2,}}")


_FUNCTION_WORD_LIST = (
    "a an and are as at be but by for from had has have i in is it its me my of on or so that "
    "the their them they this to was we were with you your 的 了 是 我 你 他 她 在 和 就 都 也 "
    "吗 呢 啊 吧 着 个 这 那"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_WORD_LIST.split())
"""Words that carry weight in the model only by their company: shown as what a complaint
"weighed", they tell the staff nothing ("and", "的")."""


def _telling(words: list[str]) -> list[str]:
    """The words that say most, heaviest first: none already inside another (“不” beside
    “不回”), and single characters after the longer words."""
    inners = [word.strip("“”") for word in words]
    whole = [
        word
        for word, inner in zip(words, inners, strict=True)
        if not any(inner != other and inner in other for other in inners)
    ]
    longer = [word for word in whole if len(word.strip("“”")) > 1]
    return longer + [word for word in whole if word not in longer]


def _shown_word(readable: str) -> bool:
    """A feature worth showing a person: quoted text with a Chinese character or a word in it,
    not a comma, the shape of a number, a kind of character or a function word."""
    inner = readable.removeprefix("“").removesuffix("”")
    return (
        readable.startswith("“")
        and inner.isalnum()
        and _WORDY.search(inner) is not None
        and inner.lower() not in _FUNCTION_WORDS
    )


class ComplaintCue(StrictModel):
    """Words and patterns that signal one kind of complaint, and how much they count."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="The rule name: hits read complaint.<name>"
    )
    weight: float = Field(
        0.5, ge=0, description="Added to the score once, however many of its words match"
    )
    words: tuple[str, ...] = Field(
        (), description="Words or phrases; Latin ones match whole words only"
    )
    patterns: tuple[str, ...] = Field(
        (), description="Regular expressions (RE2 syntax), matched on the lower-case text"
    )

    @field_validator("words")
    @classmethod
    def _words_not_blank(cls, words: tuple[str, ...]) -> tuple[str, ...]:
        if any(not normalize(word).text.strip() for word in words):
            raise Invalid("a complaint word cannot be blank")
        return words

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            problem = safe_pattern_problem(pattern)
            if problem is not None:
                raise problem
        return patterns

    @model_validator(mode="after")
    def _something_to_match(self) -> ComplaintCue:
        if not self.words and not self.patterns:
            raise Invalid("cue {name!r} needs words or patterns", name=self.name)
        return self


class OriginalMessage(StrEnum):
    """What happens to the complaint itself in the group."""

    KEEP = "keep"
    DELETE = "delete"
    DELETE_WHEN_OPENED = "delete_when_opened"


COMPLAINT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "public_reply": frozenset({"user", "group"}),
    "open_button": frozenset(),
    "greeting": frozenset({"user", "group", "ticket", "complaint"}),
    "contact": frozenset({"user", "group", "ticket"}),
    "reminder": frozenset({"user"}),
    "link_invalid": frozenset(),
    "link_not_yours": frozenset({"group"}),
    "reopened": frozenset({"ticket"}),
    "after_close": frozenset({"ticket", "group"}),
    "staff_answer": frozenset({"text", "ticket", "group"}),
    "closing": frozenset({"ticket", "group"}),
    "good_button": frozenset(),
    "bad_button": frozenset(),
    "thanks": frozenset({"ticket"}),
    "staff_ticket": frozenset({"ticket", "user", "group", "complaint", "reason"}),
    "staff_again": frozenset({"ticket", "user", "group", "complaint"}),
    "staff_opened": frozenset({"ticket", "user"}),
    "staff_message": frozenset({"ticket", "user", "group", "text"}),
    "take_button": frozenset(),
    "close_button": frozenset(),
    "staff_taken": frozenset({"ticket", "staff"}),
    "staff_closed": frozenset({"ticket", "staff"}),
    "staff_rating": frozenset({"ticket", "user", "rating"}),
    "staff_reopened": frozenset({"ticket", "user"}),
}
"""Every complaints template, with the placeholders it may use."""


class ComplaintTemplates(StrictModel):
    """Texts of the complaint flow, as HTML templates; no defaults in code, the presets carry
    the English and Chinese texts."""

    public_reply: str = Field(description="The quick, polite answer in the group")
    open_button: str = Field(description="The deep-link button under the public reply")
    greeting: str = Field(description="The private chat's first message, asking for details")
    contact: str = Field(description="Without a staff chat: how to reach the shop instead")
    reminder: str = Field(description="The one gentle reminder in the group")
    link_invalid: str = Field(description="A ticket link that is forged or closed")
    link_not_yours: str = Field(
        description="Someone pressed the button under another member's complaint"
    )
    reopened: str = Field(description="The member wrote soon after closing: the ticket reopens")
    after_close: str = Field(
        description="The member wrote long after closing: how to reach the staff again"
    )
    staff_answer: str = Field(description="A staff reply as the member reads it")
    closing: str = Field(description="Sent to the member when the ticket closes")
    good_button: str = Field(description="Satisfaction: the 👍 button")
    bad_button: str = Field(description="Satisfaction: the 👎 button")
    thanks: str = Field(description="After the member rated the help")
    staff_ticket: str = Field(description="A new ticket in the staff chat")
    staff_again: str = Field(description="A further complaint attached to an open ticket")
    staff_opened: str = Field(description="The member opened the private chat")
    staff_message: str = Field(description="A member's private message, relayed to staff")
    take_button: str = Field(description="Staff: take the ticket")
    close_button: str = Field(description="Staff: close the ticket")
    staff_taken: str = Field(description="Someone took the ticket")
    staff_closed: str = Field(description="Someone closed the ticket")
    staff_rating: str = Field(description="The member's satisfaction answer")
    staff_reopened: str = Field(description="The member wrote again: the closed ticket reopens")

    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, template: str, info: ValidationInfo) -> str:
        name = info.field_name or ""
        return check_placeholders(name, template, COMPLAINT_PLACEHOLDERS.get(name, frozenset()))


class ComplaintScorerConfig(StrictModel):
    """The complaint model beside the cues."""

    enabled: bool = Field(True, description="Let the complaint model judge messages too")
    threshold: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Complaint probability at or above which the model's hit counts; empty: "
        "the model's own threshold (chosen at training)",
    )
    weight: float = Field(1.0, ge=0, description="Score of the model's hit")


class ComplaintsConfig(StrictModel):
    """Complaints (`complaints:`): answer at once in the group, then continue in a private
    ticket with the shop's staff."""

    enabled: bool = Field(True, description="Look for complaints at all")
    threshold: float = Field(
        1.0, gt=0, description="Cue weights adding up to this make a message a complaint"
    )
    cues: tuple[ComplaintCue, ...] = Field(
        (), description="What complaints say (late, broken, refund ...), with weights"
    )
    intensity: tuple[ComplaintCue, ...] = Field(
        (), description="Anger cues ('!!!', 垃圾, 骗子): they count only next to a complaint cue"
    )
    scorer: ComplaintScorerConfig = Field(
        default_factory=ComplaintScorerConfig,
        description="The complaint model, which reads what the cues do not foresee",
    )
    question_words: tuple[str, ...] = Field(
        (), description="Words that make a message read as a question; '?' always does"
    )
    route_questions: bool = Field(
        False, description="Also open a ticket for an after-sales question below the threshold"
    )
    original: OriginalMessage = Field(
        OriginalMessage.KEEP, description="keep, delete, or delete_when_opened the complaint"
    )
    remind_after: Duration = Field(
        parse_duration("30m"),
        description="One reminder if the member has not opened the private chat by then; "
        "'forever' for none",
    )
    satisfaction: bool = Field(True, description="Ask for 👍/👎 when a ticket closes")
    reopen_within: Duration = Field(
        parse_duration("7d"),
        description="A private message this soon after a ticket closed reopens it; later, "
        "the member hears how to reach the staff again; 0 never reopens",
    )
    templates: ComplaintTemplates

    @property
    def reminds(self) -> bool:
        return self.remind_after not in (0.0, FOREVER)


class ComplaintKind(StrEnum):
    NONE = "none"
    QUESTION = "question"
    COMPLAINT = "complaint"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the complaint cues say about one message."""

    kind: ComplaintKind
    score: float
    hits: tuple[Hit, ...] = ()
    routed: bool = False
    """Whether the message opens (or joins) a ticket under this policy."""

    @property
    def explanation(self) -> str:
        reasons = "; ".join(hit.reason for hit in self.hits) or "no complaint cue"
        return f"{self.kind.value} (score {self.score:.2f}): {reasons}"

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "score": round(self.score, 3),
            "hits": [hit.as_dict() for hit in self.hits],
            "explanation": self.explanation,
        }


NOT_A_COMPLAINT = Assessment(ComplaintKind.NONE, 0.0)


@dataclass(frozen=True, slots=True)
class _Group:
    cue: ComplaintCue
    intensity: bool


@dataclass(frozen=True, slots=True)
class ComplaintMatcher:
    """A policy's complaint cues compiled once: the words into one regex, the admins' patterns
    into one RE2 pattern (linear time whatever they wrote); build once, assess every message."""

    config: ComplaintsConfig
    cues: re.Pattern[str] | None = field(repr=False)
    patterns: SafePattern | None = field(repr=False)
    groups: dict[str, _Group] = field(repr=False)
    questions: re.Pattern[str] | None = field(repr=False)
    model: LinearModel | None = field(default=None, repr=False)

    @classmethod
    def compile(
        cls, config: ComplaintsConfig, model: LinearModel | None = None
    ) -> ComplaintMatcher:
        """Compile the cues; `model` is the complaint model, used if the policy enables it."""
        groups: dict[str, _Group] = {}
        words: list[str] = []
        patterns: list[str] = []
        for prefix, cues, intensity in (("c", config.cues, False), ("i", config.intensity, True)):
            for index, cue in enumerate(cues):
                name = f"{prefix}{index}"
                groups[name] = _Group(cue, intensity)
                if cue.words:
                    words.append(f"(?P<{name}>{_alternatives(cue.words)})")
                if cue.patterns:
                    either = "|".join(f"(?:{pattern})" for pattern in cue.patterns)
                    patterns.append(f"(?P<{name}>{either})")
        questions = _alternatives(config.question_words) if config.question_words else ""
        return cls(
            config,
            re.compile("|".join(words)) if words else None,
            compile_safe("|".join(patterns)) if patterns else None,
            groups,
            re.compile(questions) if questions else None,
            model if config.scorer.enabled and model is not None and model.trained else None,
        )

    def assess(self, text: str) -> Assessment:
        """Score `text` and say whether it is a complaint, a question or neither."""
        nothing_to_match = self.cues is None and self.patterns is None and self.model is None
        if not self.config.enabled or nothing_to_match or not text.strip():
            return NOT_A_COMPLAINT
        norm = normalize(text)
        cue_hits, intensity_hits = self._hits(norm)
        model_hit = self._model_hit(norm)
        if model_hit is not None:
            cue_hits.append(model_hit)
        if not cue_hits:
            return NOT_A_COMPLAINT
        if (
            model_hit is not None
            and len(cue_hits) == 1
            and model_hit.score < self.config.threshold
        ):
            return NOT_A_COMPLAINT
        hits = (*cue_hits, *intensity_hits)
        score = sum(hit.score for hit in hits)
        if score >= self.config.threshold:
            return Assessment(ComplaintKind.COMPLAINT, score, hits, routed=True)
        if self._reads_as_question(norm.text):
            routed = self.config.route_questions
            return Assessment(ComplaintKind.QUESTION, score, hits, routed=routed)
        return Assessment(ComplaintKind.NONE, score, hits)

    def _hits(self, norm: Normalized) -> tuple[list[Hit], list[Hit]]:
        """One hit per cue, its first match quoted as evidence."""
        found: dict[str, Hit] = {}
        for start, end, name in sorted(self._matches(norm.text)):
            if name in found or name not in self.groups:
                continue
            cue = self.groups[name].cue
            evidence = quote(norm.original_span(start, end))
            reason = f'{cue.name}: "{evidence}"'
            found[name] = Hit(f"complaint.{cue.name}", reason, evidence, cue.weight)
        cue_hits = [hit for name, hit in found.items() if not self.groups[name].intensity]
        intensity_hits = [hit for name, hit in found.items() if self.groups[name].intensity]
        return cue_hits, intensity_hits

    def _matches(self, text: str) -> Iterator[tuple[int, int, str]]:
        if self.cues is not None:
            for match in self.cues.finditer(text):
                yield (*match.span(), match.lastgroup or "")
        if self.patterns is not None:
            for safe in self.patterns.finditer(text):
                yield (*safe.span(), safe.lastgroup or "")

    def _model_hit(self, norm: Normalized) -> Hit | None:
        """The model's judgement as a hit, when it is sure enough that this is a complaint."""
        if self.model is None or norm.text.startswith("/"):
            return None
        scorer = self.config.scorer
        threshold = scorer.threshold if scorer.threshold is not None else self.model.threshold
        logit = self.model.logit_of(norm)
        probability = 1.0 / (1.0 + math.exp(-logit))
        if probability >= threshold:
            reason = f"reads like a complaint (model p = {probability:.3f} ≥ {threshold:.3f})"
            return self._explained(norm, reason, scorer.weight)
        if logit < logit_of(threshold) - LEAN:
            return None
        reason = f"leans toward a complaint (model p = {probability:.3f}, counts half)"
        return self._explained(norm, reason, scorer.weight / 2)

    def _explained(self, norm: Normalized, reason: str, score: float) -> Hit:
        """The model's hit, its evidence the words that weighed most (punctuation and the
        shapes of numbers left out): the staff see the whole message beside it already."""
        assert self.model is not None
        strongest = self.model.strongest(norm, _WEIGHED_CANDIDATES)
        words = list(dict.fromkeys(name for name in strongest if _shown_word(name)))
        weighed = ", ".join(_telling(words)[:_WEIGHED_SHOWN])
        if not weighed:
            return Hit("complaint.model", reason, "", score)
        return Hit("complaint.model", f"{reason}; weighed most: {weighed}", weighed, score)

    def _reads_as_question(self, folded: str) -> bool:
        if _QUESTION_MARK in folded:
            return True
        return self.questions is not None and self.questions.search(folded) is not None


def _alternatives(words: tuple[str, ...]) -> str:
    """Words as whole-word literals, longest first."""
    folded = sorted({normalize(word).text.strip() for word in words}, key=len, reverse=True)
    return "|".join(_whole_word(word) for word in folded if word)


def _whole_word(word: str) -> str:
    """A literal that must not continue or start inside a longer Latin word."""
    body = word_start(word) if _LATIN_OR_DIGIT.match(word[0]) else re.escape(word)
    return body + "(?![a-z0-9])" if _LATIN_OR_DIGIT.match(word[-1]) else body

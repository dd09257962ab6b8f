"""A statistical scorer: Naive Bayes over character n-grams, trained from samples and admins.

Chinese has no spaces between words, so the text is cut into overlapping character n-grams
instead of being segmented; Latin, Cyrillic and Greek words are taken whole. Numbers count by
their length and shape ("11 digits", "letters then digits"): spammers change the number, not
its shape. Characters used to dodge filters (full-width, zero-width, mathematical letters)
are features of their own, since normalization hides them.

Each feature counts once per message (binarized multinomial NB), so a word repeated forty
times does not outvote the rest. Features never seen in training are ignored, and counts are
smoothed additively (Laplace's rule with a smaller `alpha`, which suits sparse n-grams).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol, TypeGuard

from policies.detect.base import Check, quote
from policies.detect.config import ClassifierConfig
from policies.detect.features import disguise_kinds
from policies.detect.normalize import Normalized, folds_applied, normalize
from policies.detect.notices import notice_cue
from policies.facts import MessageFacts
from policies.verdict import Hit

__all__ = [
    "DEFAULT_TEMPERATURE",
    "FORMAT_VERSION",
    "NaiveBayes",
    "Scorer",
    "make_classifier_check",
    "train",
]

FORMAT_VERSION = 1
DEFAULT_TEMPERATURE = 4.0

_DIGIT_RUN = re.compile(r"[0-9]+")
_ASCII_RUN = re.compile(r"[\x00-\x2f\x3a-\x7f]+")
_WORD = re.compile(r"[a-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+")
_MAX_NUMBER_LENGTH = 12
_NUMBER = re.compile(f"[0-9]{{1,{_MAX_NUMBER_LENGTH}}}")
_NUMBER_FEATURES = tuple(f"#{length}" for length in range(_MAX_NUMBER_LENGTH + 1))
_ASCII_SYMBOL = re.compile(r"[!-/:-@\[-`{-~]")
# Written to start with a plain character class, which lets `re` skip ahead quickly.
_MIXED_ID = re.compile(
    r"[a-z0-9](?<![a-z0-9].)"
    r"(?:(?<=[a-z])[a-z]{0,11}[0-9]{2,12}|(?<=[0-9])[0-9]{1,11}[a-z]{1,12})(?![a-z])"
)
_MAX_LOGIT = 50.0


@dataclass(slots=True)
class NaiveBayes:
    """Counts of features in spam and in ham messages, and the log-odds they imply."""

    ngram_sizes: tuple[int, ...] = (2,)
    alpha: float = 0.2
    temperature: float = DEFAULT_TEMPERATURE
    """The summed log-odds are divided by this before they become a probability.

    Naive Bayes treats features as independent, but overlapping n-grams repeat the same
    characters, so raw probabilities are absurdly sure of themselves (0.999999 for a chat
    line). The default was measured: with it, the default threshold (0.95) keeps the model
    trained on the shipped samples under 1 % false positives on labelled Chinese chat.
    """
    spam_counts: dict[str, int] = field(default_factory=dict)
    ham_counts: dict[str, int] = field(default_factory=dict)
    spam_docs: int = 0
    ham_docs: int = 0
    spam_total: int = 0
    ham_total: int = 0
    _log_odds: dict[str, float] | None = field(default=None, repr=False, compare=False)
    _prior: float = field(default=0.0, repr=False, compare=False)
    _scale: float = field(default=1.0, repr=False, compare=False)

    def features(self, norm: Normalized) -> set[str]:
        """The distinct features of a normalized message."""
        folded = norm.text
        # Runs of ASCII become one space and numbers one "0": the n-grams then describe the
        # non-Latin text and what surrounds a number, and the tokens describe the rest.
        shaped = "^" + _ASCII_RUN.sub(" ", _DIGIT_RUN.sub("0", folded)) + "$"
        found = set(shaped) if 1 in self.ngram_sizes else set()
        grams: Iterable[str] = shaped
        for size in range(2, max(self.ngram_sizes) + 1):
            grams = list(map(operator.add, grams, shaped[size - 1 :]))
            if size in self.ngram_sizes:
                found.update(grams)
        found.update(_WORD.findall(folded))
        if "0" in shaped:
            numbers = map(len, _NUMBER.findall(folded))
            found.update(map(_NUMBER_FEATURES.__getitem__, numbers))
            found.update(map(_shape, _MIXED_ID.findall(folded)))
        if " " in shaped:
            found.update(_ASCII_SYMBOL.findall(folded))
        found.update(disguise_kinds(norm.original))
        return found

    def learn(self, text: str, spam: bool) -> None:
        """Count one message as spam or ham (an admin's mark, or a sample)."""
        self._add(normalize(text), spam, 1)

    def unlearn(self, text: str, spam: bool) -> None:
        """Take back an earlier `learn`, when an admin corrects a mark."""
        self._add(normalize(text), spam, -1)

    def learn_many(self, texts: Iterable[str], spam: bool) -> None:
        for text in texts:
            self.learn(text, spam)

    def probability(self, text: str) -> float:
        """The probability that `text` is spam."""
        return self.probability_of(normalize(text))

    def probability_of(self, norm: Normalized) -> float:
        """The probability that an already normalized message is spam."""
        log_odds = self._log_odds
        if log_odds is None:
            log_odds = self._compute_log_odds()
        evidence = sum(map(log_odds.get, self.features(norm), repeat(0.0)))
        logit = self._prior + evidence * self._scale
        logit = max(-_MAX_LOGIT, min(_MAX_LOGIT, logit))
        return 1.0 / (1.0 + math.exp(-logit))

    @property
    def trained(self) -> bool:
        return self.spam_docs > 0 and self.ham_docs > 0

    def to_dict(self) -> dict[str, Any]:
        """The counts as plain JSON-able data, for the shell to persist."""
        return {
            "format": FORMAT_VERSION,
            "ngram_sizes": list(self.ngram_sizes),
            "alpha": self.alpha,
            "temperature": self.temperature,
            "spam_docs": self.spam_docs,
            "ham_docs": self.ham_docs,
            "spam": dict(self.spam_counts),
            "ham": dict(self.ham_counts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NaiveBayes:
        """Rebuild a model saved by `to_dict`; raises ValueError on anything else."""
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unknown classifier format {data.get('format')!r}")
        spam = _counts(data.get("spam"), "spam")
        ham = _counts(data.get("ham"), "ham")
        sizes = tuple(_positive_int(size, "ngram_sizes") for size in data.get("ngram_sizes", []))
        alpha = data.get("alpha")
        temperature = data.get("temperature", DEFAULT_TEMPERATURE)
        if not sizes or not _positive_number(alpha) or not _positive_number(temperature):
            raise ValueError("classifier data needs ngram_sizes, a positive alpha and temperature")
        return cls(
            ngram_sizes=sizes,
            alpha=float(alpha),
            temperature=float(temperature),
            spam_counts=spam,
            ham_counts=ham,
            spam_docs=_positive_int(data.get("spam_docs"), "spam_docs", allow_zero=True),
            ham_docs=_positive_int(data.get("ham_docs"), "ham_docs", allow_zero=True),
            spam_total=sum(spam.values()),
            ham_total=sum(ham.values()),
        )

    def _add(self, norm: Normalized, spam: bool, step: int) -> None:
        counts = self.spam_counts if spam else self.ham_counts
        change = 0
        for feature in self.features(norm):
            count = counts.get(feature, 0)
            if count + step < 0:
                continue
            change += step
            if count + step:
                counts[feature] = count + step
            else:
                del counts[feature]
        # Taking back a message none of whose features were counted leaves the model alone.
        documents = step if change else 0
        if spam:
            self.spam_docs = max(0, self.spam_docs + documents)
            self.spam_total += change
        else:
            self.ham_docs = max(0, self.ham_docs + documents)
            self.ham_total += change
        self._log_odds = None

    def _compute_log_odds(self) -> dict[str, float]:
        """Per feature, log P(feature | spam) - log P(feature | ham), additively smoothed."""
        vocabulary = self.spam_counts.keys() | self.ham_counts.keys()
        smoothing = self.alpha * len(vocabulary)
        spam_norm = math.log(self.spam_total + smoothing) if vocabulary else 0.0
        ham_norm = math.log(self.ham_total + smoothing) if vocabulary else 0.0
        spam_get, ham_get, alpha = self.spam_counts.get, self.ham_counts.get, self.alpha
        self._log_odds = {
            feature: math.log(spam_get(feature, 0) + alpha)
            - spam_norm
            - math.log(ham_get(feature, 0) + alpha)
            + ham_norm
            for feature in vocabulary
        }
        self._prior = math.log((self.spam_docs + 1) / (self.ham_docs + 1))
        self._scale = 1.0 / self.temperature
        return self._log_odds


def _shape(token: str) -> str:
    """The shape of an id rather than the id: "kmd255" becomes "a3d3"."""
    letters = sum(char.isalpha() for char in token)
    order = "ad" if token[0].isalpha() else "da"
    counts = (letters, len(token) - letters) if order == "ad" else (len(token) - letters, letters)
    return f"{order[0]}{counts[0]}{order[1]}{counts[1]}"


def _positive_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _counts(value: object, name: str) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ValueError(f"classifier data: {name} must be a mapping of feature to count")
    counts: dict[str, int] = {}
    for feature, count in value.items():
        if not isinstance(feature, str):
            raise ValueError(f"classifier data: {name} has a non-text feature {feature!r}")
        counts[feature] = _positive_int(count, name)
    return counts


def _positive_int(value: object, name: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        raise ValueError(f"classifier data: bad {name} value {value!r}")
    return value


def train(
    spam_texts: Iterable[str], ham_texts: Iterable[str], *, ngram_sizes: Iterable[int] = (2,)
) -> NaiveBayes:
    """A fresh model trained on the given messages (for example the shipped samples)."""
    model = NaiveBayes(ngram_sizes=tuple(ngram_sizes))
    model.learn_many(spam_texts, spam=True)
    model.learn_many(ham_texts, spam=False)
    return model


class Scorer(Protocol):
    """What the check needs of a model: Naive Bayes or a `LinearModel`."""

    @property
    def trained(self) -> bool: ...

    def probability_of(self, norm: Normalized) -> float: ...

    def learn(self, text: str, spam: bool) -> None: ...


_NAIVE_BAYES_THRESHOLD = 0.95


def make_classifier_check(cfg: ClassifierConfig, model: Scorer) -> Check:
    """Build the statistical check for one policy around a trained model."""
    own = getattr(model, "threshold", _NAIVE_BAYES_THRESHOLD)
    threshold = cfg.threshold if cfg.threshold is not None else float(own)
    weight = cfg.weight
    at_least = f" ≥ {threshold:.3f})"

    def check_classifier(facts: MessageFacts, norm: Normalized) -> list[Hit]:
        # Commands are addressed to bots, not to members; the rules still check their links.
        if not norm.text or norm.text.startswith("/"):
            return []
        probability = model.probability_of(norm)
        if probability < threshold:
            return []
        reason = f"reads like the spam the model was trained on (p = {probability:.3f}{at_least}"
        strongest = getattr(model, "strongest", None)
        if strongest is not None:
            reason += "; weighed most: " + ", ".join(strongest(norm))
        folds = folds_applied(norm)
        if folds:
            reason += "; read after: " + ", ".join(folds)
        score = weight
        notice = notice_cue(norm.text)
        if notice is not None:
            score = weight / 2
            reason += f'; counts half: reads like a pasted notice ("{notice}")'
        return [Hit("classifier.spam", reason, quote(norm.original), score)]

    return check_classifier

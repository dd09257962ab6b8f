"""A linear model over the features of `policies.detect.features`: one weight per feature.

The probability that a message is of the model's class (an ad, a complaint) is the logistic
function of the bias plus the weights of its features; unknown features weigh nothing. Scoring
is a dictionary look-up per feature in plain Python, so the model needs no numerical library
at run time. The weights come from `qunbot train` (see `policies.detect.training`) and are
stored as sorted JSON, so the same sources always give the same file.

Admins teach the model with `/spam` and `/notspam`: `learn` moves the weights of that
message's features just enough for the model to agree with the admin with some margin (a
passive-aggressive update), kept apart from the trained weights so the file stays as shipped.
The shell replays the persisted marks at start-up, which rebuilds the same adjustments.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import Any, TypeGuard

from policies.detect.features import FEATURES_VERSION, Reader, reader
from policies.detect.normalize import Normalized, normalize

__all__ = ["FORMAT", "LinearModel", "logit_of", "readable"]

FORMAT = "qunbot-linear/1"
_MAX_LOGIT = 50.0
LEARN_MARGIN = 2.0
"""How far past the threshold (in log-odds) a taught message is pushed."""
_MAX_STEP = 4.0
_le = operator.le
_SMALLEST_PUSH = math.nextafter(0.0, 1.0)
"""Only features of positive weight push a message toward the model's class."""


def logit_of(probability: float) -> float:
    return math.log(probability / (1.0 - probability))


@dataclass(slots=True)
class LinearModel:
    """Trained weights, the threshold chosen at training, and the admins' adjustments."""

    weights: dict[str, float]
    bias: float
    threshold: float
    """Probability at or above which a message counts as the model's class."""
    kind: str = "ads"
    metadata: dict[str, Any] = field(default_factory=dict)
    """Sources, licence, training settings and figures: what the model card shows."""
    adjustments: dict[str, float] = field(default_factory=dict)
    """What admins taught since start-up, added to `weights`."""
    features: str = FEATURES_VERSION
    """The feature recipe the weights were trained on (see `policies.detect.features`)."""
    _reader: Reader = field(init=False, repr=False, compare=False)
    _last: tuple[Normalized | None, list[str], list[float]] = field(
        init=False, repr=False, compare=False, default=(None, [], [])
    )
    """The last message read, its features and their weights: a flagged message is scored
    and then explained (`strongest`), and reading and weighing it once is half the cost (a
    weight look-up costs as much as making the feature: the table is too big for the cache)."""

    def __post_init__(self) -> None:
        self._reader = reader(self.features)

    def _weighed(self, norm: Normalized) -> tuple[list[str], list[float]]:
        """The message's features and what each weighs, trained and taught together."""
        last, names, weighed = self._last
        if last is not norm:
            names = list(self._reader(norm))
            weighed = list(map(self.weights.get, names, repeat(0.0)))
            if self.adjustments:
                taught = map(self.adjustments.get, names, repeat(0.0))
                weighed = list(map(operator.add, weighed, taught))
            self._last = (norm, names, weighed)
        return names, weighed

    @property
    def trained(self) -> bool:
        return bool(self.weights)

    def untaught(self) -> LinearModel:
        """A copy without the admins' adjustments, sharing the trained weights (never changed)."""
        return LinearModel(
            self.weights,
            self.bias,
            self.threshold,
            self.kind,
            self.metadata,
            features=self.features,
        )

    def logit_of(self, norm: Normalized) -> float:
        total = self.bias + sum(self._weighed(norm)[1])
        return max(-_MAX_LOGIT, min(_MAX_LOGIT, total))

    def strongest(self, norm: Normalized, count: int = 3) -> list[str]:
        """What pushed this message most toward the model's class, strongest first (ties by
        name), written for an admin (see `readable`).

        Every flagged message is explained, so this runs as often as a message is caught: the
        weights are looked up and the few contenders picked out with C-level `map`, `sorted`
        and `compress`, and only those are ordered by a Python key."""
        if count <= 0:
            return []
        names, weighed = self._weighed(norm)
        ordered = sorted(weighed)
        heaviest = ordered[-count:]
        if _clear_lead(ordered, heaviest):
            return [readable(names[weighed.index(weight)]) for weight in reversed(heaviest)]
        cutoff = _SMALLEST_PUSH
        if len(weighed) > count:
            cutoff = max(cutoff, ordered[-count])
        contenders = compress(zip(names, weighed, strict=True), map(_le, repeat(cutoff), weighed))
        return [readable(name) for name, _ in sorted(contenders, key=_by_weight)[:count]]

    def probability_of(self, norm: Normalized) -> float:
        """The probability that an already normalized message is of the model's class."""
        return 1.0 / (1.0 + math.exp(-self.logit_of(norm)))

    def probability(self, text: str) -> float:
        return self.probability_of(normalize(text))

    def learn(self, text: str, spam: bool) -> None:
        """Agree with an admin about one message from now on (see the module docstring)."""
        norm = normalize(text)
        found, _ = self._weighed(norm)
        if not found:
            return
        target = logit_of(self.threshold) + (LEARN_MARGIN if spam else -LEARN_MARGIN)
        current = self.logit_of(norm)
        missing = target - current if spam else current - target
        if missing <= 0:
            return
        step = min(_MAX_STEP, missing / len(found)) * (1.0 if spam else -1.0)
        for feature in found:
            self.adjustments[feature] = self.adjustments.get(feature, 0.0) + step
        self._last = (None, [], [])  # the weights just changed

    def learn_many(self, texts: list[str], spam: bool) -> None:
        for text in texts:
            self.learn(text, spam)

    def to_json(self) -> str:
        """The model file: sorted keys and rounded weights, so it is byte-for-byte reproducible."""
        data = {
            "format": FORMAT,
            "features": self.features,
            "kind": self.kind,
            "bias": round(self.bias, 6),
            "threshold": round(self.threshold, 6),
            "metadata": self.metadata,
            "weights": {name: round(weight, 4) for name, weight in sorted(self.weights.items())},
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LinearModel:
        """Read a model file; raises ValueError with the reason on anything else."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not a model file (bad JSON: {error})") from error
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model file")
        features = data.get("features")
        reader(str(features))  # refuses, with the reason, a recipe this qunbot cannot read
        weights, bias, threshold = data.get("weights"), data.get("bias"), data.get("threshold")
        if not isinstance(weights, Mapping) or not _number(bias) or not _number(threshold):
            raise ValueError("a model file needs weights, a bias and a threshold")
        if not 0.0 < float(threshold) < 1.0:
            raise ValueError(f"the model's threshold {threshold!r} is not a probability")
        if not all(_number(weight) for weight in weights.values()):
            raise ValueError("every weight of a model file must be a number")
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        return cls(
            weights={str(name): float(weight) for name, weight in weights.items()},
            bias=float(bias),
            threshold=float(threshold),
            kind=str(data.get("kind", "ads")),
            metadata=dict(metadata or {}),
            features=str(features),
        )


def readable(feature: str) -> str:
    """A feature as an admin can read it: in an n-gram of the current recipe "0" stands for any
    digit, "a" for any Latin letter, "^" and "$" for the start and end of the message."""
    if feature.startswith(("\x01", "\x02")):
        return f"“{feature[1:]}”"
    if feature.startswith("#") and feature[1:].isdigit() and feature != "#0":
        return f"a {feature[1:]}-digit number"
    if len(feature) > 2 and feature.startswith("<") and feature.endswith(">"):
        return f"{feature[1:-1]} characters"
    return f"“{feature}”"


def _clear_lead(ordered: list[float], heaviest: list[float]) -> bool:
    """Whether the heaviest weights are positive, all different, and heavier than the next:
    then each belongs to one feature and no tie needs breaking by name."""
    return (
        bool(heaviest)
        and heaviest[0] > 0
        and len(set(heaviest)) == len(heaviest)
        and (len(ordered) == len(heaviest) or ordered[-len(heaviest) - 1] < heaviest[0])
    )


def _by_weight(pair: tuple[str, float]) -> tuple[float, str]:
    return (-pair[1], pair[0])


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

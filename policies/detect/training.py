"""Training a `LinearModel`: L2-regularised logistic regression, fitted with numpy.

Optionally each feature counts its naive-Bayes evidence instead of 1 (`evidence_power`): the
regression then corrects what each feature says on its own rather than learning it from zero,
which ranks unseen messages better when data are few for some kinds of message. The file still
holds one weight per feature (evidence times weight), so the live scorer is the same.

Why this and not a library's solver: the model is a plain weight per feature, the features are
sparse sets of strings, and the fit must give the same file every time from the same sources.
Full-batch gradient steps (Adam) over a sparse matrix held as index arrays are deterministic
(no random initialisation, no shuffling, sums in a fixed order), take a few seconds for tens of
thousands of messages, and need only numpy, which qunbot already depends on. Training reads no
files: the shell passes the texts in.

The threshold is chosen on messages the model did not see: a fixed, seeded fifth of the data is
held out, a first model is fitted on the rest, and the threshold is the score that keeps the
held-out negatives' flagged rate at `target_rate`; the shipped model is then fitted on all data.
"""

from __future__ import annotations

import math
import random
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from policies.detect.features import FEATURES_VERSION, reader
from policies.detect.linear import LinearModel
from policies.detect.normalize import normalize

__all__ = ["TrainingSettings", "fit", "message_features", "train_linear"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TrainingSettings:
    l2: float = 1e-5
    """Weight of the L2 penalty per message: larger keeps weights small and general."""
    iterations: int = 200
    learning_rate: float = 0.05
    min_count: int = 2
    """A feature must occur in this many training messages to get a weight."""
    target_rate: float = 0.005
    """Share of held-out negatives allowed at or above the chosen threshold."""
    seed: int = 17
    prune_below: float = 0.002
    """Weights smaller than this (in absolute value) are left out of the file."""
    evidence_power: float = 0.0
    """0: every feature of a message counts 1. Above 0: it counts its naive-Bayes evidence,
    the log ratio of its share among positives to its share among negatives, raised to this
    power (sign kept). The fit then starts from what each feature says on its own and spends
    its weights on the corrections (see `evidence`; the README's model card gives what it
    measured)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "l2": self.l2,
            "iterations": self.iterations,
            "learning_rate": self.learning_rate,
            "min_count": self.min_count,
            "target_rate": self.target_rate,
            "seed": self.seed,
            "prune_below": self.prune_below,
            "evidence_power": self.evidence_power,
        }


def message_features(
    texts: Sequence[str], version: str = FEATURES_VERSION
) -> list[frozenset[str]]:
    """The feature set of every message under the named recipe, as the live scorer computes it."""
    read = reader(version)
    return [frozenset(read(normalize(text))) for text in texts]


def fit(
    documents: Sequence[frozenset[str]],
    labels: Sequence[bool],
    settings: TrainingSettings,
    importance: Sequence[float] | None = None,
) -> tuple[dict[str, float], float]:
    """Weights and bias of a logistic regression on feature sets and their labels.

    `importance` weighs each message's loss (1.0 each by default): a few hundred short messages
    the project wrote can then count against tens of thousands of long reviews.
    """
    vocabulary, rows, columns = _sparse(documents, settings.min_count)
    targets = np.asarray(labels, dtype=np.float64)
    weighed = (
        np.ones(len(labels)) if importance is None else np.asarray(importance, dtype=np.float64)
    )
    scale = np.ones(len(vocabulary))
    if settings.evidence_power > 0:
        scale = evidence(rows, columns, targets, weighed, len(vocabulary))
        scale = np.sign(scale) * np.abs(scale) ** settings.evidence_power
    design = Design(rows, columns, scale[columns], len(vocabulary))
    weights, bias = _adam(design, targets, settings, weighed)
    # A feature of value `scale` with weight w weighs `scale * w` as a plain feature of value 1,
    # which is what the live scorer reads.
    effective = weights * scale
    kept = {
        name: float(weight)
        for name, weight in zip(vocabulary, effective.tolist(), strict=True)
        if abs(weight) >= settings.prune_below
    }
    return kept, bias


def _sparse(
    documents: Sequence[frozenset[str]], min_count: int
) -> tuple[list[str], IntArray, IntArray]:
    """The features seen in at least `min_count` messages, sorted, and the (row, column) index
    pairs of every message's features among them, in a fixed order."""
    counts: Counter[str] = Counter()
    for document in documents:
        counts.update(document)
    vocabulary = sorted(name for name, count in counts.items() if count >= min_count)
    index = {name: position for position, name in enumerate(vocabulary)}
    rows = array("q")
    columns = array("q")
    for row, document in enumerate(documents):
        found = sorted(index[name] for name in document if name in index)
        rows.extend(repeat(row, len(found)))
        columns.extend(found)
    return (
        vocabulary,
        np.frombuffer(rows, dtype=np.int64),
        np.frombuffer(columns, dtype=np.int64),
    )


def evidence(
    rows: IntArray, columns: IntArray, labels: FloatArray, importance: FloatArray, width: int
) -> FloatArray:
    """Each feature's naive-Bayes log-count ratio: log of its (smoothed, weighed) share of the
    positives' features over its share of the negatives'."""
    positive = np.bincount(columns, weights=(labels * importance)[rows], minlength=width) + 1.0
    negative = (
        np.bincount(columns, weights=((1.0 - labels) * importance)[rows], minlength=width) + 1.0
    )
    ratio: FloatArray = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
    return ratio


@dataclass(frozen=True, slots=True)
class Design:
    """The sparse design matrix: one (row, column, value) triple per feature of a message."""

    rows: IntArray
    columns: IntArray
    values: FloatArray
    width: int


def _adam(
    design: Design, labels: FloatArray, settings: TrainingSettings, importance: FloatArray
) -> tuple[FloatArray, float]:
    """Full-batch Adam on the mean logistic loss plus an L2 penalty (the bias is not penalised)."""
    rows, columns, values, width = design.rows, design.columns, design.values, design.width
    size = len(labels)
    total = float(importance.sum())
    weights = np.zeros(width)
    first, second = np.zeros(width), np.zeros(width)
    bias = bias_first = bias_second = 0.0
    beta1, beta2, epsilon, rate = 0.9, 0.999, 1e-8, settings.learning_rate
    for step in range(1, settings.iterations + 1):
        logits = np.bincount(rows, weights=weights[columns] * values, minlength=size) + bias
        residual = (1.0 / (1.0 + np.exp(-logits)) - labels) * importance / total
        gradient = np.bincount(columns, weights=residual[rows] * values, minlength=width).astype(
            np.float64
        ) + (settings.l2 * weights)
        bias_gradient = float(residual.sum())
        first = beta1 * first + (1 - beta1) * gradient
        second = beta2 * second + (1 - beta2) * gradient * gradient
        correction1, correction2 = 1 - beta1**step, 1 - beta2**step
        weights -= rate * (first / correction1) / (np.sqrt(second / correction2) + epsilon)
        bias_first = beta1 * bias_first + (1 - beta1) * bias_gradient
        bias_second = beta2 * bias_second + (1 - beta2) * bias_gradient**2
        bias -= (
            rate * (bias_first / correction1) / (math.sqrt(bias_second / correction2) + epsilon)
        )
    return weights, bias


def score_documents(
    weights: dict[str, float], bias: float, documents: Sequence[frozenset[str]]
) -> list[float]:
    """The log-odds of each feature set under the given weights."""
    get = weights.get
    return [bias + sum(get(name, 0.0) for name in document) for document in documents]


def threshold_for_rate(negative_logits: Sequence[float], rate: float) -> float:
    """The probability at which about `rate` of these negatives would be flagged."""
    ordered = sorted(negative_logits, reverse=True)
    allowed = int(rate * len(ordered))
    cut = ordered[min(allowed, len(ordered) - 1)] if ordered else 0.0
    logit = cut + 1e-6
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))


def train_linear(
    positives: Sequence[frozenset[str]],
    negatives: Sequence[frozenset[str]],
    settings: TrainingSettings,
    *,
    kind: str,
    metadata: dict[str, Any] | None = None,
    positive_importance: Sequence[float] | None = None,
    negative_importance: Sequence[float] | None = None,
    features: str = FEATURES_VERSION,
) -> LinearModel:
    """Fit on everything, with the threshold chosen on a held-out fifth (module docstring)."""
    weigh_positive = positive_importance or [1.0] * len(positives)
    weigh_negative = negative_importance or [1.0] * len(negatives)
    rng = random.Random(settings.seed)
    held_positive = {i for i in range(len(positives)) if rng.random() < 0.2}
    held_negative = {i for i in range(len(negatives)) if rng.random() < 0.2}
    train_docs = [doc for i, doc in enumerate(positives) if i not in held_positive]
    train_docs += [doc for i, doc in enumerate(negatives) if i not in held_negative]
    train_labels = [True] * (len(positives) - len(held_positive))
    train_labels += [False] * (len(negatives) - len(held_negative))
    train_importance = [w for i, w in enumerate(weigh_positive) if i not in held_positive]
    train_importance += [w for i, w in enumerate(weigh_negative) if i not in held_negative]
    weights, bias = fit(train_docs, train_labels, settings, train_importance)
    held_out = [negatives[i] for i in sorted(held_negative)]
    threshold = threshold_for_rate(score_documents(weights, bias, held_out), settings.target_rate)
    documents = [*positives, *negatives]
    labels = [True] * len(positives) + [False] * len(negatives)
    weights, bias = fit(documents, labels, settings, [*weigh_positive, *weigh_negative])
    return LinearModel(
        weights,
        bias,
        round(threshold, 6),
        kind=kind,
        metadata=dict(metadata or {}),
        features=features,
    )

"""Measure a detector on labelled messages: recall, false-positive rate, precision, per rule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from policies.facts import MessageFacts

if TYPE_CHECKING:
    from policies.detect import Detector

__all__ = ["evaluate"]


def evaluate(
    detector: Detector,
    spam_texts: Sequence[str],
    ham_texts: Sequence[str],
    *,
    examples: int = 10,
) -> dict[str, Any]:
    """Scan every text as a plain message and compare with its label.

    Returns counts, `recall`, `false_positive_rate`, `precision` and `f1`, how often each rule
    fired on spam and on ham, and up to `examples` false positives and misses with their rules.
    """
    rule_counts: dict[str, Counter[str]] = {"spam": Counter(), "ham": Counter()}
    flagged = {"spam": 0, "ham": 0}
    samples: dict[str, list[dict[str, Any]]] = {"false_positives": [], "missed": []}
    for label, texts in (("spam", spam_texts), ("ham", ham_texts)):
        for index, text in enumerate(texts):
            facts = MessageFacts(chat_id=0, message_id=index, user_id=0, date=0.0, text=text)
            hits = detector.scan(facts)
            rule_counts[label].update({hit.rule for hit in hits})
            spam = detector.is_spam(hits)
            flagged[label] += spam
            wrong = "false_positives" if label == "ham" else "missed"
            if spam != (label == "spam") and len(samples[wrong]) < examples:
                score, rules = detector.score(hits), [hit.rule for hit in hits]
                samples[wrong].append({"text": text, "score": score, "rules": rules})
    return _summary(len(spam_texts), len(ham_texts), flagged, rule_counts, samples)


def _summary(
    spam_total: int,
    ham_total: int,
    flagged: dict[str, int],
    rule_counts: dict[str, Counter[str]],
    samples: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    true_positives, false_positives = flagged["spam"], flagged["ham"]
    recall = _ratio(true_positives, spam_total)
    precision = _ratio(true_positives, true_positives + false_positives)
    rules = sorted(rule_counts["spam"].keys() | rule_counts["ham"].keys())
    return {
        "spam": spam_total,
        "ham": ham_total,
        "true_positives": true_positives,
        "false_negatives": spam_total - true_positives,
        "false_positives": false_positives,
        "true_negatives": ham_total - false_positives,
        "recall": recall,
        "false_positive_rate": _ratio(false_positives, ham_total),
        "precision": precision,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "rules": {
            rule: {"spam": rule_counts["spam"][rule], "ham": rule_counts["ham"][rule]}
            for rule in rules
        },
        "false_positive_examples": samples["false_positives"],
        "missed_examples": samples["missed"],
    }


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0

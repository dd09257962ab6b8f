"""Ad detection: normalize a message once, run an explicit list of checks, add up the hits.

    detector = build_detector(policy.moderation.detectors, classifier=model)
    hits = detector.scan(facts)
    if detector.is_spam(hits): ...

Everything here is pure. The shell reads the classifier's sample files (see `SHIPPED_SAMPLES`
and `ClassifierConfig.samples`) and passes their lines to `train_from_samples`.

`normalize` is imported here as `normalize_text`, so `policies.detect.normalize` stays the
module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from policies.detect.base import Check
from policies.detect.classifier import NaiveBayes, Scorer, make_classifier_check, train
from policies.detect.config import SHIPPED_SAMPLES, DetectorsConfig, sample_is_spam
from policies.detect.contacts import make_contacts_check
from policies.detect.keywords import make_keywords_check
from policies.detect.kinds import make_kinds_check
from policies.detect.links import make_links_check
from policies.detect.marketplace import MARKET_DOMAINS, make_marketplace_check
from policies.detect.normalize import Normalized
from policies.detect.normalize import normalize as normalize_text
from policies.detect.samples import parse_sample_lines, train_from_samples
from policies.facts import MessageFacts
from policies.verdict import Hit

__all__ = [
    "SHIPPED_SAMPLES",
    "Check",
    "Detector",
    "DetectorsConfig",
    "NaiveBayes",
    "Normalized",
    "Scorer",
    "build_detector",
    "normalize_text",
    "parse_sample_lines",
    "sample_is_spam",
    "train",
    "train_from_samples",
]


@dataclass(frozen=True, slots=True)
class Detector:
    """The checks of one policy, built once and run on every message."""

    checks: tuple[tuple[str, Check], ...]
    """(family name, check) in the order they run."""
    spam_threshold: float = 1.0

    def scan(self, facts: MessageFacts, *, enough: float | None = None) -> tuple[Hit, ...]:
        """The hits of the checks on one message (text, caption and quote together).

        With `enough`, checks stop once the score reaches it: the verdict is settled, and the
        costly statistical scorer runs last.
        """
        norm = normalize_text(facts.all_text)
        hits: list[Hit] = []
        score = 0.0
        for _, check in self.checks:
            found = check(facts, norm)
            if found:
                hits.extend(found)
                score += sum(hit.score for hit in found)
            if enough is not None and score >= enough:
                break
        return tuple(hits)

    def score(self, hits: Iterable[Hit]) -> float:
        """The message's total score: the sum of its hits' scores."""
        return sum(hit.score for hit in hits)

    def is_spam(self, hits: Iterable[Hit]) -> bool:
        return self.score(hits) >= self.spam_threshold


def build_detector(cfg: DetectorsConfig, *, classifier: Scorer | None = None) -> Detector:
    """The detector of one policy. Without a trained `classifier` the statistical check is off."""
    allow = cfg.links.allow
    checks: list[tuple[str, Check]] = []
    if cfg.links.enabled:
        market = MARKET_DOMAINS if cfg.marketplace.enabled else {}
        checks.append(("links", make_links_check(cfg.links, weighed_elsewhere=market)))
    if cfg.contacts.enabled:
        checks.append(("contacts", make_contacts_check(cfg.contacts)))
    if cfg.marketplace.enabled:
        checks.append(("marketplace", make_marketplace_check(cfg.marketplace, allow=allow)))
    if cfg.keywords.enabled:
        checks.append(("keywords", make_keywords_check(cfg.keywords)))
    if cfg.kinds.enabled:
        checks.append(("kinds", make_kinds_check(cfg.kinds, allow=allow)))
    if cfg.classifier.enabled and classifier is not None and classifier.trained:
        scorer = make_classifier_check(cfg.classifier, classifier)
        own = (*cfg.contacts.allow, *cfg.links.allow, *cfg.marketplace.allow)
        checks.append(("classifier", without_the_shops_own(scorer, own)))
    return Detector(tuple(checks), cfg.spam_threshold)


def without_the_shops_own(check: Check, entries: Iterable[str]) -> Check:
    """The check reading the message without the shop's own contacts, links and store ids: a
    customer naming the shop's customer-service WeChat must not read like an ad for it."""
    words = sorted({entry.strip() for entry in entries if entry.strip()}, key=len, reverse=True)
    if not words:
        return check
    own = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)

    def check_without_own(facts: MessageFacts, norm: Normalized) -> list[Hit]:
        masked = own.sub(" ", norm.original)
        return check(facts, norm if masked == norm.original else normalize_text(masked))

    return check_without_own

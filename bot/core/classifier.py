"""The process's ad scorer: the shipped model (or the policy's own), plus the sample files."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from loguru import logger

from bot.core.config import LoadedConfig
from policies.detect.classifier import NaiveBayes, Scorer
from policies.detect.config import SHIPPED_MODEL, SHIPPED_SAMPLES, sample_is_spam
from policies.detect.linear import LinearModel
from policies.detect.samples import parse_sample_lines
from policies.schema import Policy

NAIVE_BAYES = "naive-bayes"
SHIPPED_AD_MODEL = "models/ads.json"
_SHIPPED_SAMPLE_NAMES = frozenset([*SHIPPED_SAMPLES["spam"], *SHIPPED_SAMPLES["ham"]])


def sample_names(policies: list[Policy]) -> list[str]:
    names: dict[str, None] = {}
    for policy in policies:
        classifier = policy.moderation.detectors.classifier
        if classifier.enabled:
            names.update(dict.fromkeys(classifier.samples))
    return list(names)


def model_name(policies: list[Policy]) -> str:
    """The model the policies ask for; the process keeps one, so the first policy's wins."""
    names = [
        policy.moderation.detectors.classifier.model
        for policy in policies
        if policy.moderation.detectors.classifier.enabled
    ]
    if len(set(names)) > 1:
        logger.warning(
            "policies name different ad models {}; using {}", sorted(set(names)), names[0]
        )
    return names[0] if names else SHIPPED_MODEL


def read_sample(name: str, base_dir: Path) -> list[str]:
    """A sample file by name: shipped with the `policies` package, or a path from the config."""
    shipped = resources.files("policies") / name
    if shipped.is_file():
        return list(parse_sample_lines(shipped.read_text(encoding="utf-8").splitlines()))
    path = Path(name).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise FileNotFoundError(
            f"classifier sample {name!r} not found (looked in the policies package and {path})"
        )
    return list(parse_sample_lines(path.read_text(encoding="utf-8").splitlines()))


@functools.cache
def _shipped_model(name: str) -> LinearModel:
    return LinearModel.from_json((resources.files("policies") / name).read_text(encoding="utf-8"))


def load_linear_model(name: str, base_dir: Path) -> LinearModel:
    """A fresh copy of a model file: the shipped one (read once per process) or a path."""
    if name == SHIPPED_MODEL:
        shipped = _shipped_model(SHIPPED_AD_MODEL)
    else:
        path = Path(name).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise FileNotFoundError(f"ad model {name!r} not found at {path}")
        try:
            shipped = LinearModel.from_json(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ValueError(f"ad model {path}: {error}") from error
        if shipped.kind != "ads":
            raise ValueError(f"ad model {path}: it judges {shipped.kind}, not ads")
    return shipped.untaught()


def train_model(policies: list[Policy], base_dir: Path) -> Scorer:
    """One scorer for the given policies: their model, then the sample files they name."""
    name = model_name(policies)
    model: Scorer = NaiveBayes() if name == NAIVE_BAYES else load_linear_model(name, base_dir)
    for sample in sample_names(policies):
        if name != NAIVE_BAYES and sample in _SHIPPED_SAMPLE_NAMES:
            continue
        texts = read_sample(sample, base_dir)
        spam = sample_is_spam(sample)
        for text in texts:
            model.learn(text, spam)
        kind = "spam" if spam else "ham"
        logger.debug("classifier learned {} {} samples from {}", len(texts), kind, sample)
    return model


def train_classifier(loaded: LoadedConfig, policies: list[Policy] | None = None) -> Scorer:
    """The process's scorer, for every policy the config loaded."""
    chosen = policies if policies is not None else list(loaded.policies.values())
    return train_model(chosen, loaded.base_dir)


SHIPPED_COMPLAINT_MODEL = "models/complaints.json"


def complaint_model() -> LinearModel:
    """A fresh copy of the shipped complaint model (the file is read once per process): staff
    teach the copy, never the shipped weights."""
    return _shipped_model(SHIPPED_COMPLAINT_MODEL).untaught()

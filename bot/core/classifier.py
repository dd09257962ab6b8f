"""Training the statistical scorer from the sample files the policies name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from loguru import logger

from bot.core.config import LoadedConfig
from policies.detect.classifier import NaiveBayes
from policies.detect.config import sample_is_spam
from policies.detect.samples import parse_sample_lines
from policies.schema import Policy


def sample_names(policies: list[Policy]) -> list[str]:
    names: dict[str, None] = {}
    for policy in policies:
        classifier = policy.moderation.detectors.classifier
        if classifier.enabled:
            names.update(dict.fromkeys(classifier.samples))
    return list(names)


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


def train_model(policies: list[Policy], base_dir: Path) -> NaiveBayes:
    """One scorer trained on every sample file the given policies name."""
    model = NaiveBayes()
    for name in sample_names(policies):
        texts = read_sample(name, base_dir)
        spam = sample_is_spam(name)
        model.learn_many(texts, spam=spam)
        kind = "spam" if spam else "ham"
        logger.debug("classifier learned {} {} samples from {}", len(texts), kind, name)
    return model


def train_classifier(loaded: LoadedConfig, policies: list[Policy] | None = None) -> NaiveBayes:
    """The process's scorer, trained for every policy the config loaded."""
    chosen = policies if policies is not None else list(loaded.policies.values())
    return train_model(chosen, loaded.base_dir)

"""Detection quality on the labelled sets in ../shared/data, judged as the live bot judges a
newcomer's first message: out of the box, and trained on half of each file."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from bench.common import DATA, SETS
from bot.cli.classify import measure
from bot.core.classifier import train_model
from bot.core.policy_files import PolicyLibrary
from bot.core.samples import read_messages
from policies.decide import CompiledPolicy
from policies.detect.classifier import NaiveBayes
from policies.schema import Policy

PRESET_FOR = {"tgspam_head": "default"}
QUICK_LIMIT = 1500


def shipped_model(policy: Policy) -> NaiveBayes:
    return train_model([policy], Path.cwd())


def halves(texts: list[str], seed: int) -> tuple[list[str], list[str]]:
    shuffled = texts[:]
    random.Random(seed).shuffle(shuffled)
    middle = len(shuffled) // 2
    return shuffled[:middle], shuffled[middle:]


def measure_set(name: str, quick: bool) -> dict[str, Any]:
    policy = PolicyLibrary(None).load(PRESET_FOR.get(name, "shop-zh"))
    spam = read_messages(DATA / f"{name}_spam.txt")
    ham = read_messages(DATA / f"{name}_ham.txt")
    if quick:
        spam, ham = spam[:QUICK_LIMIT], ham[:QUICK_LIMIT]
    out_of_box = measure(CompiledPolicy.compile(policy, shipped_model(policy)), spam, ham)
    spam_train, spam_test = halves(spam, 1)
    ham_train, ham_test = halves(ham, 2)
    model = shipped_model(policy)
    model.learn_many(spam_train, spam=True)
    model.learn_many(ham_train, spam=False)
    trained = measure(CompiledPolicy.compile(policy, model), spam_test, ham_test)
    return {"preset": policy.name, "out_of_the_box": out_of_box, "trained_on_half": trained}


def run(*, quick: bool = False) -> dict[str, Any]:
    if not DATA.is_dir():
        return {"error": f"labelled data not found at {DATA}"}
    return {"sets": {name: measure_set(name, quick) for name in SETS}}

"""models: the shipped linear models alone, on the labelled messages already normalized.

Per model: the time to read the file, its size, and per message the time of `logit_of` (the
features of the message plus the weight look-ups), median and 99th percentile, on one core.
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

from bench.common import labelled_messages, median, percentile
from bot.cli.train import RECIPES
from policies.detect.linear import LinearModel
from policies.detect.normalize import normalize

QUICK_PER_FILE = 1000
ROUNDS = 3


def run(*, quick: bool = False) -> dict[str, Any]:
    spam, ham = labelled_messages(QUICK_PER_FILE if quick else None)
    norms = [normalize(text) for text in spam + ham]
    figures: dict[str, Any] = {}
    for kind, recipe in RECIPES.items():
        text = (resources.files("policies") / recipe.shipped).read_text(encoding="utf-8")
        started = time.perf_counter()
        model = LinearModel.from_json(text)
        load_seconds = time.perf_counter() - started
        # The best of a few rounds per message: the machine is shared, and a message's own cost
        # is what is measured, not the neighbours' load.
        best = [float("inf")] * len(norms)
        for _ in range(ROUNDS):
            for index, norm in enumerate(norms):
                began = time.perf_counter_ns()
                model.logit_of(norm)
                best[index] = min(best[index], time.perf_counter_ns() - began)
        figures[kind] = {
            "features": model.features,
            "weights": len(model.weights),
            "bytes": len(text.encode("utf-8")),
            "load_seconds": round(load_seconds, 3),
            "features_and_logit_us": {
                "median": round(median(best) / 1000, 2),
                "p99": round(percentile(best, 0.99) / 1000, 1),
            },
        }
    return {"messages": len(norms), "models": figures}

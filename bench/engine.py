"""engine: `decide()` alone on the labelled messages, spam and ham mixed, on one core."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from bench.common import labelled_messages, median, percentile
from bot.core.classifier import train_model
from bot.core.policy_files import PolicyLibrary
from policies.decide import CompiledPolicy, decide
from policies.facts import MemberHistory, MessageFacts

QUICK_PER_FILE = 1000
NOW = 1_800_000_000.0


def compiled_preset(name: str) -> CompiledPolicy:
    policy = PolicyLibrary(None).load(name)
    return CompiledPolicy.compile(policy, train_model([policy], Path.cwd()))


def message_facts(texts: list[str]) -> list[MessageFacts]:
    return [
        MessageFacts(chat_id=-100, message_id=n, user_id=n, date=NOW, text=text)
        for n, text in enumerate(texts)
    ]


def run(*, quick: bool = False) -> dict[str, Any]:
    spam, ham = labelled_messages(QUICK_PER_FILE if quick else None)
    texts = spam + ham
    random.Random(7).shuffle(texts)
    compiled = compiled_preset("shop-zh")
    newcomer = MemberHistory()
    all_facts = message_facts(texts)
    for facts in all_facts[:200]:
        decide(facts, compiled, newcomer, NOW)
    timings: list[float] = []
    clock = time.perf_counter_ns
    started = clock()
    for facts in all_facts:
        before = clock()
        decide(facts, compiled, newcomer, NOW)
        timings.append((clock() - before) / 1000)
    total_s = (clock() - started) / 1e9
    return {
        "messages": len(all_facts),
        "median_us": round(median(timings), 1),
        "p99_us": round(percentile(timings, 0.99), 1),
        "max_us": round(max(timings), 1),
        "msgs_per_s": round(len(all_facts) / total_s),
        "target": "median <= 20 us, p99 <= 200 us, >= 50000 msgs/s",
    }

"""`qunbot classify`: judge messages exactly as the live bot judges a newcomer's first message."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.core.classifier import complaint_model, train_classifier
from bot.core.config import LoadedConfig, load_config
from bot.core.policy_files import PolicyLibrary
from bot.core.samples import read_messages
from policies.complaints import Assessment, ComplaintKind
from policies.decide import CompiledPolicy, decide
from policies.detect.samples import parse_sample_lines
from policies.facts import MemberHistory, MessageFacts
from policies.verdict import Verdict
from policies.yamlsource import SourceError

CLASSIFY_CHAT = -1000000000001
NEWCOMER = MemberHistory(joined_at=0.0)
"""A member whose join qunbot saw a moment ago: the strictest judgement there is."""


NO_POLICY_FILE = "qunbot classify: no policy file {path}"
UNKNOWN_POLICY = "qunbot classify: unknown policy or preset {name!r}; available: {known}"


class PolicyChoiceError(Exception):
    """A `--policy` that names nothing: one line for the operator, no traceback."""


def compiled_policy(policy_name: str | None, config_path: Path | None) -> CompiledPolicy:
    """The policy named (a policy or preset name, or a path to a policy file), from the
    config's policies directory or the presets, compiled."""
    if config_path is not None:
        loaded = load_config(config_path)
    else:
        from bot.core.config import Config

        loaded = LoadedConfig(Config(policies_dir=None), Path.cwd())
    name = policy_name or loaded.config.default_policy
    library = loaded.library if config_path else PolicyLibrary(None)
    if name.endswith((".yaml", ".yml")) or "/" in name:
        path = Path(name)
        if not path.is_file():
            raise PolicyChoiceError(NO_POLICY_FILE.format(path=path))
        library, name = PolicyLibrary(path.resolve().parent), path.stem
    try:
        policy = library.load(name)
    except LookupError:
        known = ", ".join(library.names())
        raise PolicyChoiceError(UNKNOWN_POLICY.format(name=name, known=known)) from None
    return CompiledPolicy.compile(policy, train_classifier(loaded, [policy]), complaint_model())


def judge(compiled: CompiledPolicy, text: str, index: int) -> Verdict:
    facts = MessageFacts(
        chat_id=CLASSIFY_CHAT, message_id=index + 1, user_id=index + 1, date=0.0, text=text
    )
    return decide(facts, compiled, NEWCOMER, now=0.0)


def verdict_line(verdict: Verdict) -> dict[str, Any]:
    return {
        "spam": verdict.spam,
        "score": round(verdict.score, 3),
        "hits": [{"rule": hit.rule, "reason": hit.reason} for hit in verdict.hits],
    }


def _input_lines(source: str) -> Iterator[str]:
    if source == "-":
        yield from parse_sample_lines(sys.stdin)
    else:
        yield from read_messages(Path(source))


def measure(compiled: CompiledPolicy, spam: Sequence[str], ham: Sequence[str]) -> dict[str, Any]:
    """Recall, false-positive rate and precision of the live decision on labelled files."""
    spam_list, ham_list = list(spam), list(ham)
    caught = sum(judge(compiled, text, n).spam for n, text in enumerate(spam_list))
    flagged = sum(judge(compiled, text, n).spam for n, text in enumerate(ham_list))
    recall = caught / len(spam_list) if spam_list else 0.0
    false_positive_rate = flagged / len(ham_list) if ham_list else 0.0
    precision = caught / (caught + flagged) if caught + flagged else 0.0
    return {
        "spam_messages": len(spam_list),
        "ham_messages": len(ham_list),
        "recall": round(recall, 4),
        "false_positive_rate": round(false_positive_rate, 4),
        "precision": round(precision, 4),
    }


def complaint_line(assessment: Assessment) -> dict[str, Any]:
    return {
        "complaint": assessment.kind is ComplaintKind.COMPLAINT,
        "kind": assessment.kind.value,
        "score": round(assessment.score, 3),
        "hits": [{"rule": hit.rule, "reason": hit.reason} for hit in assessment.hits],
    }


def measure_complaints(
    compiled: CompiledPolicy, complaints: Sequence[str], others: Sequence[str]
) -> dict[str, Any]:
    """Recall on complaints and the share of other messages taken for complaints."""
    assess = compiled.complaints.assess
    found = sum(assess(text).kind is ComplaintKind.COMPLAINT for text in complaints)
    flagged = sum(assess(text).kind is ComplaintKind.COMPLAINT for text in others)
    return {
        "complaint_messages": len(complaints),
        "other_messages": len(others),
        "recall": round(found / len(complaints), 4) if complaints else 0.0,
        "flagged_rate": round(flagged / len(others), 4) if others else 0.0,
    }


def _classify_complaints(compiled: CompiledPolicy, arguments: argparse.Namespace) -> int:
    if arguments.labels:
        complaint_file, other_file = (Path(name) for name in arguments.labels)
        result = measure_complaints(
            compiled, read_messages(complaint_file), read_messages(other_file)
        )
        print(json.dumps(result))
        return 0
    count = found = 0
    for text in _input_lines(arguments.input):
        assessment = compiled.complaints.assess(text)
        print(json.dumps(complaint_line(assessment), ensure_ascii=False))
        count += 1
        found += assessment.kind is ComplaintKind.COMPLAINT
    print(f"{count} messages, {found} complaints", file=sys.stderr)
    return 0


def classify_command(arguments: argparse.Namespace) -> int:
    try:
        compiled = compiled_policy(arguments.policy, arguments.config)
        if getattr(arguments, "kind", "ad") == "complaint":
            return _classify_complaints(compiled, arguments)
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot classify: {error}", file=sys.stderr)
        return 1
    except PolicyChoiceError as error:
        print(error, file=sys.stderr)
        return 2
    except SourceError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 2
    started = time.perf_counter()
    if arguments.labels:
        spam_file, ham_file = (Path(name) for name in arguments.labels)
        result = measure(compiled, read_messages(spam_file), read_messages(ham_file))
        print(json.dumps(result))
        return 0
    count = spam = 0
    for index, text in enumerate(_input_lines(arguments.input)):
        verdict = judge(compiled, text, index)
        print(json.dumps(verdict_line(verdict), ensure_ascii=False))
        count += 1
        spam += verdict.spam
    elapsed = time.perf_counter() - started
    print(f"{count} messages, {spam} spam, {elapsed:.2f}s", file=sys.stderr)
    return 0

"""Warnings for a valid config that will still not work the way the operator expects, in the
config's language (English unless `messages` says otherwise)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from bot.core.classifier import NAIVE_BAYES, load_linear_model, read_sample
from bot.core.config import LoadedConfig, resolve_path, stale_ids
from bot.core.i18n import FALLBACK, Messages
from bot.core.reasons import say_located
from bot.features.rhythm import skipped_in
from bot.store import read_chat_moves
from policies.detect.config import SHIPPED_MODEL
from policies.loader import bare_durations
from policies.rhythm import DAY, Outcome, campaign_start, rehearse
from policies.yamlsource import Located

CHECK_AHEAD = 30 * DAY
"""Scheduled posts are checked this far ahead, campaigns to their end."""
MAX_SKIPPED_SHOWN = 5
ENGLISH = Messages(FALLBACK)


def warnings_for(loaded: LoadedConfig, say: Messages = ENGLISH) -> list[str]:
    notes = []
    config = loaded.config
    if config.staff_chat is None:
        notes.append(
            say.tp(
                "no staff_chat: removal notices, re-invite buttons and rights alarms "
                "only go to the log"
            )
        )
        if any(policy.complaints.enabled for policy in loaded.policies.values()):
            notes.append(
                say.tp(
                    "no staff_chat: complaint tickets are not relayed; the deep link under "
                    "the public reply shows each policy's complaints.templates.contact "
                    "(phone, hours)"
                )
            )
    directory = config.policies_dir
    if directory and not loaded.library.directory_exists():
        notes.append(
            say.tp(
                "policies_dir {directory!r} does not exist; only the presets are available",
                directory=directory,
            )
        )
    notes += moved_chat_warnings(loaded, say)
    notes += bare_duration_warnings(loaded, say)
    notes += missing_codes_files(loaded, say)[1]
    notes += rhythm_warnings(loaded, time.time(), say)
    return notes


def bare_duration_warnings(loaded: LoadedConfig, say: Messages = ENGLISH) -> list[str]:
    """Durations written without a unit in the policy files in use, once each."""
    return bare_durations_in(loaded.documents, say)


def bare_durations_in(documents: Mapping[str, Located], say: Messages = ENGLISH) -> list[str]:
    """The same for policy documents that were read, valid or not: a config with errors is
    warned about too, so that one run of `qunbot check` shows every problem."""
    found: dict[str, None] = {}
    for name in sorted(documents):
        for problem in bare_durations(documents[name]):
            found[say_located(say, problem)] = None
    return list(found)


def moved_chat_warnings(loaded: LoadedConfig, say: Messages = ENGLISH) -> list[str]:
    """Ids in config.yaml of groups that became supergroups: the bot follows them, but the
    file should say the new id."""
    moves = read_chat_moves(loaded.database_path)
    return [
        say.tp("{place} became a supergroup: update it in {file}", place=place, file=loaded.file)
        for place in stale_ids(loaded.config, moves)
    ]


def errors_for(loaded: LoadedConfig, say: Messages = ENGLISH) -> list[str]:
    """What keeps a valid config from working at all: `qunbot check` and `qunbot run` refuse it."""
    return missing_codes_files(loaded, say)[0] + classifier_file_problems(loaded, say)


def classifier_file_problems(loaded: LoadedConfig, say: Messages = ENGLISH) -> list[str]:
    """Ad model and sample files the policies name that cannot be read: `qunbot run` would
    stop at start-up on them, so `qunbot check` says which file and why."""
    problems: dict[str, None] = {}
    for name, policy in sorted(loaded.policies.items()):
        classifier = policy.moderation.detectors.classifier
        if not classifier.enabled:
            continue
        if classifier.model not in {SHIPPED_MODEL, NAIVE_BAYES}:
            try:
                load_linear_model(classifier.model, loaded.base_dir)
            except (OSError, ValueError) as error:
                note = say.tp(
                    "policy {name!r}: classifier.model: {error}; train one with `qunbot train` "
                    "or remove the key to use the shipped model",
                    name=name,
                    error=error,
                )
                problems[note] = None
        for sample in classifier.samples:
            try:
                read_sample(sample, loaded.base_dir)
            except (OSError, UnicodeDecodeError) as error:
                note = say.tp(
                    "policy {name!r}: classifier.samples: {error}", name=name, error=error
                )
                problems[note] = None
    return list(problems)


def rhythm_warnings(loaded: LoadedConfig, now: float, say: Messages = ENGLISH) -> list[str]:
    """Planned posts that would be skipped (promotion cap, quiet hours), and past campaigns."""
    notes = []
    for name, policy in sorted(loaded.policies.items()):
        rhythm = policy.rhythm
        starts = [campaign_start(rhythm, campaign) for campaign in rhythm.campaigns]
        horizon = min(
            max([now + CHECK_AHEAD, *(start + 8 * DAY for start in starts)]), now + 400 * DAY
        )
        skipped = [
            decision
            for decision in rehearse(rhythm, now, horizon)
            if decision.outcome in {Outcome.CAPPED, Outcome.QUIET}
        ]
        for decision in skipped[:MAX_SKIPPED_SHOWN]:
            skipped_post = skipped_in(rhythm, decision, say)
            notes.append(
                say.tp("policy {name!r}: would not post {post}", name=name, post=skipped_post)
            )
        if len(skipped) > MAX_SKIPPED_SHOWN:
            more = len(skipped) - MAX_SKIPPED_SHOWN
            notes.append(say.tp("policy {name!r}: … and {count} more", name=name, count=more))
        for campaign, start in zip(rhythm.campaigns, starts, strict=True):
            if start < now:
                notes.append(
                    say.tp(
                        "policy {name!r}: campaign {campaign!r} started in the past",
                        name=name,
                        campaign=campaign.id,
                    )
                )
    return notes


def missing_codes_files(
    loaded: LoadedConfig, say: Messages = ENGLISH
) -> tuple[list[str], list[str]]:
    """Gift code files the named policies list but that cannot be read: errors for a pool in
    use (the welcome's or a reward's: members would press a button and get nothing), warnings
    for the others."""
    errors: list[str] = []
    warnings: list[str] = []
    for name, policy in sorted(loaded.policies.items()):
        gifts = policy.gifts
        in_use = {gifts.welcome_pool, *(reward.pool for reward in gifts.rewards)}
        for pool_name, pool in gifts.pools.items():
            if pool.codes_file is None:
                continue
            path = resolve_path(loaded.base_dir, pool.codes_file)
            if not path.is_file():
                note = say.tp(
                    "policy {name!r}: gift pool {pool!r}: no codes file {path}",
                    name=name,
                    pool=pool_name,
                    path=path,
                )
                (errors if pool_name in in_use else warnings).append(note)
    return errors, warnings

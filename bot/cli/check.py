"""Warnings for a valid config that will still not work the way the operator expects."""

from __future__ import annotations

import time

from bot.core.classifier import NAIVE_BAYES, load_linear_model, read_sample
from bot.core.config import LoadedConfig, resolve_path, stale_ids
from bot.store import read_chat_moves
from policies.detect.config import SHIPPED_MODEL
from policies.rhythm import DAY, Outcome, campaign_start, rehearse, skipped_line

CHECK_AHEAD = 30 * DAY
"""Scheduled posts are checked this far ahead, campaigns to their end."""
MAX_SKIPPED_SHOWN = 5


def warnings_for(loaded: LoadedConfig) -> list[str]:
    notes = []
    config = loaded.config
    if config.staff_chat is None:
        notes.append(
            "no staff_chat: removal notices, re-invite buttons and rights alarms "
            "only go to the log"
        )
        if any(policy.complaints.enabled for policy in loaded.policies.values()):
            notes.append(
                "no staff_chat: complaint tickets are not relayed; the deep link under the "
                "public reply shows each policy's complaints.templates.contact (phone, hours)"
            )
    directory = config.policies_dir
    if directory and not loaded.library.directory_exists():
        notes.append(f"policies_dir {directory!r} does not exist; only the presets are available")
    notes += moved_chat_warnings(loaded)
    notes += missing_codes_files(loaded)[1]
    notes += rhythm_warnings(loaded, time.time())
    return notes


def moved_chat_warnings(loaded: LoadedConfig) -> list[str]:
    """Ids in config.yaml of groups that became supergroups: the bot follows them, but the
    file should say the new id."""
    moves = read_chat_moves(loaded.database_path)
    return [
        f"{place} became a supergroup: update it in {loaded.file}"
        for place in stale_ids(loaded.config, moves)
    ]


def errors_for(loaded: LoadedConfig) -> list[str]:
    """What keeps a valid config from working at all: `qunbot check` and `qunbot run` refuse it."""
    return missing_codes_files(loaded)[0] + classifier_file_problems(loaded)


def classifier_file_problems(loaded: LoadedConfig) -> list[str]:
    """Ad model and sample files the policies name that cannot be read: `qunbot run` would
    stop at start-up on them, so `qunbot check` says which file and why."""
    problems: dict[str, None] = {}
    for name, policy in sorted(loaded.policies.items()):
        classifier = policy.moderation.detectors.classifier
        if not classifier.enabled:
            continue
        where = f"policy {name!r}: classifier"
        if classifier.model not in {SHIPPED_MODEL, NAIVE_BAYES}:
            try:
                load_linear_model(classifier.model, loaded.base_dir)
            except (OSError, ValueError) as error:
                problems[
                    f"{where}.model: {error}; train one with `qunbot train` or remove "
                    "the key to use the shipped model"
                ] = None
        for sample in classifier.samples:
            try:
                read_sample(sample, loaded.base_dir)
            except (OSError, UnicodeDecodeError) as error:
                problems[f"{where}.samples: {error}"] = None
    return list(problems)


def rhythm_warnings(loaded: LoadedConfig, now: float) -> list[str]:
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
            notes.append(f"policy {name!r}: would not post {skipped_line(rhythm, decision)}")
        if len(skipped) > MAX_SKIPPED_SHOWN:
            notes.append(f"policy {name!r}: … and {len(skipped) - MAX_SKIPPED_SHOWN} more")
        for campaign, start in zip(rhythm.campaigns, starts, strict=True):
            if start < now:
                notes.append(f"policy {name!r}: campaign {campaign.id!r} started in the past")
    return notes


def missing_codes_files(loaded: LoadedConfig) -> tuple[list[str], list[str]]:
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
                note = f"policy {name!r}: gift pool {pool_name!r}: no codes file {path}"
                (errors if pool_name in in_use else warnings).append(note)
    return errors, warnings

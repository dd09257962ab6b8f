"""Admin commands that steer the group's policy: /mode /ladder /policy /set /reload /allow
/block /dryrun /why /status. They are registered from the command table (`handlers.commands`)."""

from __future__ import annotations

import json

import yaml

from bot.features.bot_data import BotData
from bot.features.command_call import CommandCall
from bot.features.commands import usage
from bot.telegram.extract import replied_to
from bot.telegram.rights import rights_report
from policies.durations import format_duration
from policies.schema import Mode
from policies.yamlsource import SourceError


async def set_mode(call: CommandCall, app: BotData) -> None:
    """Switch the group's first response to ad posters."""
    choice = call.args[0].lower() if call.args else ""
    if choice not in {mode.value for mode in Mode}:
        await call.answer(f"Usage: {usage('mode')}")
        return
    path = ("moderation", "mode")
    problem = await app.settings.override(call.group, call.chat_title, path, choice, call.actor_id)
    await call.answer(problem or f"Mode is now {choice}.")


async def set_ladder(call: CommandCall, app: BotData) -> None:
    """Show the ladder, or set it: steps separated by commas."""
    policy = (await call.services.policies.policy_for(call.group)).policy
    if not call.args:
        steps = " → ".join(step.label() for step in policy.moderation.ladder)
        await call.answer(f"Ladder: {steps} (mode {policy.moderation.mode.value} starts it)")
        return
    wanted = [step.strip() for step in " ".join(call.args).split(",") if step.strip()]
    problem = await app.settings.override(
        call.group, call.chat_title, ("moderation", "ladder"), wanted, call.actor_id
    )
    await call.answer(f"Not changed: {problem}" if problem else f"Ladder: {' → '.join(wanted)}")


async def show_policy(call: CommandCall, app: BotData) -> None:
    """The effective policy in short, with this group's overrides."""
    policy = (await call.services.policies.policy_for(call.group)).policy
    overrides, dry_run = await call.services.policies.settings(call.group)
    moderation = policy.moderation
    lines = [
        f"Policy: {call.services.loaded.config.policy_for(call.group)} ({policy.name})",
        f"Mode: {moderation.mode.value}; ladder: "
        + " → ".join(step.label() for step in moderation.ladder),
        f"Window {_duration(moderation.window)}, re-invite after "
        f"{_duration(moderation.reinvite_after)}, call-outs every "
        f"{_duration(moderation.callout_interval)}",
        "Allowed: " + (", ".join(moderation.detectors.links.allow) or "none"),
        f"Dry-run: {'on' if dry_run else 'off'}",
        "Overrides: " + (json.dumps(overrides, ensure_ascii=False) if overrides else "none"),
    ]
    await call.answer("\n".join(lines))


def _duration(seconds: float) -> str:
    return format_duration(seconds)


async def set_key(call: CommandCall, app: BotData) -> None:
    """Override one policy key for this group, checked by the schema."""
    if len(call.args) < 2:
        await call.answer(f"Usage: {usage('set')}")
        return
    path = tuple(call.args[0].split("."))
    try:
        value = yaml.safe_load(" ".join(call.args[1:]))
    except yaml.YAMLError:
        await call.answer(f"Cannot read that value. Usage: {usage('set')}")
        return
    problem = await app.settings.override(call.group, call.chat_title, path, value, call.actor_id)
    await call.answer(f"Not changed: {problem}" if problem else f"{'.'.join(path)} = {value}")


async def reload_policies(call: CommandCall, app: BotData) -> None:
    """Re-read the policy files; on an error keep the old policy and say where it is."""
    loaded = call.services.loaded
    names = {loaded.config.default_policy, *(group.policy for group in loaded.config.groups)}
    try:
        call.services.policies.reload(sorted(names))
    except SourceError as error:
        listed = "\n".join(str(problem) for problem in error.problems[:5])
        await call.answer(f"Kept the old policies; fix these and /reload again:\n{listed}")
        return
    await call.answer(f"Reloaded {len(names)} policies.")


async def allow_link(call: CommandCall, app: BotData) -> None:
    """Never treat this domain or channel as an ad in this group."""
    if len(call.args) != 1:
        await call.answer(f"Usage: {usage('allow')}")
        return
    policy = (await call.services.policies.policy_for(call.group)).policy
    allowed = [*policy.moderation.detectors.links.allow, call.args[0]]
    path = ("moderation", "detectors", "links", "allow")
    problem = await app.settings.override(
        call.group, call.chat_title, path, allowed, call.actor_id
    )
    await call.answer(f"Not changed: {problem}" if problem else f"Allowed: {call.args[0]}")


async def block_word(call: CommandCall, app: BotData) -> None:
    """Count a word or phrase as an ad on its own in this group."""
    if not call.args:
        await call.answer(f"Usage: {usage('block')}")
        return
    word = " ".join(call.args)
    policy = (await call.services.policies.policy_for(call.group)).policy
    entries = [entry.model_dump() for entry in policy.moderation.detectors.keywords.entries]
    entries.append({"pattern": word, "weight": 1.0})
    path = ("moderation", "detectors", "keywords", "entries")
    problem = await app.settings.override(
        call.group, call.chat_title, path, entries, call.actor_id
    )
    await call.answer(f"Not changed: {problem}" if problem else f"Blocked: {word}")


async def set_dry_run(call: CommandCall, app: BotData) -> None:
    """Decide and report, but touch nothing, until switched off again."""
    choice = call.args[0].lower() if call.args else ""
    if choice not in {"on", "off"}:
        await call.answer(f"Usage: {usage('dryrun')}")
        return
    await app.settings.set_dry_run(call.group, call.chat_title, choice == "on", call.actor_id)
    await call.answer(f"Dry-run is {choice}.")


async def explain_action(call: CommandCall, app: BotData) -> None:
    """Which rules fired and what was done, for an action id or a replied-to message."""
    number = call.args[0].lstrip("#") if call.args else ""
    entry_id = int(number) if number.isascii() and number.isdigit() else None
    if call.args and entry_id is None:
        await call.answer(f"Usage: {usage('why')}")
        return
    replied = replied_to(call.message)
    replied_id = replied.message_id if replied is not None else None
    entry = await app.settings.audit_entry(call.group, entry_id, replied_id)
    if entry is None:
        await call.answer(f"Nothing recorded for that. Usage: {usage('why')}")
        return
    verdict = entry.verdict
    rules = ", ".join(hit["rule"] for hit in verdict.get("hits", [])) or "none"
    action = verdict.get("step") if entry.action == "notice" else entry.action
    await call.answer(f"#{entry.id} {action}: rules {rules}\n{verdict.get('explanation', '')}")


async def show_status(call: CommandCall, app: BotData) -> None:
    """Which rights qunbot has here, which it lacks, and whether it sees every message."""
    await call.answer(await rights_report(call.bot, call.group))

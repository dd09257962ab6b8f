"""Admin commands that steer the group's policy: /mode /ladder /policy /set /reload /allow
/block /dryrun /lang /why /status. They are registered from the command table
(`handlers.commands`)."""

from __future__ import annotations

import json

import yaml

from bot.core.i18n import supported
from bot.features.bot_data import BotData
from bot.features.command_call import CommandCall
from bot.features.explain import explain_entry
from bot.telegram.extract import replied_to
from bot.telegram.rights import rights_report
from policies.schema import Mode
from policies.yamlsource import SourceError


async def set_mode(call: CommandCall, app: BotData) -> None:
    """Switch the group's first response to ad posters."""
    choice = call.args[0].lower() if call.args else ""
    if choice not in {mode.value for mode in Mode}:
        await call.answer(call.messages.tp("Usage: {usage}", usage=call.usage()))
        return
    path = ("moderation", "mode")
    problem = await app.settings.override(call.group, call.chat_title, path, choice, call.actor_id)
    done = call.messages.tp("Mode is now {mode}.", mode=call.messages.step(choice))
    await call.answer(problem or done)


async def set_ladder(call: CommandCall, app: BotData) -> None:
    """Show the ladder, or set it: steps separated by commas."""
    policy = (await call.services.policies.policy_for(call.group)).policy
    say = call.messages
    if not call.args:
        steps = say.ladder(policy.moderation.ladder)
        mode = say.step(policy.moderation.mode.value)
        await call.answer(
            say.tp("Ladder: {steps} (mode {mode} starts it)", steps=steps, mode=mode)
        )
        return
    wanted = [step.strip() for step in " ".join(call.args).split(",") if step.strip()]
    problem = await app.settings.override(
        call.group, call.chat_title, ("moderation", "ladder"), wanted, call.actor_id
    )
    if problem:
        await call.answer(say.tp("Not changed: {problem}", problem=problem))
        return
    await call.answer(say.tp("Ladder: {steps}", steps=" → ".join(say.step(s) for s in wanted)))


async def show_policy(call: CommandCall, app: BotData) -> None:
    """The effective policy in short, with this group's overrides."""
    policy = (await call.services.policies.policy_for(call.group)).policy
    overrides, dry_run = await call.services.policies.settings(call.group)
    moderation, say = policy.moderation, call.messages
    none = say.tp("none")
    name = call.services.loaded.config.policy_for(call.group)
    lines = [
        say.tp("Policy: {name} ({title})", name=name, title=policy.name),
        say.tp("Language: {language}", language=say.language),
        say.tp(
            "Mode: {mode}; ladder: {steps}",
            mode=say.step(moderation.mode.value),
            steps=say.ladder(moderation.ladder),
        ),
        say.tp(
            "Window {window}, re-invite after {reinvite}, call-outs every {interval}",
            window=say.duration(moderation.window),
            reinvite=say.duration(moderation.reinvite_after),
            interval=say.duration(moderation.callout_interval),
        ),
        say.tp(
            "Allowed: {allowed}", allowed=say.listing(moderation.detectors.links.allow) or none
        ),
        say.tp("Dry-run: {state}", state=say.tp("on") if dry_run else say.tp("off")),
        say.tp(
            "Overrides: {overrides}",
            overrides=json.dumps(overrides, ensure_ascii=False) if overrides else none,
        ),
    ]
    await call.answer("\n".join(lines))


async def set_key(call: CommandCall, app: BotData) -> None:
    """Override one policy key for this group, checked by the schema."""
    say = call.messages
    if len(call.args) < 2:
        await call.answer(say.tp("Usage: {usage}", usage=call.usage()))
        return
    path = tuple(call.args[0].split("."))
    try:
        value = yaml.safe_load(" ".join(call.args[1:]))
    except yaml.YAMLError:
        await call.answer(say.tp("Cannot read that value. Usage: {usage}", usage=call.usage()))
        return
    problem = await app.settings.override(call.group, call.chat_title, path, value, call.actor_id)
    if problem:
        await call.answer(say.tp("Not changed: {problem}", problem=problem))
        return
    await call.answer(say.tp("{key} = {value}", key=".".join(path), value=value))


async def reload_policies(call: CommandCall, app: BotData) -> None:
    """Re-read the policy files; on an error keep the old policy and say where it is."""
    loaded = call.services.loaded
    names = {loaded.config.default_policy, *(group.policy for group in loaded.config.groups)}
    try:
        call.services.policies.reload(sorted(names))
    except SourceError as error:
        listed = "\n".join(str(problem) for problem in error.problems[:5])
        await call.answer(
            call.messages.tp(
                "Kept the old policies; fix these and /reload again:\n{problems}", problems=listed
            )
        )
        return
    await call.answer(
        call.messages.tnp("Reloaded {count} policy.", "Reloaded {count} policies.", len(names))
    )


async def allow_link(call: CommandCall, app: BotData) -> None:
    """Never treat this domain or channel as an ad in this group."""
    if len(call.args) != 1:
        await call.answer(call.messages.tp("Usage: {usage}", usage=call.usage()))
        return
    policy = (await call.services.policies.policy_for(call.group)).policy
    allowed = [*policy.moderation.detectors.links.allow, call.args[0]]
    path = ("moderation", "detectors", "links", "allow")
    problem = await app.settings.override(
        call.group, call.chat_title, path, allowed, call.actor_id
    )
    if problem:
        await call.answer(call.messages.tp("Not changed: {problem}", problem=problem))
        return
    await call.answer(call.messages.tp("Allowed: {allowed}", allowed=call.args[0]))


async def block_word(call: CommandCall, app: BotData) -> None:
    """Count a word or phrase as an ad on its own in this group."""
    if not call.args:
        await call.answer(call.messages.tp("Usage: {usage}", usage=call.usage()))
        return
    word = " ".join(call.args)
    policy = (await call.services.policies.policy_for(call.group)).policy
    entries = [entry.model_dump() for entry in policy.moderation.detectors.keywords.entries]
    entries.append({"pattern": word, "weight": 1.0})
    path = ("moderation", "detectors", "keywords", "entries")
    problem = await app.settings.override(
        call.group, call.chat_title, path, entries, call.actor_id
    )
    if problem:
        await call.answer(call.messages.tp("Not changed: {problem}", problem=problem))
        return
    await call.answer(call.messages.tp("Blocked: {word}", word=word))


async def set_dry_run(call: CommandCall, app: BotData) -> None:
    """Decide and report, but touch nothing, until switched off again."""
    choice = call.args[0].lower() if call.args else ""
    if choice not in {"on", "off"}:
        await call.answer(call.messages.tp("Usage: {usage}", usage=call.usage()))
        return
    await app.settings.set_dry_run(call.group, call.chat_title, choice == "on", call.actor_id)
    state = call.messages.tp("on") if choice == "on" else call.messages.tp("off")
    await call.answer(call.messages.tp("Dry-run is {state}.", state=state))


async def set_language(call: CommandCall, app: BotData) -> None:
    """The language qunbot speaks in this group (its replies, notices' placeholders, menus'
    answers); the policy's templates stay as written."""
    choice = supported(call.args[0]) if len(call.args) == 1 else None
    if choice is None:
        await call.answer(call.messages.tp("Usage: {usage}", usage=call.usage()))
        return
    path = ("language",)
    problem = await app.settings.override(call.group, call.chat_title, path, choice, call.actor_id)
    if problem:
        await call.answer(call.messages.tp("Not changed: {problem}", problem=problem))
        return
    now_speaking = call.services.catalogs.get(choice)
    await call.answer(now_speaking.tp("I speak English in this group now."))


async def explain_action(call: CommandCall, app: BotData) -> None:
    """Which rules fired and what was done, for an action id or a replied-to message."""
    number = call.args[0].lstrip("#") if call.args else ""
    entry_id = int(number) if number.isascii() and number.isdigit() else None
    say = call.messages
    if call.args and entry_id is None:
        await call.answer(say.tp("Usage: {usage}", usage=call.usage()))
        return
    replied = replied_to(call.message)
    replied_id = replied.message_id if replied is not None else None
    entry = await app.settings.audit_entry(call.group, entry_id, replied_id)
    if entry is None:
        await call.answer(say.tp("Nothing recorded for that. Usage: {usage}", usage=call.usage()))
        return
    await call.answer(explain_entry(entry, say))


async def show_status(call: CommandCall, app: BotData) -> None:
    """Which rights qunbot has here, which it lacks, and whether it sees every message."""
    await call.answer(await rights_report(call.bot, call.group, call.messages))

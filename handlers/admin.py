"""Admin commands that steer the group's policy: /mode /ladder /policy /set /reload /allow
/block /dryrun /why /status /help. Member actions live in `handlers.member_commands`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import yaml
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
    Update,
)
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.core.runtime import runtime_of
from bot.features.admin_call import AdminCall, admin_call
from bot.telegram.permissions import sent_by_admin
from bot.telegram.rights import rights_report
from policies.schema import Mode
from policies.yamlsource import SourceError

ADMIN_GROUP = 0
AdminCommand = Callable[[AdminCall], Awaitable[None]]

USAGE = {
    "mode": "/mode soft|neutral|hard",
    "ladder": "/ladder [STEP, STEP, ...]  e.g. /ladder mute 1d, mute 7d, hard",
    "policy": "/policy",
    "set": "/set KEY VALUE  e.g. /set moderation.reinvite_after 12h",
    "reload": "/reload",
    "allow": "/allow DOMAIN_OR_@CHANNEL",
    "block": "/block WORD",
    "dryrun": "/dryrun on|off",
    "why": "/why ACTION_ID, or as a reply to a bot notice",
    "status": "/status",
    "tickets": "/tickets",
    "close": "/close ID (or as a reply)",
    "stats": "/stats [7d|30d]",
    "inactive": "/inactive 30d [remove]",
}
"""Every admin command, with the usage line shown on a mistake and in /help."""
MEMBER_COMMANDS = {"help": "/help", "rules": "/rules", "report": "/report (as a reply)"}


def register(application: Application) -> None:  # type: ignore[type-arg]
    commands: dict[str, AdminCommand] = {
        "mode": set_mode,
        "ladder": set_ladder,
        "policy": show_policy,
        "set": set_key,
        "reload": reload_policies,
        "allow": allow_link,
        "block": block_word,
        "dryrun": set_dry_run,
        "why": explain_action,
        "status": show_status,
    }
    for name, command in commands.items():
        application.add_handler(CommandHandler(name, _as_handler(command)), group=ADMIN_GROUP)
    application.add_handler(CommandHandler("help", show_help), group=ADMIN_GROUP)
    runtime_of(application).on_ready.append(publish_command_menus)


def _as_handler(
    command: AdminCommand,
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        call = await admin_call(update, context)
        if call is not None:
            await command(call)

    handle.__doc__ = command.__doc__
    return handle


async def publish_command_menus(application: Application) -> None:  # type: ignore[type-arg]
    """Members see their few commands; admins see everything, via command scopes."""
    from handlers.member_commands import USAGE as MEMBER_USAGE

    members = [BotCommand(name, _describe(usage)) for name, usage in MEMBER_COMMANDS.items()]
    admins = members + [
        BotCommand(name, _describe(usage)) for name, usage in {**USAGE, **MEMBER_USAGE}.items()
    ]
    await application.bot.set_my_commands(members, scope=BotCommandScopeDefault())
    await application.bot.set_my_commands(admins, scope=BotCommandScopeAllChatAdministrators())


def _describe(usage: str) -> str:
    return (usage.split(" ", 1)[1] if " " in usage else usage.lstrip("/"))[:256]


async def _override(call: AdminCall, path: tuple[str, ...], value: Any) -> str | None:
    """Store a per-group override once the schema accepts it; else say why not."""
    overrides, _ = await call.rt.group_settings(call.chat_id)
    updated = json.loads(json.dumps(overrides))
    node = updated
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    try:
        call.rt.validate_policy(call.rt.loaded.config.policy_for(call.chat_id), updated)
    except SourceError as error:
        return "; ".join(f"{p.path}: {p.message}" for p in error.problems[:3])
    await call.rt.note_group(call.chat_id, call.chat_title)
    await call.rt.store.groups.set_overrides(call.chat_id, updated, call.rt.now())
    call.rt.invalidate_group(call.chat_id)
    await call.rt.store.audit.add(
        call.chat_id,
        call.rt.now(),
        f"set {'.'.join(path)}",
        actor_id=call.actor_id,
        text=json.dumps(value, ensure_ascii=False),
    )
    return None


async def set_mode(call: AdminCall) -> None:
    """Switch the group's first response to ad posters."""
    choice = call.args[0].lower() if call.args else ""
    if choice not in {mode.value for mode in Mode}:
        await call.reply(f"Usage: {USAGE['mode']}")
        return
    problem = await _override(call, ("moderation", "mode"), choice)
    await call.reply(problem or f"Mode is now {choice}.")


async def set_ladder(call: AdminCall) -> None:
    """Show the ladder, or set it: steps separated by commas."""
    policy = (await call.rt.policy_for(call.chat_id)).policy
    if not call.args:
        steps = " → ".join(step.label() for step in policy.moderation.ladder)
        await call.reply(f"Ladder: {steps} (mode {policy.moderation.mode.value} starts it)")
        return
    wanted = [step.strip() for step in " ".join(call.args).split(",") if step.strip()]
    problem = await _override(call, ("moderation", "ladder"), wanted)
    await call.reply(f"Not changed: {problem}" if problem else f"Ladder: {' → '.join(wanted)}")


async def show_policy(call: AdminCall) -> None:
    """The effective policy in short, with this group's overrides."""
    policy = (await call.rt.policy_for(call.chat_id)).policy
    overrides, dry_run = await call.rt.group_settings(call.chat_id)
    moderation = policy.moderation
    lines = [
        f"Policy: {call.rt.loaded.config.policy_for(call.chat_id)} ({policy.name})",
        f"Mode: {moderation.mode.value}; ladder: "
        + " → ".join(step.label() for step in moderation.ladder),
        f"Window {_duration(moderation.window)}, re-invite after "
        f"{_duration(moderation.reinvite_after)}, call-outs every "
        f"{_duration(moderation.callout_interval)}",
        "Allowed: " + (", ".join(moderation.detectors.links.allow) or "none"),
        f"Dry-run: {'on' if dry_run else 'off'}",
        "Overrides: " + (json.dumps(overrides, ensure_ascii=False) if overrides else "none"),
    ]
    await call.reply("\n".join(lines))


def _duration(seconds: float) -> str:
    from policies.durations import format_duration

    return format_duration(seconds)


async def set_key(call: AdminCall) -> None:
    """Override one policy key for this group, checked by the schema."""
    if len(call.args) < 2:
        await call.reply(f"Usage: {USAGE['set']}")
        return
    path = tuple(call.args[0].split("."))
    try:
        value = yaml.safe_load(" ".join(call.args[1:]))
    except yaml.YAMLError:
        await call.reply(f"Cannot read that value. Usage: {USAGE['set']}")
        return
    problem = await _override(call, path, value)
    await call.reply(f"Not changed: {problem}" if problem else f"{'.'.join(path)} = {value}")


async def reload_policies(call: AdminCall) -> None:
    """Re-read the policy files; on an error keep the old policy and say where it is."""
    loaded = call.rt.loaded
    names = {loaded.config.default_policy, *(group.policy for group in loaded.config.groups)}
    try:
        call.rt.reload_policies(sorted(names))
    except SourceError as error:
        listed = "\n".join(str(problem) for problem in error.problems[:5])
        await call.reply(f"Kept the old policies; fix these and /reload again:\n{listed}")
        return
    await call.reply(f"Reloaded {len(names)} policies.")


async def allow_link(call: AdminCall) -> None:
    """Never treat this domain or channel as an ad in this group."""
    if len(call.args) != 1:
        await call.reply(f"Usage: {USAGE['allow']}")
        return
    policy = (await call.rt.policy_for(call.chat_id)).policy
    allowed = [*policy.moderation.detectors.links.allow, call.args[0]]
    path = ("moderation", "detectors", "links", "allow")
    problem = await _override(call, path, allowed)
    await call.reply(f"Not changed: {problem}" if problem else f"Allowed: {call.args[0]}")


async def block_word(call: AdminCall) -> None:
    """Count a word or phrase as an ad on its own in this group."""
    if not call.args:
        await call.reply(f"Usage: {USAGE['block']}")
        return
    word = " ".join(call.args)
    policy = (await call.rt.policy_for(call.chat_id)).policy
    entries = [entry.model_dump() for entry in policy.moderation.detectors.keywords.entries]
    entries.append({"pattern": word, "weight": 1.0})
    path = ("moderation", "detectors", "keywords", "entries")
    problem = await _override(call, path, entries)
    await call.reply(f"Not changed: {problem}" if problem else f"Blocked: {word}")


async def set_dry_run(call: AdminCall) -> None:
    """Decide and report, but touch nothing, until switched off again."""
    choice = call.args[0].lower() if call.args else ""
    if choice not in {"on", "off"}:
        await call.reply(f"Usage: {USAGE['dryrun']}")
        return
    rt = call.rt
    await rt.note_group(call.chat_id, call.chat_title)
    await rt.store.groups.set_dry_run(call.chat_id, choice == "on", rt.now())
    rt.invalidate_group(call.chat_id)
    await rt.store.audit.add(call.chat_id, rt.now(), f"dryrun {choice}", actor_id=call.actor_id)
    await call.reply(f"Dry-run is {choice}.")


async def explain_action(call: AdminCall) -> None:
    """Which rules fired and what was done, for an action id or a replied-to message."""
    store, entry = call.rt.store, None
    replied = call.message.reply_to_message
    if call.args and call.args[0].lstrip("#").isdigit():
        entry = await store.audit.get(int(call.args[0].lstrip("#")))
    elif replied is not None:
        entry = await store.audit.for_message(call.chat_id, replied.message_id)
    if entry is None or entry.chat_id != call.chat_id:
        await call.reply(f"Nothing recorded for that. Usage: {USAGE['why']}")
        return
    verdict = entry.verdict
    rules = ", ".join(hit["rule"] for hit in verdict.get("hits", [])) or "none"
    action = verdict.get("step") if entry.action == "notice" else entry.action
    await call.reply(f"#{entry.id} {action}: rules {rules}\n{verdict.get('explanation', '')}")


async def show_status(call: AdminCall) -> None:
    """Which rights qunbot has here, which it lacks, and whether it sees every message."""
    await call.reply(await rights_report(call.bot, call.chat_id))


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands the caller may use."""
    message = update.effective_message
    if message is None:
        return
    from handlers.member_commands import USAGE as MEMBER_USAGE

    lines = list(MEMBER_COMMANDS.values())
    if message.chat.type != "private" and await sent_by_admin(context.bot, message):
        lines += [*USAGE.values(), *MEMBER_USAGE.values()]
        lines.append("In private with the bot, put the group id first: /mode -100123 soft")
    await message.reply_text("Commands you can use:\n" + "\n".join(lines))

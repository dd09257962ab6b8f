"""Admin slash commands in groups: /mode, /why, /dryrun and /help."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.permissions import sent_by_admin
from bot.runtime import Runtime, runtime
from policies.schema import Mode

ADMIN_GROUP = 0
USAGE = {
    "mode": "/mode soft|neutral|hard",
    "why": "/why (as a reply to the bot's message or to the removed message's notice)",
    "dryrun": "/dryrun on|off",
}


def register(application: Application) -> None:  # type: ignore[type-arg]
    groups = filters.ChatType.GROUPS
    for name, callback in (
        ("mode", set_mode),
        ("why", explain_action),
        ("dryrun", set_dry_run),
        ("help", show_help),
    ):
        application.add_handler(CommandHandler(name, callback, groups), group=ADMIN_GROUP)


async def _admin_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Message | None:
    """The command message if its sender is an admin of this group now, else refuse."""
    message = update.effective_message
    if message is None:
        return None
    if await sent_by_admin(context.bot, message):
        return message
    await message.reply_text("Only admins of this group can use this command.")
    return None


async def _set_override(rt: Runtime, chat_id: int, path: tuple[str, ...], value: object) -> None:
    overrides, _ = await rt.group_settings(chat_id)
    updated = dict(overrides)
    node = updated
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    rt.loaded.library.load(rt.loaded.config.policy_for(chat_id), overrides=updated)
    await rt.store.groups.set_overrides(chat_id, updated, rt.now())
    rt.invalidate_group(chat_id)


async def set_mode(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Switch the group's first response to ad posters."""
    message = await _admin_message(update, context)
    if message is None:
        return
    choice = (context.args or [""])[0].lower()
    if choice not in {mode.value for mode in Mode}:
        await message.reply_text(f"Usage: {USAGE['mode']}")
        return
    rt = runtime(context)
    await rt.note_group(message.chat_id, message.chat.title or "")
    await _set_override(rt, message.chat_id, ("moderation", "mode"), choice)
    await rt.store.audit.add(message.chat_id, rt.now(), f"mode {choice}", actor_id=_actor(message))
    await message.reply_text(f"Mode is now {choice}.")


async def set_dry_run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Decide and report, but touch nothing, until switched off again."""
    message = await _admin_message(update, context)
    if message is None:
        return
    choice = (context.args or [""])[0].lower()
    if choice not in {"on", "off"}:
        await message.reply_text(f"Usage: {USAGE['dryrun']}")
        return
    rt = runtime(context)
    await rt.note_group(message.chat_id, message.chat.title or "")
    await rt.store.groups.set_dry_run(message.chat_id, choice == "on", rt.now())
    rt.invalidate_group(message.chat_id)
    await rt.store.audit.add(
        message.chat_id, rt.now(), f"dryrun {choice}", actor_id=_actor(message)
    )
    await message.reply_text(f"Dry-run is {choice}.")


async def explain_action(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say which rules fired and what was done, for an action id or a replied-to message."""
    message = await _admin_message(update, context)
    if message is None:
        return
    rt = runtime(context)
    entry = None
    if context.args and context.args[0].lstrip("#").isdigit():
        entry = await rt.store.audit.get(int(context.args[0].lstrip("#")))
    elif message.reply_to_message is not None:
        entry = await rt.store.audit.for_message(
            message.chat_id, message.reply_to_message.message_id
        )
    if entry is None or entry.chat_id != message.chat_id:
        await message.reply_text(f"Nothing recorded for that. Usage: {USAGE['why']} or /why ID")
        return
    verdict = entry.verdict
    rules = ", ".join(hit["rule"] for hit in verdict.get("hits", [])) or "none"
    await message.reply_text(
        f"#{entry.id} {entry.action}: rules {rules}\n{verdict.get('explanation', '')}"
    )


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands the caller may use."""
    message = update.effective_message
    if message is None:
        return
    if await sent_by_admin(context.bot, message):
        await message.reply_text("Admin commands:\n" + "\n".join(USAGE.values()))
    else:
        await message.reply_text("qunbot keeps this group free of ads. Admins steer it.")


def _actor(message: Message) -> int | None:
    return message.from_user.id if message.from_user else None

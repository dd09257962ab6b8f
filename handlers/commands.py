"""Every slash command, registered from the command table (`bot.features.commands`): one
wrapper authorises the caller, resolves the member a command is about, and turns Telegram's
refusals into a short answer. `/help` and the command menus are read from the same table."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.core.i18n import N_, Messages
from bot.features.bot_data import BotData, Context
from bot.features.command_call import (
    CommandCall,
    authorise,
    group_administered,
    named,
    reply_to,
    target_from_notice,
    unknown_username,
)
from bot.features.commands import (
    BY_NAME,
    COMMANDS,
    MEANT_A_COMMAND,
    Command,
    Where,
    Who,
    command_meant,
    menu_description,
)
from bot.telegram.permissions import sent_by_admin
from handlers import admin, complaints, private, sanctions, stats, welcome

COMMANDS_GROUP = 0
"""After moderation (-10): a command that is also an ad is removed, not answered."""

CommandFunction = Callable[[CommandCall, BotData], Awaitable[None]]


async def show_help(call: CommandCall, app: BotData) -> None:
    """List the commands the caller may use here; in private, an admin's with a group's id."""
    private = call.message.chat.type == "private"
    if private and call.actor_id is not None:
        group = await group_administered(call.services, call.bot, call.actor_id)
        if group is not None:
            await call.answer(await _private_admin_help(call, group))
            return
    is_admin = not private and await sent_by_admin(call.bot, call.message)
    shown = [c for c in COMMANDS if c.in_menu and (c.for_members or is_admin)]
    if private:  # /report and the like only work in the group
        shown = [c for c in shown if Where.PRIVATE in c.where]
    say = call.messages
    lines = [say.tp(command.usage) for command in shown]
    if is_admin:
        lines.append(say.tp("In private with the bot, put the group id first: /mode -100123 soft"))
    await call.answer(say.tp("Commands you can use:\n{commands}", commands="\n".join(lines)))


PRIVATE_ADMIN_HELP = N_(
    "Commands you can use here, for {title} or any group you administer, with its id first:"
    "\n{commands}"
)


async def _private_admin_help(call: CommandCall, group: int) -> str:
    """What an admin can do from the private chat: every command that works here, the
    group's id put where it goes; the commands that work only in a group are left out."""
    say = call.messages
    shown = [
        c
        for c in COMMANDS
        if c.in_menu
        and Where.PRIVATE in c.where
        and not c.needs_reply
        and (c.for_members or Who.ADMIN in c.who)
    ]
    lines = [
        _with_group(say.tp(c.usage), c.name, group)
        if c.needs_group and not c.for_members
        else say.tp(c.usage)
        for c in shown
    ]
    title = (await call.services.chat_info.get(call.bot, group)).title or str(group)
    named = say.tp("{title} ({id})", title=title, id=group)
    return say.tp(PRIVATE_ADMIN_HELP, title=named, commands="\n".join(lines))


def _with_group(usage: str, name: str, group: int) -> str:
    """A usage line with the group's id after each mention of its command (examples too)."""
    return re.sub(rf"(?<![\w/])/{name}\b", f"/{name} {group}", usage)


FUNCTIONS: dict[str, CommandFunction] = {
    "help": show_help,
    "rules": welcome.show_rules,
    "report": sanctions.report,
    "start": private.start_private,
    "mode": admin.set_mode,
    "ladder": admin.set_ladder,
    "policy": admin.show_policy,
    "set": admin.set_key,
    "reload": admin.reload_policies,
    "allow": admin.allow_link,
    "block": admin.block_word,
    "dryrun": admin.set_dry_run,
    "lang": admin.set_language,
    "why": admin.explain_action,
    "status": admin.show_status,
    "id": admin.show_chat_id,
    "trust": sanctions.trust,
    "untrust": sanctions.untrust,
    "warn": sanctions.warn,
    "unwarn": sanctions.unwarn,
    "mute": sanctions.mute,
    "unmute": sanctions.unmute,
    "kick": sanctions.kick,
    "ban": sanctions.ban,
    "unban": sanctions.unban,
    "pardon": sanctions.pardon,
    "spam": sanctions.mark_spam,
    "notspam": sanctions.mark_not_spam,
    "stats": stats.show_stats,
    "inactive": stats.show_inactive,
    "tickets": complaints.list_tickets,
    "close": complaints.close_ticket,
    "notcomplaint": complaints.not_a_complaint,
}
"""The function of each command in the table, by name."""


def register(application: Application) -> None:  # type: ignore[type-arg]
    missing = set(BY_NAME) ^ set(FUNCTIONS)
    if missing:
        raise RuntimeError(f"commands without a table row or a function: {sorted(missing)}")
    staff_chat = application.bot_data.services.staff.staff_chat
    for command in COMMANDS:
        handler = CommandHandler(
            command.name,
            _as_handler(command, FUNCTIONS[command.name]),
            _places(command, staff_chat),
        )
        application.add_handler(handler, group=COMMANDS_GROUP)
    meant = MEANT_A_COMMAND & ~filters.UpdateType.EDITED
    application.add_handler(MessageHandler(meant, point_to_command), group=COMMANDS_GROUP)
    application.bot_data.services.on_ready.append(publish_command_menus)


async def point_to_command(update: Update, context: Context) -> None:
    """`/帮助` reaches the bot as text (Telegram reads only Latin letters after "/"): answer
    with the command it meant, in the chat's language, where the member may use it."""
    message = update.effective_message
    if message is None or message.text is None or message.from_user is None:
        return
    services, name = context.bot_data.services, command_meant(message.text)
    private = message.chat.type == "private"
    say = await (
        services.messages_for_member(message.from_user.id)
        if private
        else services.messages_for(message.chat_id)
    )
    staff_chat = message.chat_id == services.staff.staff_chat  # staff steer the bot there
    steering = private or staff_chat or await sent_by_admin(context.bot, message)
    if not (steering or name in {"help", "rules", "report"}):
        return
    if name is None:
        hint = say.tp("Commands are written in Latin letters: /help lists them.")
    elif steering:
        typed, *rest = message.text.split()
        hint = say.tp(
            "Commands are written in Latin letters: for {typed}, send /{command}.",
            typed=typed,
            command=" ".join([name, *rest]),
        )
    else:
        # A member's own words are never repeated in the bot's voice: they may be an ad.
        hint = say.tp("Commands are written in Latin letters: send /{command}.", command=name)
    await reply_to(services, message, hint, html=False)


def _places(command: Command, staff_chat: int | None) -> filters.BaseFilter:
    """Where Telegram should hand this command to the bot."""
    chosen: list[filters.BaseFilter] = []
    if Where.GROUP in command.where:
        chosen.append(filters.ChatType.GROUPS)
    if Where.PRIVATE in command.where:
        chosen.append(filters.ChatType.PRIVATE)
    if Where.STAFF_CHAT in command.where and staff_chat is not None:
        chosen.append(filters.Chat(staff_chat))
    combined = chosen[0]
    for place in chosen[1:]:
        combined = combined | place
    return combined


def _as_handler(
    command: Command, function: CommandFunction
) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    async def handle(update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        app = context.bot_data
        args = list(context.args or [])
        call = await authorise(app.services, context.bot, message, command, args, app.limiter)
        if call is None:
            return
        if command.takes_member and call.target is None:
            call.target = await target_from_notice(call)
        if command.takes_member and call.target is None:
            await call.answer(_whom(call))
            return
        if call.target is not None:
            call.target = await named(call, call.target)
        try:
            await function(call, app)
        except TelegramError as error:
            await call.answer(
                call.messages.tp(
                    "Telegram refused: {error}. Check qunbot's admin rights.", error=error.message
                )
            )

    handle.__doc__ = function.__doc__
    return handle


def _whom(call: CommandCall) -> str:
    unknown = unknown_username(call)
    if unknown is not None:
        return call.messages.tp(UNKNOWN_USERNAME, name=unknown, usage=call.usage())
    return call.messages.tp("Whom? Usage: {usage}", usage=call.usage())


UNKNOWN_USERNAME = N_(
    "I have not seen {name} yet: reply to one of their messages, or give their numeric id. "
    "Usage: {usage}"
)


async def publish_command_menus(application: Application) -> None:  # type: ignore[type-arg]
    """Members see their few commands; admins see everything, via command scopes. One menu per
    language of the catalog (Telegram shows the one of the user's app language), and the
    config's language for everyone else."""
    catalogs = application.bot_data.services.catalogs
    for messages in catalogs.all():
        await _publish_menus(application, messages, messages.language)
    await _publish_menus(application, catalogs.default, None)


async def _publish_menus(
    application: Application,  # type: ignore[type-arg]
    messages: Messages,
    language_code: str | None,
) -> None:
    shown = [command for command in COMMANDS if command.in_menu]
    members = [BotCommand(c.name, menu_description(c, messages)) for c in shown if c.for_members]
    admins = [
        BotCommand(c.name, menu_description(c, messages))
        for c in shown
        if Who.ADMIN in c.who or c.for_members
    ]
    bot = application.bot
    await bot.set_my_commands(members, scope=BotCommandScopeDefault(), language_code=language_code)
    await bot.set_my_commands(
        admins, scope=BotCommandScopeAllChatAdministrators(), language_code=language_code
    )

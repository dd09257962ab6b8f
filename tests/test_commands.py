"""The command table is the one list of commands: registration, /help and menus follow it."""

from __future__ import annotations

from pathlib import Path

from telegram.ext import CommandHandler

from bot.features.commands import BY_NAME, COMMANDS, Who
from tests.harness import ADMIN, GROUP, Harness, make_config


async def test_every_registered_command_has_a_row_and_every_row_is_registered(
    tmp_path: Path,
) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        registered = [
            name
            for handlers in harness.app.handlers.values()
            for handler in handlers
            if isinstance(handler, CommandHandler)
            for name in handler.commands
        ]
        assert sorted(registered) == sorted(BY_NAME)
    finally:
        await harness.stop()


async def test_help_and_menus_come_from_the_table(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        await harness.say(ADMIN, "/help")
        shown = harness.texts_in(GROUP)[-1]
        for command in COMMANDS:
            assert (command.usage in shown) == command.in_menu, command.name
        member = harness.member("bob")
        await harness.say(member, "/help")
        for_members = harness.texts_in(GROUP)[-1]
        for command in COMMANDS:
            expected = command.in_menu and Who.ANYONE in command.who
            assert (command.usage in for_members) == expected, command.name
        menus = {
            call.params["scope"]["type"]: [entry["command"] for entry in call.params["commands"]]
            for call in harness.fake.calls_to("setMyCommands")
        }
        members = [c.name for c in COMMANDS if c.in_menu and Who.ANYONE in c.who]
        assert menus["default"] == members
        assert set(menus["all_chat_administrators"]) == {c.name for c in COMMANDS if c.in_menu}
    finally:
        await harness.stop()

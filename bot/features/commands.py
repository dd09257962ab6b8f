"""The command table: every slash command, who may use it, where, and its usage line.

`/help`, the command menus (`setMyCommands`) and every usage line come from here, and the
composition root registers exactly these commands (a test checks both ways).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from telegram.ext import filters

from bot.core.i18n import N_, Messages


class Who(StrEnum):
    ANYONE = "anyone"
    ADMIN = "admin"
    """An admin of the group at the moment of use (anonymous admins count)."""
    STAFF = "staff"
    """A member of the staff chat, in the staff chat: every group at once."""


class Where(StrEnum):
    GROUP = "group"
    PRIVATE = "private"
    """In the private chat with the bot; admin commands then take the group id first."""
    STAFF_CHAT = "staff chat"


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    usage: str
    """A catalog message id (`N_`): shown translated."""
    summary: str
    who: frozenset[Who]
    where: frozenset[Where]
    takes_member: bool = False
    """The command acts on one member: named by a reply, an @username or an id."""
    takes_duration: bool = False
    """A duration goes with the member, before or after them (`/mute @x 1d`, `/mute 1d @x`)."""
    in_menu: bool = True
    needs_reply: bool = False
    """Works only as a reply to a member's message, so only in the group (/help in private
    leaves it out)."""
    needs_group: bool = True
    """An admin command acts on a group (in private, named by its id first); one that does
    not (/id) answers about the chat it is sent in."""

    @property
    def for_members(self) -> bool:
        return Who.ANYONE in self.who


ADMIN = frozenset({Who.ADMIN})
ANYONE = frozenset({Who.ANYONE})
ADMIN_OR_STAFF = frozenset({Who.ADMIN, Who.STAFF})
GROUP_OR_PRIVATE = frozenset({Where.GROUP, Where.PRIVATE})
GROUP_ONLY = frozenset({Where.GROUP})


def _admin(
    name: str,
    usage: str,
    summary: str,
    *,
    member: bool = False,
    duration: bool = False,
    reply: bool = False,
) -> Command:
    return Command(
        name,
        usage,
        summary,
        ADMIN,
        GROUP_OR_PRIVATE,
        takes_member=member,
        takes_duration=duration,
        needs_reply=reply,
    )


COMMANDS: tuple[Command, ...] = (
    Command("help", N_("/help"), N_("the commands you can use"), ANYONE, GROUP_OR_PRIVATE),
    Command("rules", N_("/rules"), N_("the group rules"), ANYONE, GROUP_ONLY),
    Command(
        "report",
        N_("/report (as a reply)"),
        N_("report a message to the staff"),
        ANYONE,
        GROUP_ONLY,
    ),
    Command(
        "start",
        N_("/start"),
        N_("talk to the bot"),
        ANYONE,
        frozenset({Where.PRIVATE}),
        in_menu=False,
    ),
    _admin("mode", N_("/mode soft|neutral|hard"), N_("how ad posters are handled first")),
    _admin(
        "ladder",
        N_("/ladder [STEP, STEP, ...]  e.g. /ladder mute 1d, mute 7d, hard"),
        N_("how repeat offences escalate"),
    ),
    _admin("policy", N_("/policy"), N_("the group's policy in short")),
    _admin(
        "set", N_("/set KEY VALUE  e.g. /set moderation.reinvite_after 12h"), N_("override a key")
    ),
    _admin("reload", N_("/reload"), N_("re-read the policy files")),
    _admin(
        "allow",
        N_("/allow [link|contact|shop] VALUE  e.g. /allow myshop.com, /allow sunny_cs01"),
        N_("never treat this link, contact or store as an ad"),
    ),
    _admin("block", N_("/block WORD"), N_("count a word as an ad")),
    _admin("dryrun", N_("/dryrun on|off"), N_("decide and report, but touch nobody")),
    _admin("lang", N_("/lang zh|en"), N_("the language qunbot speaks here")),
    Command(
        "why",
        N_("/why ACTION_ID, or as a reply to a bot notice"),
        N_("why something happened"),
        ADMIN_OR_STAFF,
        frozenset({Where.GROUP, Where.PRIVATE, Where.STAFF_CHAT}),
    ),
    _admin("status", N_("/status"), N_("the bot's rights here")),
    _admin(
        "trust", N_("/trust (reply, @username or id)"), N_("never check this member"), member=True
    ),
    _admin(
        "untrust",
        N_("/untrust (reply, @username or id)"),
        N_("check this member again"),
        member=True,
    ),
    _admin(
        "warn",
        N_("/warn [reason] (reply, @username or id)"),
        N_("record an offence by hand"),
        member=True,
    ),
    _admin(
        "unwarn",
        N_("/unwarn (reply, @username or id)"),
        N_("take back the latest offence"),
        member=True,
    ),
    _admin(
        "mute",
        N_("/mute DURATION e.g. /mute 1d (reply, @username or id)"),
        N_("mute a member"),
        member=True,
        duration=True,
    ),
    _admin(
        "unmute",
        N_("/unmute (reply, @username or id)"),
        N_("let a member speak again"),
        member=True,
    ),
    _admin("kick", N_("/kick (reply, @username or id)"), N_("remove a member"), member=True),
    _admin(
        "ban",
        N_("/ban (reply, @username or id)"),
        N_("ban a member here and in the network"),
        member=True,
    ),
    _admin("unban", N_("/unban (@username or id)"), N_("lift a ban"), member=True),
    _admin(
        "pardon",
        N_("/pardon (reply, @username or id)"),
        N_("forget the member's offences"),
        member=True,
    ),
    _admin(
        "spam",
        N_("/spam (reply): remove as an ad, apply the ladder, teach the scorer"),
        N_("remove as an ad"),
        member=True,
        reply=True,
    ),
    _admin(
        "notspam",
        N_(
            "/notspam (reply, @username or id): teach the scorer, clear the same text in this"
            " group and undo the action taken on it"
        ),
        N_("not an ad: undo"),
        member=True,
    ),
    Command("stats", N_("/stats [7d|30d]"), N_("the group's numbers"), ADMIN, GROUP_ONLY),
    Command(
        "inactive", N_("/inactive 30d [remove]"), N_("long-silent members"), ADMIN, GROUP_ONLY
    ),
    Command(
        "id",
        N_("/id"),
        N_("this chat's id, for config.yaml (works in any group, and in private)"),
        ADMIN_OR_STAFF,
        frozenset({Where.GROUP, Where.PRIVATE, Where.STAFF_CHAT}),
        needs_group=False,
    ),
    Command(
        "tickets",
        N_("/tickets"),
        N_("open complaint tickets"),
        ADMIN_OR_STAFF,
        frozenset({Where.GROUP, Where.STAFF_CHAT}),
    ),
    Command(
        "close",
        N_("/close ID (or as a reply)"),
        N_("close a ticket"),
        ADMIN_OR_STAFF,
        frozenset({Where.GROUP, Where.STAFF_CHAT}),
    ),
    Command(
        "notcomplaint",
        N_("/notcomplaint ID (or as a reply)"),
        N_("no complaint at all: close the ticket quietly, teach the complaint model"),
        ADMIN_OR_STAFF,
        frozenset({Where.GROUP, Where.STAFF_CHAT}),
    ),
)
BY_NAME = {command.name: command for command in COMMANDS}

CHINESE_NAMES = {
    "帮助": "help",
    "规则": "rules",
    "举报": "report",
    "模式": "mode",
    "阶梯": "ladder",
    "策略": "policy",
    "设置": "set",
    "演练": "dryrun",
    "语言": "lang",
    "为什么": "why",
    "状态": "status",
    "信任": "trust",
    "警告": "warn",
    "禁言": "mute",
    "解除禁言": "unmute",
    "踢出": "kick",
    "封禁": "ban",
    "解封": "unban",
    "广告": "spam",
    "不是广告": "notspam",
    "统计": "stats",
    "工单": "tickets",
    "关闭": "close",
    "不是投诉": "notcomplaint",
}
"""What a Chinese admin or member may type instead of a command: Telegram reads only Latin
letters after "/", so `/帮助` reaches the bot as plain text, and is answered with `/help`."""
NON_LATIN_COMMAND = re.compile(r"^/([^\x00-\x7f\s][^\s@]*)")
"""A slash followed by a word in another script: someone meant a command."""
MEANT_A_COMMAND = filters.TEXT & filters.Regex(NON_LATIN_COMMAND)
"""Such a message: answered with the command it meant, never relayed or greeted."""


def command_meant(text: str) -> str | None:
    """The command a `/帮助`-style message meant, or None when nothing matches (the word
    without its slash is looked up, then its start: `/禁言一天` meant /mute)."""
    found = NON_LATIN_COMMAND.match(text)
    if found is None:
        return None
    word = found.group(1)
    for chinese in sorted(CHINESE_NAMES, key=len, reverse=True):
        if word.startswith(chinese):
            return CHINESE_NAMES[chinese]
    return None


def usage(name: str, messages: Messages) -> str:
    """The usage line of a command, in the language of the chat (plain text)."""
    return messages.tp(BY_NAME[name].usage)


def menu_description(command: Command, messages: Messages) -> str:
    """What the command menu shows next to the command (at most 256 characters)."""
    return messages.tp(command.summary)[:256]

"""The command table: every slash command, who may use it, where, and its usage line.

`/help`, the command menus (`setMyCommands`) and every usage line come from here, and the
composition root registers exactly these commands (a test checks both ways).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
    summary: str
    who: frozenset[Who]
    where: frozenset[Where]
    takes_member: bool = False
    """The command acts on one member: named by a reply, an @username or an id."""
    in_menu: bool = True

    @property
    def for_members(self) -> bool:
        return Who.ANYONE in self.who


ADMIN = frozenset({Who.ADMIN})
ANYONE = frozenset({Who.ANYONE})
ADMIN_OR_STAFF = frozenset({Who.ADMIN, Who.STAFF})
GROUP_OR_PRIVATE = frozenset({Where.GROUP, Where.PRIVATE})
GROUP_ONLY = frozenset({Where.GROUP})
MEMBER = "(reply, @username or id)"


def _admin(name: str, usage: str, summary: str, *, member: bool = False) -> Command:
    return Command(name, usage, summary, ADMIN, GROUP_OR_PRIVATE, takes_member=member)


COMMANDS: tuple[Command, ...] = (
    Command("help", "/help", "the commands you can use", ANYONE, GROUP_OR_PRIVATE),
    Command("rules", "/rules", "the group rules", ANYONE, GROUP_ONLY),
    Command("report", "/report (as a reply)", "report a message to the staff", ANYONE, GROUP_ONLY),
    Command(
        "start", "/start", "talk to the bot", ANYONE, frozenset({Where.PRIVATE}), in_menu=False
    ),
    _admin("mode", "/mode soft|neutral|hard", "how ad posters are handled first"),
    _admin(
        "ladder",
        "/ladder [STEP, STEP, ...]  e.g. /ladder mute 1d, mute 7d, hard",
        "how repeat offences escalate",
    ),
    _admin("policy", "/policy", "the group's policy in short"),
    _admin("set", "/set KEY VALUE  e.g. /set moderation.reinvite_after 12h", "override a key"),
    _admin("reload", "/reload", "re-read the policy files"),
    _admin("allow", "/allow DOMAIN_OR_@CHANNEL", "never treat this as an ad"),
    _admin("block", "/block WORD", "count a word as an ad"),
    _admin("dryrun", "/dryrun on|off", "decide and report, but touch nobody"),
    _admin("why", "/why ACTION_ID, or as a reply to a bot notice", "why something happened"),
    _admin("status", "/status", "the bot's rights here"),
    _admin("trust", f"/trust {MEMBER}", "never check this member", member=True),
    _admin("untrust", f"/untrust {MEMBER}", "check this member again", member=True),
    _admin("warn", f"/warn [reason] {MEMBER}", "record an offence by hand", member=True),
    _admin("unwarn", f"/unwarn {MEMBER}", "take back the latest offence", member=True),
    _admin("mute", f"/mute DURATION e.g. /mute 1d {MEMBER}", "mute a member", member=True),
    _admin("unmute", f"/unmute {MEMBER}", "let a member speak again", member=True),
    _admin("kick", f"/kick {MEMBER}", "remove a member", member=True),
    _admin("ban", f"/ban {MEMBER}", "ban a member here and in the network", member=True),
    _admin("unban", "/unban (@username or id)", "lift a ban", member=True),
    _admin("pardon", f"/pardon {MEMBER}", "forget the member's offences", member=True),
    _admin(
        "spam",
        "/spam (reply): remove as an ad, apply the ladder, teach the scorer",
        "remove as an ad",
        member=True,
    ),
    _admin(
        "notspam",
        "/notspam (reply): teach the scorer and undo the last automatic action",
        "not an ad: undo",
        member=True,
    ),
    Command("stats", "/stats [7d|30d]", "the group's numbers", ADMIN, GROUP_ONLY),
    Command("inactive", "/inactive 30d [remove]", "long-silent members", ADMIN, GROUP_ONLY),
    Command(
        "tickets",
        "/tickets",
        "open complaint tickets",
        ADMIN_OR_STAFF,
        frozenset({Where.GROUP, Where.STAFF_CHAT}),
    ),
    Command(
        "close",
        "/close ID (or as a reply)",
        "close a ticket",
        ADMIN_OR_STAFF,
        frozenset({Where.GROUP, Where.STAFF_CHAT}),
    ),
)
BY_NAME = {command.name: command for command in COMMANDS}


def usage(name: str) -> str:
    return BY_NAME[name].usage


def menu_description(command: Command) -> str:
    """What the command menu shows next to the command (at most 256 characters)."""
    return command.summary[:256]

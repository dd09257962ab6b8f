"""What lets a kind of evidence through for everyone in a group.

`/notspam` teaches the scorer and clears one text, but a rule (a marketplace share, a link, a
contact, a keyword) fires again for the next message that is not that same text: the scorer
cannot unlearn a rule. The staff are told the command that clears each kind of evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.i18n import N_, Messages

ALLOW_SHOP = N_("/allow shop <your shop's name or store id>")
ALLOW_LINK = N_("/allow link <domain or @name>")
ALLOW_CONTACT = N_("/allow contact <WeChat id, QQ or phone number>")
KEYWORD_IN_POLICY = N_(
    "take the word out of moderation.detectors.keywords in the group's policy file, then /reload"
)
FIXES_BY_RULE: tuple[tuple[str, str], ...] = (
    ("market.", ALLOW_SHOP),
    ("link.", ALLOW_LINK),
    ("contact.wechat", ALLOW_CONTACT),
    ("contact.qq", ALLOW_CONTACT),
    ("contact.phone", ALLOW_CONTACT),
    ("keyword.", KEYWORD_IN_POLICY),
)
"""By rule name or family (a prefix ending in a dot): the fix for what that rule matched.
Rules missing here (the scorer, a forward, a wording that offers contact) have no such fix."""


def fix_for(rule: str) -> str | None:
    """The message id of the fix for one rule, None if the rule has none."""
    for name, fix in FIXES_BY_RULE:
        if rule == name or (name.endswith(".") and rule.startswith(name)):
            return fix
    return None


def fixes(rules: Iterable[str], say: Messages) -> str:
    """The fixes for the rules that fired, each once, in the reader's language ("" if none)."""
    found = dict.fromkeys(fix for rule in rules if (fix := fix_for(rule)) is not None)
    return say.listing(say.tp(fix) for fix in found)


def rules_of(verdict: Mapping[str, Any]) -> list[str]:
    """The rules an audit entry's verdict records as fired."""
    return [str(hit.get("rule", "")) for hit in verdict.get("hits", []) if isinstance(hit, dict)]

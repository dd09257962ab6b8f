"""Rendering templates: operators write HTML, every placeholder value is escaped.

A value wrapped in `Html` was built here (a mention link) and goes in as it is; anything
else, above all names and texts members control, is escaped so it can never break the markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

MAX_NAME_LENGTH = 64


class Html(str):
    """Markup produced by qunbot itself, already safe to insert."""

    __slots__ = ()


def escape(value: object) -> Html:
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def mention(user_id: int, name: str) -> Html:
    """A link to a member that works without a username; the name is shortened and escaped.
    A chat (a channel posting in the group) has no such link: its title is shown in bold."""
    shown = " ".join(name.split())[:MAX_NAME_LENGTH] or str(user_id)
    if user_id < 0:
        return Html(f"<b>{html.escape(shown)}</b>")
    return Html(f'<a href="tg://user?id={int(user_id)}">{html.escape(shown)}</a>')


def join_mentions(mentions: Iterable[Html], *, separator: str = ", ") -> Html:
    return Html(separator.join(mentions))


def render(template: str, values: Mapping[str, object]) -> str:
    """Fill a template's `{placeholders}`; unknown ones were rejected when the policy loaded."""
    return template.format_map({key: escape(value) for key, value in values.items()})

"""Every text the bot composes fits Telegram's limits, whatever the names and texts members
choose: a property test over the composers (staff digests, call-outs, welcomes, ticket cards,
button answers) and over the HTML-aware clip they rely on."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from telegram import InlineKeyboardButton

from bot.core.i18n import Messages
from bot.core.policy_files import PolicyLibrary
from bot.features.moderation import PendingNotice, compose_notices
from bot.features.tickets import clip as clip_quote
from bot.features.welcome import welcome_text
from bot.telegram.staff import (
    MAX_BUTTON_ROWS,
    MAX_KEYBOARD_BUTTONS,
    StaffChannel,
    StaffNote,
)
from bot.telegram.staff import digests as staff_digests
from policies.loader import with_overrides
from policies.schema import Policy
from policies.texts import (
    MAX_MESSAGE,
    clip_html,
    clip_plain,
    mention,
    render,
    telegram_length,
)
from policies.verdict import Hit, Verdict
from policies.welcome import Newcomer

NAMES = st.text(
    alphabet=st.sampled_from("&<>\"'aZ字🧧 \u200b"), min_size=0, max_size=64
) | st.text(min_size=0, max_size=64)
"""Telegram allows 64 characters per name; escaping makes `&` six, emoji count two units."""
TEXTS = st.text(min_size=0, max_size=5000)
WORST_NAME = "&" * 64
"""The longest name once escaped: 64 characters of `&amp;`."""
TELEGRAM_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span"}
    | {"tg-spoiler", "code", "pre", "blockquote", "tg-emoji"}
)
NOTICE_TEMPLATES = ["callout", "announce_removed", "announce_muted", "flood_muted", "flood_warned"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TagBalance(HTMLParser):
    """Fails on a closing tag that was not open, and remembers what is left open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        assert tag in TELEGRAM_TAGS, f"<{tag}> is not a tag Telegram parses"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open}"
        self.open.pop()


def assert_sendable(text: str, limit: int = MAX_MESSAGE) -> None:
    assert telegram_length(text) <= limit
    parser = TagBalance()
    parser.feed(text)
    parser.close()
    assert parser.open == [], f"left open: {parser.open}"


def policy(name: str = "default", overrides: dict[str, Any] | None = None) -> Policy:
    return with_overrides(PolicyLibrary(None).resolve(name), overrides)


LONG_RULES = "Please keep this group about our shop. " * 20
"""An operator's wordy template: 780 characters before any name is filled in."""
POLICIES = {
    "default": policy("default"),
    "shop-zh": policy("shop-zh"),
    "wordy": policy(
        "default",
        {
            "templates": {
                "callout": f"{LONG_RULES} {{users}} in {{group}}",
                "announce_removed": f"{LONG_RULES} {{users}}: {{reason}}",
                "announce_muted": f"{LONG_RULES} {{users}} for {{duration}}",
                "flood_muted": f"{LONG_RULES} {{users}} for {{duration}}",
                "flood_warned": f"{LONG_RULES} {{users}}",
            }
        },
    ),
}


@given(names=st.lists(NAMES, max_size=30), words=TEXTS, limit=st.integers(20, MAX_MESSAGE))
@SETTINGS
def test_clipped_html_fits_and_keeps_its_markup_whole(
    names: list[str], words: str, limit: int
) -> None:
    html = " ".join(mention(index + 1, name) for index, name in enumerate(names))
    html += render("<b>{words}</b>", {"words": words})
    clipped = clip_html(html, limit)
    assert_sendable(clipped, limit)
    if telegram_length(html) <= limit:
        assert clipped == html


@given(text=TEXTS, limit=st.integers(1, 300))
@SETTINGS
def test_plain_texts_and_button_answers_fit(text: str, limit: int) -> None:
    assert telegram_length(clip_plain(text, limit)) <= limit
    assert telegram_length(clip_plain(text, 200)) <= 200


@example([(WORST_NAME, "&" * 5000, True)] * 25)
@example([("Raider", "WeChat contact", True)] * 45)
@given(notes=st.lists(st.tuples(NAMES, TEXTS, st.booleans()), min_size=1, max_size=60))
@SETTINGS
def test_staff_digests_fit_and_keep_every_notes_buttons(
    notes: list[tuple[str, str, bool]],
) -> None:
    staff_notes = [
        StaffNote(
            render("🗑 {user} in Shop: {reason}", {"user": mention(i + 1, name), "reason": why}),
            (
                tuple(InlineKeyboardButton(f"b{k}", callback_data=f"b{k}_{i}") for k in range(2)),
                tuple(InlineKeyboardButton(f"b{k}", callback_data=f"b{k}_{i}") for k in (2, 3)),
            )
            if buttons
            else (),
        )
        for i, (name, why, buttons) in enumerate(notes)
    ]
    messages = staff_digests(staff_notes)
    held = [note for _, part in messages for note in part]
    assert held == staff_notes, "every note, once and in order"
    for text, part in messages:
        assert_sendable(text)
        assert all(clip_html(note.html, MAX_MESSAGE) in text for note in part)
        rows = [note.buttons for note in part if note.buttons]
        assert len(rows) <= MAX_BUTTON_ROWS
        assert sum(len(row) for row in rows) <= MAX_KEYBOARD_BUTTONS


@given(
    offenders=st.lists(st.tuples(NAMES, st.text(max_size=300)), min_size=1, max_size=300),
    title=st.text(max_size=128),
    templates=st.sets(st.sampled_from(NOTICE_TEMPLATES), min_size=1),
    language=st.sampled_from(sorted(POLICIES)),
)
@example([(WORST_NAME, "&" * 300)] * 300, "&" * 128, set(NOTICE_TEMPLATES), "wordy")
@SETTINGS
def test_call_outs_fit_however_many_offenders_and_names(
    offenders: list[tuple[str, str]], title: str, templates: set[str], language: str
) -> None:
    notices = []
    for template in sorted(templates):
        notice = PendingNotice(template, remaining=3600.0)
        for index, (name, reason) in enumerate(offenders):
            notice.user_ids.append(index + 1)
            notice.mentions.append(mention(index + 1, name))
            hit = Hit("links.domain", reason, reason, 1.0)
            notice.judged.append(Verdict(spam=True, score=1.0, hits=(hit,)))
        notices.append(notice)
    policy = POLICIES[language]
    say = Messages(policy.language or "en")
    messages = compose_notices(notices, policy, title, say)
    assert messages
    for text in messages:
        assert_sendable(text)


@given(
    newcomers=st.lists(st.tuples(NAMES, st.booleans()), min_size=1, max_size=200),
    title=st.text(max_size=128),
    language=st.sampled_from(sorted(POLICIES)),
)
@example([(WORST_NAME, True)] * 200, "&" * 128, "default")
@SETTINGS
def test_welcomes_fit_however_many_newcomers_and_names(
    newcomers: list[tuple[str, bool]], title: str, language: str
) -> None:
    people = tuple(Newcomer(i + 1, name, checked) for i, (name, checked) in enumerate(newcomers))
    policy = POLICIES[language]
    assert_sendable(welcome_text(policy, title, people, Messages(policy.language or "en")))


class RecordingDoor:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def post(self, chat_id: int, text: str, **options: Any) -> None:
        self.sent.append(text)


@pytest.mark.parametrize("language", sorted(POLICIES))
@given(name=NAMES, title=st.text(max_size=128), complaint=TEXTS, reasons=st.lists(TEXTS))
@example(WORST_NAME, "&" * 128, "&" * 5000, ["&" * 1000] * 5)
@SETTINGS
async def test_ticket_cards_fit(
    language: str, name: str, title: str, complaint: str, reasons: list[str]
) -> None:
    door = RecordingDoor()
    staff = StaffChannel(None, None, door, -100, lambda chat_id: "", Messages("en"))  # type: ignore[arg-type]
    template = POLICIES[language].complaints.templates.staff_ticket
    values = {
        "ticket": 12,
        "user": mention(7, name),
        "group": title,
        "complaint": clip_quote(complaint),
        "reason": "; ".join(reasons),
    }
    await staff.send_card(render(template, values))
    (card,) = door.sent
    assert_sendable(card)

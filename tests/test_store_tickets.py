"""The tickets repository on real SQLite: one active ticket per member and group, the post
map, reminders claimed once, and tickets following a group migration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import HeldKind, Store, TicketStatus

GROUP, OTHER_GROUP, STAFF, BOB = -100, -200, -999, 7


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "q.db")
    yield opened
    await opened.close()


async def test_one_active_ticket_per_member_and_group(store: Store) -> None:
    first = await store.tickets.open(
        GROUP, BOB, "Bob", "broken", message_id=1, now=10.0, remind_at=40.0
    )
    assert first is not None and first.status is TicketStatus.OPEN
    again = await store.tickets.open(
        GROUP, BOB, "Bob", "still", message_id=2, now=11.0, remind_at=None
    )
    assert again is None
    elsewhere = await store.tickets.open(
        OTHER_GROUP, BOB, "Bob", "late", message_id=1, now=12.0, remind_at=None
    )
    assert elsewhere is not None
    assert await store.tickets.close(first.id, 1, 20.0)
    assert not await store.tickets.close(first.id, 1, 21.0)
    reopened = await store.tickets.open(
        GROUP, BOB, "Bob", "new", message_id=3, now=30.0, remind_at=None
    )
    assert reopened is not None and reopened.id != first.id
    assert [t.id for t in await store.tickets.active()] == [elsewhere.id, reopened.id]
    assert [t.id for t in await store.tickets.active(GROUP)] == [reopened.id]


async def test_posts_lead_back_to_their_ticket(store: Store) -> None:
    ticket = await store.tickets.open(
        GROUP, BOB, "Bob", "x", message_id=1, now=1.0, remind_at=None
    )
    assert ticket is not None
    await store.tickets.add_post(STAFF, 55, ticket.id)
    assert await store.tickets.for_post(STAFF, 55) == ticket.id
    assert await store.tickets.for_post(STAFF, 56) is None
    assert await store.tickets.for_post(GROUP, 55) is None


async def test_a_reminder_is_claimed_once_and_only_when_due(store: Store) -> None:
    ticket = await store.tickets.open(
        GROUP, BOB, "Bob", "x", message_id=1, now=0.0, remind_at=100.0
    )
    assert ticket is not None
    assert await store.tickets.pending_reminders() == [(ticket.id, 100.0)]
    assert not await store.tickets.claim_reminder(ticket.id, 99.0)
    assert await store.tickets.claim_reminder(ticket.id, 100.0)
    assert not await store.tickets.claim_reminder(ticket.id, 200.0)
    assert await store.tickets.pending_reminders() == []


async def test_opening_the_private_chat_drops_the_reminder(store: Store) -> None:
    ticket = await store.tickets.open(
        GROUP, BOB, "Bob", "x", message_id=1, now=0.0, remind_at=100.0
    )
    assert ticket is not None
    assert await store.tickets.mark_opened(ticket.id, 5.0)
    assert not await store.tickets.mark_opened(ticket.id, 6.0)
    assert not await store.tickets.claim_reminder(ticket.id, 500.0)
    latest = await store.tickets.latest_opened_by(BOB)
    assert latest is not None and latest.opened_at == 6.0


async def test_take_rate_and_the_conversation(store: Store) -> None:
    ticket = await store.tickets.open(
        GROUP, BOB, "Bob", "x", message_id=1, now=0.0, remind_at=None
    )
    assert ticket is not None
    assert await store.tickets.take(ticket.id, 42, 1.0)
    assert not await store.tickets.take(ticket.id, 43, 2.0)
    assert not await store.tickets.rate(ticket.id, 1, 3.0), "only closed tickets are rated"
    await store.tickets.add_message(ticket.id, 4.0, "member", "order 1", BOB, 9)
    assert await store.tickets.close(ticket.id, 42, 5.0)
    assert await store.tickets.rate(ticket.id, -1, 6.0)
    assert not await store.tickets.rate(ticket.id, 1, 7.0)
    closed = await store.tickets.get(ticket.id)
    assert closed is not None and (closed.staff_id, closed.rating) == (42, -1)
    said = [(m.source, m.text) for m in await store.tickets.messages(ticket.id)]
    assert said == [("group", "x"), ("member", "order 1")]


async def test_tickets_follow_a_group_migration_without_the_old_message_ids(store: Store) -> None:
    ticket = await store.tickets.open(
        GROUP, BOB, "Bob", "x", message_id=1, now=0.0, remind_at=None
    )
    assert ticket is not None
    await store.tickets.set_reply(ticket.id, 2)
    await store.tickets.add_post(GROUP, 2, ticket.id)
    await store.move_chat(GROUP, -1005)
    moved = await store.tickets.get(ticket.id)
    assert moved is not None and moved.chat_id == -1005
    assert (moved.message_id, moved.reply_message_id) == (None, None)
    assert [m.message_id for m in await store.tickets.messages(ticket.id)] == [None]
    # The supergroup numbers its messages from 1 again: its message 2 is someone else's.
    assert await store.tickets.for_post(-1005, 2) is None
    assert await store.tickets.for_post(GROUP, 2) == ticket.id


async def test_tickets_survive_a_reopen(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "q.db")
    ticket = await store.tickets.open(GROUP, BOB, "Bob", "x", message_id=1, now=0.0, remind_at=9.0)
    assert ticket is not None
    await store.close()
    store = await Store.open(tmp_path / "q.db")
    try:
        assert await store.tickets.active_for(GROUP, BOB) == ticket
        assert await store.tickets.pending_reminders() == [(ticket.id, 9.0)]
    finally:
        await store.close()


async def test_held_messages_are_claimed_once_kept_in_order_and_released_on_refusal(
    store: Store,
) -> None:
    ticket = await store.tickets.open(
        GROUP, BOB, "Bob", "没发货", message_id=1, now=0.0, remind_at=None
    )
    assert ticket is not None
    assert not await store.tickets.holds_for(BOB)
    await store.tickets.hold(ticket.id, BOB, HeldKind.TEXT, 1.0, text="今天发")
    await store.tickets.hold(ticket.id, BOB, HeldKind.COPY, 2.0, source=(STAFF, 77))
    assert await store.tickets.holds_for(BOB)
    first, second = await store.tickets.held_for(BOB)
    assert (first.kind, first.text) == (HeldKind.TEXT, "今天发")
    assert (second.kind, second.from_chat_id, second.message_id) == (HeldKind.COPY, STAFF, 77)
    assert await store.tickets.claim_held(first.id, 3.0)
    assert not await store.tickets.claim_held(first.id, 3.0), "only one delivery wins"
    assert [h.id for h in await store.tickets.held_for(BOB)] == [second.id]
    await store.tickets.mark_held_sent(first.id, 4.0)
    assert await store.tickets.claim_held(second.id, 5.0)
    await store.tickets.release_held(second.id)
    assert [h.id for h in await store.tickets.held_for(BOB)] == [second.id]
    await store.tickets.release_held(first.id)
    assert not await store.tickets.claim_held(first.id, 6.0), "a sent message stays sent"


async def test_a_claimed_but_unmarked_hold_is_found_after_a_restart(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "q.db")
    ticket = await store.tickets.open(
        GROUP, BOB, "Bob", "x", message_id=1, now=0.0, remind_at=None
    )
    assert ticket is not None
    await store.tickets.hold(ticket.id, BOB, HeldKind.CLOSING, 1.0, text="已结单")
    (held,) = await store.tickets.held_for(BOB)
    assert await store.tickets.claim_held(held.id, 2.0)
    await store.close()
    store = await Store.open(tmp_path / "q.db")
    try:
        assert [h.id for h in await store.tickets.interrupted_holds()] == [held.id]
        assert await store.tickets.held_for(BOB) == []
        await store.tickets.mark_held_sent(held.id, 3.0)
        assert await store.tickets.interrupted_holds() == []
        assert not await store.tickets.holds_for(BOB)
    finally:
        await store.close()


async def test_a_closed_ticket_reopens_unless_another_is_active_in_its_group(
    store: Store,
) -> None:
    ticket = await store.tickets.open(
        GROUP, BOB, "Bob", "坏了", message_id=1, now=0.0, remind_at=None
    )
    assert ticket is not None
    assert not await store.tickets.reopen(ticket.id, 1.0), "only closed tickets reopen"
    assert await store.tickets.close(ticket.id, 42, 2.0)
    assert await store.tickets.rate(ticket.id, 1, 3.0)
    assert await store.tickets.latest_closed_of(BOB) == await store.tickets.get(ticket.id)
    assert await store.tickets.reopen(ticket.id, 4.0)
    again = await store.tickets.get(ticket.id)
    assert again is not None
    assert (again.status, again.closed_at, again.rating, again.opened_at) == (
        TicketStatus.OPEN,
        None,
        1,
        4.0,
    ), "the rating given stays"
    assert await store.tickets.close(ticket.id, 42, 5.0)
    assert await store.tickets.rate(ticket.id, -1, 5.5), "each closing may be rated"
    assert not await store.tickets.rate(ticket.id, 1, 5.6), "once"
    newer = await store.tickets.open(
        GROUP, BOB, "Bob", "又坏了", message_id=2, now=6.0, remind_at=None
    )
    assert newer is not None
    assert not await store.tickets.reopen(ticket.id, 7.0), "the newer ticket holds the talk"

"""Retention reaches everything members left behind: texts, names on closed tickets, learned
samples, the invite links sent to them and the ticket replies delivered to them."""

from __future__ import annotations

from pathlib import Path

from bot.store import HeldKind, Store

DAY = 86400.0
OLD, NEW = 1_000 * DAY, 1_040 * DAY
CUTOFF = NEW - 30 * DAY


async def _values(store: Store, sql: str) -> list[object]:
    async with store.db.execute(sql) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def test_retention_clears_names_samples_and_invite_links(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "qunbot.db")
    try:
        old = await store.tickets.open(
            -5, 7, "Old Olga", "broken", message_id=1, now=OLD, remind_at=None
        )
        new = await store.tickets.open(
            -5, 8, "New Nina", "late", message_id=2, now=NEW, remind_at=None
        )
        assert old is not None and new is not None
        for ticket, at in ((old, OLD), (new, NEW)):
            await store.tickets.hold(ticket.id, ticket.user_id, HeldKind.TEXT, at, text="补发")
            (held,) = await store.tickets.held_for(ticket.user_id)
            await store.tickets.mark_held_sent(held.id, at)
        await store.tickets.hold(old.id, 7, HeldKind.TEXT, OLD, text="还没送达")
        await store.tickets.close(old.id, None, OLD + 1)
        await store.tickets.close(new.id, None, NEW + 1)
        await store.learned.add(-5, "an old ad text", spam=True, at=OLD, actor_id=1)
        await store.learned.add(-5, "a recent ad text", spam=True, at=NEW, actor_id=1)
        for user, at in ((7, OLD), (8, NEW)):
            await store.reinvites.add(-5, user, eligible_at=at, now=at)
            assert await store.reinvites.claim(-5, user, now=at)
            await store.reinvites.record_link(-5, user, f"https://t.me/+link{user}")
            await store.audit.add(
                -5, at, "reinvite", target_id=user, text=f"https://t.me/+l{user}"
            )

        assert await store.retention.purge_texts(CUTOFF) > 0

        assert await _values(store, "SELECT user_name FROM tickets ORDER BY id") == [
            "",
            "New Nina",
        ]
        held = "SELECT text FROM held_replies ORDER BY id"
        assert await _values(store, held) == ["", "补发"], "a closed ticket's never delivered"
        assert await store.learned.all() == [("a recent ad text", True)]
        links = "SELECT invite_link FROM reinvites ORDER BY user_id"
        assert await _values(store, links) == [None, "https://t.me/+link8"]
        audit = "SELECT text FROM audit WHERE action = 'reinvite' ORDER BY target_id"
        assert await _values(store, audit) == [None, "https://t.me/+l8"]
    finally:
        await store.close()

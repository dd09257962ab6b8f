"""Narrow async repositories over the database, keyed by chat id. The only code that writes SQL."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.database import StorageError
from policies.decide import FLOOD_RULE
from policies.facts import PSEUDO_USER_IDS, is_person

RECENT_MESSAGES_KEPT = 32
"""Message times kept per member for flood detection; floods are counted in seconds."""
MEMBERS_CACHED = 25_000
"""Members kept in memory; the least recently loaded are written back and dropped first."""
USERNAMES_STORED = 200_000
"""@usernames kept in the database; those written longest ago are dropped first."""
PRUNE_EVERY = 1_000
"""Usernames written between two prunings: the table holds at most USERNAMES_STORED + this."""


@dataclass(slots=True)
class GroupRow:
    chat_id: int
    title: str
    policy: str | None
    overrides: dict[str, Any]
    dry_run: bool


class Transactions:
    """Explicit transactions on the one shared connection, one at a time: a second BEGIN
    while another coroutine's transaction is open would fail, or be rolled back with it.

    Every other write waits for the same lock (`writing`): on one connection a statement sent
    while another coroutine's transaction is open joins that transaction, and would be lost
    with it if it rolled back (a staff note recorded as sent, a re-invite, an audit entry)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.lock = asyncio.Lock()
        self.holder: asyncio.Task[Any] | None = None
        """The task holding the lock: its own writes go straight ahead (a task it spawns is
        another task, and waits like any other)."""

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[aiosqlite.Connection]:
        if self.holder is not None and self.holder is asyncio.current_task():
            # SQLite would say "cannot start a transaction within a transaction", which reads
            # like a locked database and would be retried: it is a bug in the caller.
            raise RuntimeError("a transaction was begun inside another (or inside a write)")
        async with self.writing():
            await self.db.execute("BEGIN")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """Hold the lock for writes outside a transaction; inside one, they are part of it."""
        task = asyncio.current_task()
        if task is not None and task is self.holder:
            yield
            return
        async with self.lock:
            self.holder = task
            try:
                yield
            finally:
                self.holder = None


class Repository:
    """A repository on the shared connection. Reads go straight to it; writes go through
    `write`, `write_many` and `write_returning`, which wait for any open transaction."""

    def __init__(self, db: aiosqlite.Connection, transactions: Transactions | None = None) -> None:
        self.db = db
        self.transactions = transactions or Transactions(db)

    async def write(self, sql: str, parameters: Sequence[Any] = ()) -> aiosqlite.Cursor:
        async with self.transactions.writing():
            return await self.db.execute(sql, parameters)

    async def write_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transactions.writing():
            await self.db.executemany(sql, rows)

    async def write_returning(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        """A write with a RETURNING clause and its rows: read before the lock is let go, since
        an unfinished statement keeps its own transaction open."""
        async with self.transactions.writing(), self.db.execute(sql, parameters) as cursor:
            return list(await cursor.fetchall())


class Groups(Repository):
    async def ensure(self, chat_id: int, title: str, now: float, *, dry_run: bool = False) -> None:
        """The group's row, created with `dry_run` the first time; later only its title."""
        await self.write(
            "INSERT INTO groups (chat_id, title, created_at, updated_at, dry_run)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title,"
            " updated_at = excluded.updated_at WHERE groups.title != excluded.title",
            (chat_id, title, now, now, int(dry_run)),
        )

    async def get(self, chat_id: int) -> GroupRow | None:
        async with self.db.execute(
            "SELECT chat_id, title, policy, overrides, dry_run FROM groups WHERE chat_id = ?",
            (chat_id,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return GroupRow(row[0], row[1], row[2], json.loads(row[3]), bool(row[4]))

    async def all(self) -> list[GroupRow]:
        async with self.db.execute(
            "SELECT chat_id, title, policy, overrides, dry_run FROM groups"
        ) as cursor:
            rows = await cursor.fetchall()
        return [GroupRow(r[0], r[1], r[2], json.loads(r[3]), bool(r[4])) for r in rows]

    async def titles_and_first_seen(self) -> dict[int, tuple[str, float]]:
        """Every group the bot has seen: its title and when the bot first saw it."""
        async with self.db.execute("SELECT chat_id, title, created_at FROM groups") as cursor:
            return {row[0]: (row[1], float(row[2])) for row in await cursor.fetchall()}

    async def set_overrides(self, chat_id: int, overrides: dict[str, Any], now: float) -> None:
        await self.write(
            "UPDATE groups SET overrides = ?, updated_at = ? WHERE chat_id = ?",
            (json.dumps(overrides, ensure_ascii=False), now, chat_id),
        )

    async def set_dry_run(self, chat_id: int, dry_run: bool, now: float) -> None:
        await self.write(
            "UPDATE groups SET dry_run = ?, updated_at = ? WHERE chat_id = ?",
            (int(dry_run), now, chat_id),
        )


@dataclass(slots=True)
class MemberState:
    """A member as the message path sees it: read once, then kept in memory and written
    back in batches, so an ordinary message costs no SQL at all."""

    first_seen: float
    last_seen: float
    message_count: int = 0
    trusted: bool = False
    offence_times: list[float] = field(default_factory=list)
    recent_message_times: tuple[float, ...] = ()
    """A tuple rather than a bounded deque: a deque reserves about 600 bytes up front, which
    is most of what a cached member costs."""
    joined_at: float | None = None
    """When qunbot saw this member join; None for members who were there before it."""
    dirty: bool = False
    stored: bool = True
    """False for chats and Telegram's pseudo-users: their ladder is kept (offences are stored
    on their own) but they are never written as members, counted or offered to /inactive."""


class Members(Repository):
    """Member activity with a write-behind cache; `flush()` persists it in one transaction."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        cache_limit: int = MEMBERS_CACHED,
        transactions: Transactions | None = None,
    ) -> None:
        super().__init__(db, transactions)
        self.cache: dict[tuple[int, int], MemberState] = {}
        self.cache_limit = cache_limit

    async def state(self, chat_id: int, user_id: int, now: float) -> MemberState:
        key = (chat_id, user_id)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        state = await self._load(chat_id, user_id, now)
        if len(self.cache) >= self.cache_limit:
            await self._evict()
        self.cache[key] = state
        return state

    async def _load(self, chat_id: int, user_id: int, now: float) -> MemberState:
        async with self.db.execute(
            "SELECT first_seen, last_seen, message_count, trusted, joined_at FROM members"
            " WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        offences = await self._offence_times(chat_id, user_id)
        if not is_person(user_id):
            return MemberState(first_seen=now, last_seen=now, offence_times=offences, stored=False)
        if row is None:
            return MemberState(first_seen=now, last_seen=now, offence_times=offences, dirty=True)
        return MemberState(row[0], row[1], row[2], bool(row[3]), offences, joined_at=row[4])

    def record_message(self, state: MemberState, now: float) -> None:
        state.message_count += 1
        state.last_seen = now
        state.recent_message_times = (*state.recent_message_times[1 - RECENT_MESSAGES_KEPT :], now)
        state.dirty = True

    async def joined(self, chat_id: int, user_id: int, now: float) -> None:
        """qunbot saw the member join: from now on they are a newcomer on probation."""
        state = await self.state(chat_id, user_id, now)
        state.joined_at = now
        state.dirty = True

    async def joined_at(self, chat_id: int, user_id: int) -> float | None:
        """When qunbot last saw the member join, without caching or creating a row: someone
        merely pressing a button is not a member's activity."""
        cached = self.cache.get((chat_id, user_id))
        if cached is not None:
            return cached.joined_at
        async with self.db.execute(
            "SELECT joined_at FROM members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        ) as cursor:
            row = await cursor.fetchone()
        return float(row[0]) if row is not None and row[0] is not None else None

    async def set_trusted(self, chat_id: int, user_id: int, trusted: bool, now: float) -> None:
        state = await self.state(chat_id, user_id, now)
        state.trusted = trusted
        state.dirty = True
        await self.flush()

    async def flush(self) -> int:
        """Write every changed member in one transaction; returns how many were written."""
        dirty = [(key, s) for key, s in self.cache.items() if s.dirty and s.stored]
        if not dirty:
            return 0
        async with self.transactions.begin():
            await self.write_many(
                "INSERT INTO members (chat_id, user_id, first_seen, last_seen, message_count,"
                " trusted, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (chat_id, user_id) DO UPDATE SET"
                " last_seen = excluded.last_seen, message_count = excluded.message_count,"
                " trusted = excluded.trusted, joined_at = excluded.joined_at",
                [
                    (
                        key[0],
                        key[1],
                        s.first_seen,
                        s.last_seen,
                        s.message_count,
                        int(s.trusted),
                        s.joined_at,
                    )
                    for key, s in dirty
                ],
            )
        for _, state in dirty:
            state.dirty = False
        return len(dirty)

    async def _evict(self) -> None:
        await self.flush()
        for key in list(self.cache)[: self.cache_limit // 4]:
            del self.cache[key]

    async def refresh_offences(self, chat_id: int, user_id: int) -> None:
        """Re-read a cached member's offences after they changed offline (pardon, undo)."""
        state = self.cache.get((chat_id, user_id))
        if state is not None:
            state.offence_times = await self._offence_times(chat_id, user_id)

    async def _offence_times(self, chat_id: int, user_id: int) -> list[float]:
        async with self.db.execute(
            "SELECT at FROM offences WHERE chat_id = ? AND user_id = ? AND acknowledged = 0"
            " AND rule != ? ORDER BY at",
            (chat_id, user_id, FLOOD_RULE),
        ) as cursor:
            return [float(r[0]) for r in await cursor.fetchall()]

    def forget_chat(self, chat_id: int) -> None:
        for key in [key for key in self.cache if key[0] == chat_id]:
            del self.cache[key]

    async def mark_left(self, chat_id: int, user_id: int, now: float) -> None:
        """The member left or was removed; flushed first, so a new member's row exists."""
        await self.flush()
        await self.write(
            "UPDATE members SET left_at = ? WHERE chat_id = ? AND user_id = ?",
            (now, chat_id, user_id),
        )

    async def groups_of(self, user_id: int) -> list[int]:
        """The groups qunbot has seen the member in, the most recent first."""
        await self.flush()
        async with self.db.execute(
            "SELECT chat_id FROM members WHERE user_id = ? ORDER BY last_seen DESC", (user_id,)
        ) as cursor:
            return [int(row[0]) for row in await cursor.fetchall()]

    async def mark_present(self, chat_id: int, user_id: int) -> None:
        await self.write(
            "UPDATE members SET left_at = NULL WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id),
        )

    async def silent_since(self, chat_id: int, cutoff: float, limit: int) -> list[SilentMember]:
        """Members still in the group, not trusted, who have not spoken since `cutoff`
        (joining counts as being seen), longest silent first. Never a pseudo-user or a chat,
        which databases from older versions may still hold as members."""
        await self.flush()
        placeholders = ", ".join("?" * len(PSEUDO_USER_IDS))
        async with self.db.execute(
            "SELECT user_id, last_seen, message_count FROM members WHERE chat_id = ?"
            f" AND left_at IS NULL AND trusted = 0 AND last_seen < ? AND user_id > 0"
            f" AND user_id NOT IN ({placeholders}) ORDER BY last_seen LIMIT ?",
            (chat_id, cutoff, *sorted(PSEUDO_USER_IDS), limit),
        ) as cursor:
            return [SilentMember(*row) for row in await cursor.fetchall()]


@dataclass(frozen=True, slots=True)
class SilentMember:
    user_id: int
    last_seen: float
    message_count: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    chat_id: int
    at: float
    actor_id: int | None
    target_id: int | None
    message_id: int | None
    action: str
    verdict: dict[str, Any]
    text: str | None


class Audit(Repository):
    _COLUMNS = "id, chat_id, at, actor_id, target_id, message_id, action, verdict, text"

    async def add(
        self,
        chat_id: int,
        at: float,
        action: str,
        *,
        actor_id: int | None = None,
        target_id: int | None = None,
        message_id: int | None = None,
        verdict: dict[str, Any] | None = None,
        text: str | None = None,
    ) -> int:
        cursor = await self.write(
            "INSERT INTO audit (chat_id, at, actor_id, target_id, message_id, action, verdict,"
            " text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                at,
                actor_id,
                target_id,
                message_id,
                action,
                json.dumps(verdict or {}, ensure_ascii=False),
                text,
            ),
        )
        return int(cursor.lastrowid or 0)

    async def get(self, entry_id: int) -> AuditEntry | None:
        return await self._one(f"SELECT {self._COLUMNS} FROM audit WHERE id = ?", (entry_id,))

    async def claim_undo(self, entry_id: int, now: float) -> bool:
        """Mark an action as being undone; only the first press (or command) wins it."""
        cursor = await self.write(
            "UPDATE audit SET undone_at = ? WHERE id = ? AND undone_at IS NULL", (now, entry_id)
        )
        return cursor.rowcount > 0

    async def release_undo(self, entry_id: int) -> None:
        """Telegram refused the undo: it may be tried again."""
        await self.write("UPDATE audit SET undone_at = NULL WHERE id = ?", (entry_id,))

    async def for_message(self, chat_id: int, message_id: int) -> AuditEntry | None:
        return await self._one(
            f"SELECT {self._COLUMNS} FROM audit WHERE chat_id = ? AND message_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (chat_id, message_id),
        )

    async def notice_targets(self, chat_id: int, message_id: int) -> list[int]:
        """The members qunbot's public notice with this message id was about."""
        async with self.db.execute(
            "SELECT DISTINCT target_id FROM audit WHERE chat_id = ? AND message_id = ?"
            " AND action = 'notice' AND target_id IS NOT NULL ORDER BY target_id",
            (chat_id, message_id),
        ) as cursor:
            return [int(row[0]) for row in await cursor.fetchall()]

    async def notice_rows(self, chat_id: int, message_id: int) -> list[tuple[int, int]]:
        """(member, the id of the notice's row about them) for qunbot's public notice with
        this message id: a notice is recorded after the actions it announces."""
        async with self.db.execute(
            "SELECT target_id, MIN(id) FROM audit WHERE chat_id = ? AND message_id = ?"
            " AND action = 'notice' AND target_id IS NOT NULL GROUP BY target_id"
            " ORDER BY target_id",
            (chat_id, message_id),
        ) as cursor:
            return [(int(row[0]), int(row[1])) for row in await cursor.fetchall()]

    async def last_automatic(
        self, chat_id: int, target_id: int, before_id: int | None = None
    ) -> AuditEntry | None:
        """The latest action qunbot took on its own against this member (before the entry
        `before_id`, when given: the action a notice recorded then was about). A complaint
        ticket is recorded without an actor too, but it is done for the member, not to them."""
        return await self._one(
            f"SELECT {self._COLUMNS} FROM audit WHERE chat_id = ? AND target_id = ?"
            " AND actor_id IS NULL AND action NOT IN ('notice', 'reinvite')"
            " AND action NOT LIKE 'dry-run%' AND action NOT LIKE 'ticket #%'"
            " AND id < ? ORDER BY id DESC LIMIT 1",
            (chat_id, target_id, before_id if before_id is not None else 2**62),
        )

    async def settled(self, entry: AuditEntry) -> bool:
        """Whether the staff dealt with this action already: it was undone, or a person acted
        on the member in that group since (an unban, a pardon, a re-invite; a confirmation is
        no change: see `confirmed`)."""
        async with self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM audit WHERE id = ? AND undone_at IS NOT NULL)"
            " OR EXISTS (SELECT 1 FROM audit WHERE chat_id = ? AND target_id = ? AND id > ?"
            " AND actor_id IS NOT NULL AND action != 'confirm')",
            (entry.id, entry.chat_id, entry.target_id, entry.id),
        ) as cursor:
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def confirmed(self, entry: AuditEntry) -> bool:
        """Whether a person confirmed this action (its staff note's Confirm)."""
        async with self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM audit WHERE chat_id = ? AND action = 'confirm'"
            " AND text = ?)",
            (entry.chat_id, f"confirm #{entry.id}"),
        ) as cursor:
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def recent(self, chat_id: int, limit: int = 20) -> list[AuditEntry]:
        async with self.db.execute(
            f"SELECT {self._COLUMNS} FROM audit WHERE chat_id = ? ORDER BY id DESC LIMIT ?",
            (chat_id, limit),
        ) as cursor:
            return [_audit_entry(row) for row in await cursor.fetchall()]

    async def _one(self, sql: str, parameters: tuple[Any, ...]) -> AuditEntry | None:
        async with self.db.execute(sql, parameters) as cursor:
            row = await cursor.fetchone()
        return _audit_entry(row) if row is not None else None


def _audit_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]), row[8]
    )


class Offences(Repository):
    async def add(
        self, chat_id: int, user_id: int, at: float, rule: str, audit_id: int | None
    ) -> int:
        cursor = await self.write(
            "INSERT INTO offences (chat_id, user_id, at, rule, audit_id) VALUES (?, ?, ?, ?, ?)",
            (chat_id, user_id, at, rule, audit_id),
        )
        return int(cursor.lastrowid or 0)

    async def count_within(self, chat_id: int, user_id: int, since: float) -> int:
        async with self.db.execute(
            "SELECT COUNT(*) FROM offences WHERE chat_id = ? AND user_id = ? AND at >= ?"
            " AND acknowledged = 0 AND rule != ?",
            (chat_id, user_id, since, FLOOD_RULE),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def acknowledge_latest(self, chat_id: int, user_id: int) -> bool:
        """Forgive the member's latest offence; true if there was one to forgive."""
        cursor = await self.write(
            "UPDATE offences SET acknowledged = 1 WHERE id = (SELECT id FROM offences"
            " WHERE chat_id = ? AND user_id = ? AND acknowledged = 0 AND rule != ?"
            " ORDER BY at DESC LIMIT 1)",
            (chat_id, user_id, FLOOD_RULE),
        )
        return cursor.rowcount > 0

    async def forgive(self, chat_id: int, user_id: int, audit_id: int) -> None:
        """Drop the offence an audited action recorded (the action was undone)."""
        await self.write(
            "DELETE FROM offences WHERE chat_id = ? AND user_id = ? AND audit_id = ?",
            (chat_id, user_id, audit_id),
        )

    async def pardon(self, chat_id: int, user_id: int) -> int:
        cursor = await self.write(
            "DELETE FROM offences WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        )
        return cursor.rowcount


@dataclass(frozen=True, slots=True)
class PendingReinvite:
    chat_id: int
    user_id: int
    eligible_at: float
    after_undo: bool = False
    """The removal was undone as qunbot's mistake: the invite apologises for it."""


class Reinvites(Repository):
    """Removed members who may come back: a restart must not forget them."""

    async def add(
        self,
        chat_id: int,
        user_id: int,
        eligible_at: float,
        now: float,
        *,
        after_undo: bool = False,
    ) -> None:
        await self.write(
            "INSERT INTO reinvites (chat_id, user_id, eligible_at, created_at, after_undo)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET"
            " eligible_at = excluded.eligible_at, created_at = excluded.created_at,"
            " after_undo = excluded.after_undo, sent_at = NULL, invite_link = NULL",
            (chat_id, user_id, eligible_at, now, int(after_undo)),
        )

    async def pending_for(self, user_id: int) -> list[PendingReinvite]:
        async with self.db.execute(
            "SELECT chat_id, user_id, eligible_at, after_undo FROM reinvites"
            " WHERE user_id = ? AND sent_at IS NULL ORDER BY eligible_at",
            (user_id,),
        ) as cursor:
            return [
                PendingReinvite(row[0], row[1], row[2], bool(row[3]))
                for row in await cursor.fetchall()
            ]

    async def make_eligible(self, chat_id: int, user_id: int, now: float) -> bool:
        cursor = await self.write(
            "UPDATE reinvites SET eligible_at = ? WHERE chat_id = ? AND user_id = ?"
            " AND sent_at IS NULL",
            (now, chat_id, user_id),
        )
        return cursor.rowcount > 0

    async def claim(self, chat_id: int, user_id: int, now: float) -> bool:
        """Mark a due re-invite as being sent; only one caller can win it."""
        cursor = await self.write(
            "UPDATE reinvites SET sent_at = ? WHERE chat_id = ? AND user_id = ?"
            " AND sent_at IS NULL AND eligible_at <= ?",
            (now, chat_id, user_id, now),
        )
        return cursor.rowcount > 0

    async def record_link(self, chat_id: int, user_id: int, link: str) -> None:
        await self.write(
            "UPDATE reinvites SET invite_link = ? WHERE chat_id = ? AND user_id = ?",
            (link, chat_id, user_id),
        )

    async def release(self, chat_id: int, user_id: int) -> None:
        """Give a claimed re-invite back, because sending it failed."""
        await self.write(
            "UPDATE reinvites SET sent_at = NULL WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id),
        )

    async def cancel(self, chat_id: int, user_id: int) -> None:
        await self.write(
            "DELETE FROM reinvites WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        )


class Appeals(Repository):
    """Removed members who wrote to the bot: one appeal per removal (its audit entry), and how
    many later messages were passed on to the staff."""

    async def open(self, audit_id: int, chat_id: int, user_id: int, now: float) -> bool:
        """Record the appeal against this removal; False if there is one already."""
        cursor = await self.write(
            "INSERT INTO appeals (audit_id, chat_id, user_id, opened_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (audit_id) DO NOTHING",
            (audit_id, chat_id, user_id, now),
        )
        return cursor.rowcount > 0

    async def withdraw(self, audit_id: int) -> None:
        """The appeal never reached the staff: the member's next message may try again."""
        await self.write("DELETE FROM appeals WHERE audit_id = ?", (audit_id,))

    async def count_relay(self, audit_id: int, limit: int) -> bool:
        """Count one more message passed on for this appeal; False once `limit` were."""
        cursor = await self.write(
            "UPDATE appeals SET relays = relays + 1 WHERE audit_id = ? AND relays < ?",
            (audit_id, limit),
        )
        return cursor.rowcount > 0


class LearnedKind(StrEnum):
    """The model a learned sample teaches."""

    ADS = "ads"
    """An admin's /spam or /notspam: the ad scorer."""
    COMPLAINTS = "complaints"
    """Staff marking a ticket as no complaint: the complaint model."""


class LearnedSamples(Repository):
    """Messages admins or staff marked, which teach a model: as of its class (an ad, a
    complaint) or not (`spam`)."""

    async def add(
        self,
        chat_id: int,
        text: str,
        *,
        spam: bool,
        at: float,
        actor_id: int | None,
        kind: LearnedKind = LearnedKind.ADS,
    ) -> None:
        await self.write(
            "INSERT INTO learned_samples (chat_id, at, actor_id, spam, text, kind)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (chat_id, at, actor_id, int(spam), text, kind.value),
        )

    async def all(self, kind: LearnedKind = LearnedKind.ADS) -> list[tuple[str, bool]]:
        """What one model was taught, oldest first, as replayed at start-up."""
        return [(text, spam) for _, text, spam in await self.marks(kind)]

    async def marks(self, kind: LearnedKind = LearnedKind.ADS) -> list[tuple[int, str, bool]]:
        """What one model was taught, with each mark's group, oldest first: replayed in
        order, a later mark wins."""
        async with self.db.execute(
            "SELECT chat_id, text, spam FROM learned_samples WHERE kind = ? ORDER BY id",
            (kind.value,),
        ) as cursor:
            return [(row[0], row[1], bool(row[2])) for row in await cursor.fetchall()]


class Meta(Repository):
    """Small named values the bot keeps for itself, such as its signing secret."""

    async def get_or_create(self, key: str, make: Callable[[], str]) -> str:
        """The stored value, or `make()` stored atomically if none exists yet."""
        await self.write(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (key, make()),
        )
        async with self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return str(row[0])

    async def get(self, key: str) -> str | None:
        async with self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def set(self, key: str, value: str) -> None:
        await self.write(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


class Usernames(Repository):
    """@usernames (lower case) and whose they are, written behind: `note` keeps a change in
    memory, `flush` writes the changes of a few seconds in one transaction. A user has one
    username at a time, so a new one replaces their old; past `kept` rows the ones written
    longest ago are dropped."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        transactions: Transactions,
        *,
        kept: int = USERNAMES_STORED,
    ) -> None:
        super().__init__(db, transactions)
        self.kept = kept
        self.pending: dict[str, tuple[int, float]] = {}
        self.unpruned = 0
        """Rows written since the last pruning: the table is pruned every PRUNE_EVERY."""

    def note(self, username: str, user_id: int, now: float) -> None:
        """Remember that `username` is `user_id`'s; written at the next flush."""
        self.pending[username] = (user_id, now)

    async def user_of(self, username: str) -> int | None:
        pending = self.pending.get(username)
        if pending is not None:
            return pending[0]
        async with self.db.execute(
            "SELECT user_id FROM usernames WHERE username = ?", (username,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else int(row[0])

    async def recent(self, limit: int) -> list[tuple[str, int]]:
        """The `limit` usernames written last, the oldest of them first."""
        async with self.db.execute(
            "SELECT username, user_id FROM (SELECT username, user_id, seen_at FROM usernames"
            " ORDER BY seen_at DESC LIMIT ?) ORDER BY seen_at",
            (limit,),
        ) as cursor:
            return [(str(row[0]), int(row[1])) for row in await cursor.fetchall()]

    async def flush(self) -> int:
        """Write the noted usernames in one transaction; returns how many."""
        if not self.pending:
            return 0
        written, self.pending = self.pending, {}
        latest: dict[int, tuple[str, float]] = {}
        for name, (user_id, at) in sorted(written.items(), key=lambda item: item[1][1]):
            latest[user_id] = (name, at)  # a user renamed twice keeps the newer name
        rows = [(name, user_id, at) for user_id, (name, at) in latest.items()]
        try:
            async with self.transactions.begin():
                await self.write_many(
                    "DELETE FROM usernames WHERE user_id = ? AND username != ?",
                    [(user_id, name) for name, user_id, _ in rows],
                )
                await self.write_many(
                    "INSERT INTO usernames (username, user_id, seen_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (username) DO UPDATE SET"
                    " user_id = excluded.user_id, seen_at = excluded.seen_at",
                    rows,
                )
                unpruned = self.unpruned + len(rows)
                if unpruned >= PRUNE_EVERY:
                    await self._prune()
                    unpruned = 0
        except BaseException:
            self.pending = written | self.pending
            raise
        self.unpruned = unpruned
        return len(rows)

    async def _prune(self) -> None:
        await self.write(
            "DELETE FROM usernames WHERE username IN (SELECT username FROM usernames"
            " ORDER BY seen_at DESC LIMIT -1 OFFSET ?)",
            (self.kept,),
        )


class ChatMoves:
    """Groups that became supergroups, old id -> new id, so the ids written in config.yaml
    (groups, networks, the staff chat) follow them at every start until the operator updates
    the file. Kept in `meta`: a handful of rows at most."""

    KEY = "chat_migrations"

    def __init__(self, meta: Meta) -> None:
        self.meta = meta

    async def all(self) -> dict[int, int]:
        stored = await self.meta.get(self.KEY)
        if not stored:
            return {}
        return {int(old): int(new) for old, new in json.loads(stored).items()}

    async def add(self, old_id: int, new_id: int) -> None:
        moves = await self.all()
        moves[old_id] = new_id
        await self.meta.set(self.KEY, json.dumps({str(k): v for k, v in moves.items()}))


def read_chat_moves(path: Path) -> dict[int, int]:
    """The chat moves recorded in a database, read without opening it for writing (for
    `qunbot check`, which may run next to the bot); empty if there is no usable database."""
    if not path.is_file():
        return {}
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (ChatMoves.KEY,)).fetchone()
    except sqlite3.Error:
        return {}
    if row is None:
        return {}
    return {int(old): int(new) for old, new in json.loads(row[0]).items()}


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Ticket:
    """A complaint moved from a group to a private chat with the shop's staff."""

    id: int
    chat_id: int
    user_id: int
    user_name: str
    text: str
    message_id: int | None
    """The complaint in the group."""
    reply_message_id: int | None
    """The bot's public reply, with the deep-link button."""
    card_message_id: int | None
    """The ticket's card in the staff chat, with the take and close buttons."""
    status: TicketStatus
    staff_id: int | None
    created_at: float
    updated_at: float
    opened_at: float | None
    """When the member last opened the private chat for this ticket."""
    remind_at: float | None
    reminded_at: float | None
    closed_at: float | None
    closed_by: int | None
    rating: int | None
    thread_id: int | None = None
    """The forum topic the complaint was written in, None outside topics."""

    @property
    def active(self) -> bool:
        return self.status is not TicketStatus.CLOSED


@dataclass(frozen=True, slots=True)
class TicketMessage:
    at: float
    source: str
    """`group` (a complaint in the group), `member` (private chat) or `staff`."""
    author_id: int | None
    message_id: int | None
    text: str


class HeldKind(StrEnum):
    TEXT = "text"
    """A staff answer, rendered as the member reads it."""
    COPY = "copy"
    """A staff message with a photo or other media, copied from the staff chat."""
    CLOSING = "closing"
    """The closing text, with the satisfaction buttons."""


@dataclass(frozen=True, slots=True)
class HeldReply:
    """A message for a ticket's member that Telegram refused because they had not opened the
    private chat; delivered, in order, once they do."""

    id: int
    ticket_id: int
    user_id: int
    kind: HeldKind
    text: str
    from_chat_id: int | None
    message_id: int | None


class Tickets(Repository):
    """Complaint tickets, what was said in them, and which chat messages belong to which."""

    _COLUMNS = (
        "id, chat_id, user_id, user_name, text, message_id, reply_message_id, card_message_id,"
        " status, staff_id, created_at, updated_at, opened_at, remind_at, reminded_at,"
        " closed_at, closed_by, rating, thread_id"
    )

    async def open(
        self,
        chat_id: int,
        user_id: int,
        user_name: str,
        text: str,
        *,
        message_id: int,
        now: float,
        remind_at: float | None,
        thread_id: int | None = None,
    ) -> Ticket | None:
        """A new ticket with its first message (one transaction), or None if the member
        already has an active one in this group."""
        async with self.transactions.begin() as db:
            cursor = await db.execute(
                "INSERT INTO tickets (chat_id, user_id, user_name, text, message_id, created_at,"
                " updated_at, remind_at, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (chat_id, user_id, user_name, text, message_id, now, now, remind_at, thread_id),
            )
            if cursor.rowcount == 0 or cursor.lastrowid is None:
                return None
            ticket_id = cursor.lastrowid
            await self.add_message(ticket_id, now, "group", text, user_id, message_id)
        return await self.get(ticket_id)

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self._one(f"SELECT {self._COLUMNS} FROM tickets WHERE id = ?", (ticket_id,))

    async def active_for(self, chat_id: int, user_id: int) -> Ticket | None:
        return await self._one(
            f"SELECT {self._COLUMNS} FROM tickets WHERE chat_id = ? AND user_id = ?"
            " AND status != 'closed'",
            (chat_id, user_id),
        )

    async def latest_opened_by(self, user_id: int) -> Ticket | None:
        """The active ticket whose private chat the member opened last."""
        return await self._one(
            f"SELECT {self._COLUMNS} FROM tickets WHERE user_id = ? AND status != 'closed'"
            " AND opened_at IS NOT NULL ORDER BY opened_at DESC, id DESC LIMIT 1",
            (user_id,),
        )

    async def latest_active_of(self, user_id: int) -> Ticket | None:
        """The member's newest active ticket, whether or not they opened its private chat."""
        return await self._one(
            f"SELECT {self._COLUMNS} FROM tickets WHERE user_id = ? AND status != 'closed'"
            " ORDER BY id DESC LIMIT 1",
            (user_id,),
        )

    async def latest_closed_of(self, user_id: int) -> Ticket | None:
        """The member's most recently closed ticket, of those that were complaints."""
        return await self._one(
            f"SELECT {self._COLUMNS} FROM tickets WHERE user_id = ? AND status = 'closed'"
            " AND not_complaint = 0 ORDER BY closed_at DESC, id DESC LIMIT 1",
            (user_id,),
        )

    async def reopen(self, ticket_id: int, now: float) -> bool:
        """A closed ticket becomes open again with its private chat open; false if it is not
        closed, or the member has another active ticket in its group (which then holds the
        conversation). A rating given stays until the member rates its next closing."""
        cursor = await self.write(
            "UPDATE tickets SET status = 'open', closed_at = NULL, closed_by = NULL,"
            " opened_at = ?, updated_at = ?"
            " WHERE id = ? AND status = 'closed' AND NOT EXISTS (SELECT 1 FROM tickets other"
            " WHERE other.chat_id = tickets.chat_id AND other.user_id = tickets.user_id"
            " AND other.status != 'closed')",
            (now, now, ticket_id),
        )
        return cursor.rowcount > 0

    async def active(self, chat_id: int | None = None, limit: int = 50) -> list[Ticket]:
        """Active tickets, oldest first: one group's, or every group's."""
        where = "status != 'closed'" + (" AND chat_id = ?" if chat_id is not None else "")
        parameters: tuple[Any, ...] = (chat_id, limit) if chat_id is not None else (limit,)
        async with self.db.execute(
            f"SELECT {self._COLUMNS} FROM tickets WHERE {where} ORDER BY id LIMIT ?", parameters
        ) as cursor:
            return [_ticket(row) for row in await cursor.fetchall()]

    async def set_reply(self, ticket_id: int, message_id: int) -> None:
        await self.write(
            "UPDATE tickets SET reply_message_id = ? WHERE id = ?", (message_id, ticket_id)
        )

    async def set_card(self, ticket_id: int, message_id: int) -> None:
        await self.write(
            "UPDATE tickets SET card_message_id = ? WHERE id = ?", (message_id, ticket_id)
        )

    async def mark_opened(self, ticket_id: int, now: float) -> bool:
        """Note that the member opened the private chat; true the first time."""
        cursor = await self.write(
            "UPDATE tickets SET opened_at = ?, remind_at = NULL, updated_at = ?"
            " WHERE id = ? AND opened_at IS NULL",
            (now, now, ticket_id),
        )
        if cursor.rowcount > 0:
            return True
        await self.write("UPDATE tickets SET opened_at = ? WHERE id = ?", (now, ticket_id))
        return False

    async def take(self, ticket_id: int, staff_id: int, now: float) -> bool:
        """An open ticket goes in progress with this staff member; false if it was not open."""
        cursor = await self.write(
            "UPDATE tickets SET status = 'in_progress', staff_id = ?, updated_at = ?"
            " WHERE id = ? AND status = 'open'",
            (staff_id, now, ticket_id),
        )
        return cursor.rowcount > 0

    async def close(self, ticket_id: int, actor_id: int | None, now: float) -> bool:
        """Close an active ticket; false if it was closed already."""
        cursor = await self.write(
            "UPDATE tickets SET status = 'closed', closed_at = ?, closed_by = ?,"
            " remind_at = NULL, updated_at = ? WHERE id = ? AND status != 'closed'",
            (now, actor_id, now, ticket_id),
        )
        return cursor.rowcount > 0

    async def close_as_no_complaint(self, ticket_id: int, actor_id: int, now: float) -> bool:
        """Close an active ticket that was no complaint: it is never reopened, and its member
        never hears of it (`latest_closed_of` passes it by); false if it was closed already."""
        cursor = await self.write(
            "UPDATE tickets SET status = 'closed', closed_at = ?, closed_by = ?,"
            " remind_at = NULL, not_complaint = 1, updated_at = ?"
            " WHERE id = ? AND status != 'closed'",
            (now, actor_id, now, ticket_id),
        )
        return cursor.rowcount > 0

    async def rate(self, ticket_id: int, rating: int, now: float) -> bool:
        """Record the member's satisfaction once per closing."""
        cursor = await self.write(
            "UPDATE tickets SET rating = ?, rated_at = ?, updated_at = ?"
            " WHERE id = ? AND status = 'closed' AND (rated_at IS NULL OR rated_at < closed_at)",
            (rating, now, now, ticket_id),
        )
        return cursor.rowcount > 0

    async def claim_reminder(self, ticket_id: int, now: float) -> bool:
        """Take a due reminder for sending; only one caller wins, and only once."""
        cursor = await self.write(
            "UPDATE tickets SET reminded_at = ?, remind_at = NULL WHERE id = ?"
            " AND remind_at IS NOT NULL AND remind_at <= ? AND status != 'closed'"
            " AND opened_at IS NULL",
            (now, ticket_id, now),
        )
        return cursor.rowcount > 0

    async def pending_reminders(self) -> list[tuple[int, float]]:
        """(ticket id, due time) of every reminder not yet sent."""
        async with self.db.execute(
            "SELECT id, remind_at FROM tickets WHERE remind_at IS NOT NULL"
            " AND status != 'closed' AND opened_at IS NULL ORDER BY remind_at"
        ) as cursor:
            return [(int(row[0]), float(row[1])) for row in await cursor.fetchall()]

    async def add_message(
        self,
        ticket_id: int,
        at: float,
        source: str,
        text: str,
        author_id: int | None = None,
        message_id: int | None = None,
    ) -> None:
        await self.write(
            "INSERT INTO ticket_messages (ticket_id, at, source, author_id, message_id, text)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (ticket_id, at, source, author_id, message_id, text),
        )
        await self.write("UPDATE tickets SET updated_at = ? WHERE id = ?", (at, ticket_id))

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        async with self.db.execute(
            "SELECT at, source, author_id, message_id, text FROM ticket_messages"
            " WHERE ticket_id = ? ORDER BY at, id",
            (ticket_id,),
        ) as cursor:
            return [TicketMessage(*row) for row in await cursor.fetchall()]

    async def add_post(self, chat_id: int, message_id: int, ticket_id: int) -> None:
        """Remember that a message in a chat is about this ticket, so replies find it."""
        await self.write(
            "INSERT OR REPLACE INTO ticket_posts (chat_id, message_id, ticket_id)"
            " VALUES (?, ?, ?)",
            (chat_id, message_id, ticket_id),
        )

    async def posts_in(self, chat_id: int, ticket_id: int) -> list[int]:
        """The messages about a ticket in one chat (in its group: qunbot's reply, the
        reminder), oldest first."""
        async with self.db.execute(
            "SELECT message_id FROM ticket_posts WHERE chat_id = ? AND ticket_id = ?"
            " ORDER BY message_id",
            (chat_id, ticket_id),
        ) as cursor:
            return [int(row[0]) for row in await cursor.fetchall()]

    async def for_post(self, chat_id: int, message_id: int) -> int | None:
        async with self.db.execute(
            "SELECT ticket_id FROM ticket_posts WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def hold(
        self,
        ticket_id: int,
        user_id: int,
        kind: HeldKind,
        now: float,
        *,
        text: str = "",
        source: tuple[int, int] | None = None,
    ) -> None:
        """Keep a message for the member until they open the private chat; `source` is the
        (chat, message) a copy is made from."""
        from_chat_id, message_id = source if source is not None else (None, None)
        await self.write(
            "INSERT INTO held_replies (ticket_id, user_id, kind, text, from_chat_id, message_id,"
            " held_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, user_id, str(kind), text, from_chat_id, message_id, now),
        )

    async def holds_for(self, user_id: int) -> bool:
        """Whether anything for the member is still held (or being delivered): a new reply
        must then wait behind it, to keep the order."""
        async with self.db.execute(
            "SELECT 1 FROM held_replies WHERE user_id = ? AND sent_at IS NULL LIMIT 1",
            (user_id,),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def held_for(self, user_id: int) -> list[HeldReply]:
        """The member's held messages nobody is delivering, oldest first."""
        return await self._held(
            "WHERE user_id = ? AND sent_at IS NULL AND claimed_at IS NULL", (user_id,)
        )

    async def claim_held(self, held_id: int, now: float) -> bool:
        """Take a held message for delivery; only one caller wins, and only once."""
        cursor = await self.write(
            "UPDATE held_replies SET claimed_at = ? WHERE id = ? AND claimed_at IS NULL"
            " AND sent_at IS NULL",
            (now, held_id),
        )
        return cursor.rowcount > 0

    async def release_held(self, held_id: int) -> None:
        """Give a claimed message back, because Telegram refused it again."""
        await self.write(
            "UPDATE held_replies SET claimed_at = NULL WHERE id = ? AND sent_at IS NULL",
            (held_id,),
        )

    async def mark_held_sent(self, held_id: int, now: float) -> None:
        await self.write("UPDATE held_replies SET sent_at = ? WHERE id = ?", (now, held_id))

    async def interrupted_holds(self) -> list[HeldReply]:
        """Held messages claimed but never marked sent: the bot stopped while delivering them,
        so whether they arrived is unknown."""
        return await self._held("WHERE claimed_at IS NOT NULL AND sent_at IS NULL", ())

    async def _held(self, where: str, parameters: tuple[Any, ...]) -> list[HeldReply]:
        async with self.db.execute(
            "SELECT id, ticket_id, user_id, kind, text, from_chat_id, message_id"
            f" FROM held_replies {where} ORDER BY id",
            parameters,
        ) as cursor:
            rows = await cursor.fetchall()
        return [HeldReply(r[0], r[1], r[2], HeldKind(r[3]), r[4], r[5], r[6]) for r in rows]

    async def _one(self, sql: str, parameters: tuple[Any, ...]) -> Ticket | None:
        async with self.db.execute(sql, parameters) as cursor:
            row = await cursor.fetchone()
        return _ticket(row) if row is not None else None


def _ticket(row: Any) -> Ticket:
    values = list(row)
    values[8] = TicketStatus(values[8])
    return Ticket(*values)


@dataclass(frozen=True, slots=True)
class GiftClaim:
    """A member's claim on a pool; `code` is None while the claim is being served."""

    code: str | None
    claimed_at: float


class GiftOutcome(StrEnum):
    GIVEN = "given"
    ALREADY = "already"
    EMPTY = "empty"


class Gifts(Repository):
    """Gift claims, once per member, group and pool, and the codes handed out, each once.

    Both rules are constraints in SQLite, and a claim is one transaction (the claim, its code
    and its audit entry), so two claims at the same moment cannot both win, and a crash
    leaves either a claim with its code or no claim at all.
    """

    async def claim(
        self,
        chat_id: int,
        user_id: int,
        pool: str,
        *,
        candidates: Sequence[str],
        shared_code: str | None,
        now: float,
    ) -> tuple[GiftOutcome, str | None]:
        """The member's one claim on the pool: a new code, the code they already have, or
        none left. A claim without a code (left by an older version) gets one now."""
        async with self.transactions.begin() as db:
            async with db.execute(
                "SELECT code FROM gift_claims WHERE chat_id = ? AND user_id = ? AND pool = ?",
                (chat_id, user_id, pool),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and row[0] is not None:
                return GiftOutcome.ALREADY, str(row[0])
            code = shared_code or await self._take_code(candidates, chat_id, user_id, now)
            if code is None:
                return GiftOutcome.EMPTY, None
            await db.execute(
                "INSERT INTO gift_claims (chat_id, user_id, pool, code, claimed_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id, pool)"
                " DO UPDATE SET code = excluded.code",
                (chat_id, user_id, pool, code, now),
            )
            await db.execute(
                "INSERT INTO audit (chat_id, at, target_id, action, text)"
                " VALUES (?, ?, ?, 'gift', ?)",
                (chat_id, now, user_id, f"{pool}: {code}"),
            )
        return GiftOutcome.GIVEN, code

    async def claim_of(self, chat_id: int, user_id: int, pool: str) -> GiftClaim | None:
        async with self.db.execute(
            "SELECT code, claimed_at FROM gift_claims"
            " WHERE chat_id = ? AND user_id = ? AND pool = ?",
            (chat_id, user_id, pool),
        ) as cursor:
            row = await cursor.fetchone()
        return GiftClaim(row[0], row[1]) if row else None

    async def _take_code(
        self, candidates: Sequence[str], chat_id: int, user_id: int, now: float
    ) -> str | None:
        """The first candidate never handed out, now handed to this member; None if none is
        left. One statement, so concurrent claims never get the same code."""
        rows = await self.write_returning(
            "INSERT INTO gift_codes (code, chat_id, user_id, given_at)"
            " SELECT candidates.value, ?, ?, ? FROM json_each(?) AS candidates"
            " WHERE candidates.value NOT IN (SELECT code FROM gift_codes)"
            " ORDER BY candidates.key LIMIT 1 RETURNING code",
            (chat_id, user_id, now, json.dumps(list(candidates), ensure_ascii=False)),
        )
        return str(rows[0][0]) if rows else None

    async def remaining(self, candidates: Sequence[str]) -> int:
        """How many of the candidates were never handed out."""
        async with self.db.execute(
            "SELECT COUNT(*) FROM json_each(?) AS candidates"
            " WHERE candidates.value NOT IN (SELECT code FROM gift_codes)",
            (json.dumps(list(candidates), ensure_ascii=False),),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0


class WelcomePosts(Repository):
    """The latest welcome per group, so the next one can replace it even after a restart."""

    async def latest(self, chat_id: int, *, posted_since: float | None = None) -> int | None:
        """The group's latest welcome; with `posted_since`, only if posted since then."""
        async with self.db.execute(
            "SELECT message_id FROM welcome_posts WHERE chat_id = ? AND posted_at >= ?",
            (chat_id, float("-inf") if posted_since is None else posted_since),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def replace(self, chat_id: int, message_id: int, now: float) -> None:
        await self.write(
            "INSERT INTO welcome_posts (chat_id, message_id, posted_at) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET message_id = excluded.message_id,"
            " posted_at = excluded.posted_at",
            (chat_id, message_id, now),
        )


@dataclass(frozen=True, slots=True)
class WaitingNewcomer:
    user_id: int
    name: str
    title: str
    checked: bool


class WelcomeQueue(Repository):
    """Newcomers waiting for their welcome, kept until it is posted: a restart welcomes them
    then, and a join delivered again after a crash is recognised and not welcomed twice."""

    KEPT_FOR = 86400.0
    """Welcomed newcomers are remembered this long, to recognise a join delivered again."""

    async def known(self, chat_id: int, user_id: int) -> bool:
        """Whether this join is already waiting or was welcomed."""
        async with self.db.execute(
            "SELECT 1 FROM welcome_queue WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        ) as cursor:
            return await cursor.fetchone() is not None

    async def add(self, chat_id: int, newcomer: WaitingNewcomer, now: float) -> None:
        await self.write(
            "INSERT INTO welcome_queue (chat_id, user_id, name, title, checked, joined_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET"
            " name = excluded.name, title = excluded.title, checked = excluded.checked,"
            " joined_at = excluded.joined_at, welcomed_at = NULL",
            (chat_id, newcomer.user_id, newcomer.name, newcomer.title, int(newcomer.checked), now),
        )

    async def joined_at(self, chat_id: int, user_id: int) -> float | None:
        """When the member joined, if they wait for their welcome or were welcomed in the last
        day. Written at once, unlike the members' join times, which a crash can cost."""
        async with self.db.execute(
            "SELECT joined_at FROM welcome_queue WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        return float(row[0]) if row is not None else None

    async def waiting(self, chat_id: int) -> list[WaitingNewcomer]:
        """Everyone of the group still waiting, in the order they joined."""
        async with self.db.execute(
            "SELECT user_id, name, title, checked FROM welcome_queue"
            " WHERE chat_id = ? AND welcomed_at IS NULL ORDER BY joined_at, user_id",
            (chat_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [WaitingNewcomer(int(r[0]), r[1], r[2], bool(r[3])) for r in rows]

    async def chats_waiting(self) -> list[int]:
        async with self.db.execute(
            "SELECT DISTINCT chat_id FROM welcome_queue WHERE welcomed_at IS NULL"
        ) as cursor:
            return [int(row[0]) for row in await cursor.fetchall()]

    async def welcomed(
        self, chat_id: int, user_ids: Sequence[int], message_id: int | None, now: float
    ) -> None:
        """Mark a wave welcomed and, if posted, make it the group's latest welcome: one
        transaction, so a crash leaves the wave either waiting or done."""
        async with self.transactions.begin() as db:
            await db.executemany(
                "UPDATE welcome_queue SET welcomed_at = ? WHERE chat_id = ? AND user_id = ?",
                [(now, chat_id, user_id) for user_id in user_ids],
            )
            if message_id is not None:
                await db.execute(
                    "INSERT INTO welcome_posts (chat_id, message_id, posted_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (chat_id) DO UPDATE SET message_id = excluded.message_id,"
                    " posted_at = excluded.posted_at",
                    (chat_id, message_id, now),
                )
            await db.execute(
                "DELETE FROM welcome_queue WHERE welcomed_at < ?", (now - self.KEPT_FOR,)
            )

    async def welcome_of_only(
        self, chat_id: int, user_id: int, *, posted_since: float
    ) -> int | None:
        """The group's latest welcome, posted since then, if it greeted this member alone."""
        async with self.db.execute(
            "SELECT post.message_id FROM welcome_posts AS post"
            " JOIN welcome_queue AS greeted ON greeted.chat_id = post.chat_id"
            " AND greeted.welcomed_at = post.posted_at"
            " WHERE post.chat_id = ? AND post.posted_at >= ?"
            " GROUP BY post.message_id HAVING COUNT(*) = 1 AND MAX(greeted.user_id) = ?",
            (chat_id, posted_since, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def removed(self, chat_id: int, user_id: int) -> None:
        """qunbot or an admin removed the member: the next welcome does not name them, and a
        later join is a new one."""
        await self.write(
            "DELETE FROM welcome_queue WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        )

    async def left(self, chat_id: int, user_id: int) -> None:
        """A welcomed member left: a later join is a new one. One still waiting stays named."""
        await self.write(
            "DELETE FROM welcome_queue WHERE chat_id = ? AND user_id = ?"
            " AND welcomed_at IS NOT NULL",
            (chat_id, user_id),
        )


@dataclass(frozen=True, slots=True)
class PendingCheck:
    chat_id: int
    user_id: int
    deadline: float


class NewcomerChecks(Repository):
    """Newcomers who must press the button by a deadline: a restart must not forget them."""

    async def add(self, chat_id: int, user_id: int, deadline: float, now: float) -> None:
        await self.write(
            "INSERT INTO newcomer_checks (chat_id, user_id, deadline, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET"
            " deadline = excluded.deadline, created_at = excluded.created_at",
            (chat_id, user_id, deadline, now),
        )

    async def finish(self, chat_id: int, user_id: int) -> bool:
        """End a pending check; only one caller (the press or the timeout) can win it."""
        cursor = await self.write(
            "DELETE FROM newcomer_checks WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        )
        return cursor.rowcount > 0

    async def pending_in(self, chat_id: int) -> int:
        async with self.db.execute(
            "SELECT COUNT(*) FROM newcomer_checks WHERE chat_id = ?", (chat_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def all(self) -> list[PendingCheck]:
        async with self.db.execute(
            "SELECT chat_id, user_id, deadline FROM newcomer_checks ORDER BY deadline"
        ) as cursor:
            return [PendingCheck(*row) for row in await cursor.fetchall()]


@dataclass(frozen=True, slots=True)
class PinnedPost:
    post_key: str
    due_at: float
    message_id: int


class RhythmPosts(Repository):
    """Every planned post the rhythm decided about, keyed by (group, post key, due time).

    A post is claimed (`sending`) before it is sent, so a crash or a restart can never send it
    twice; at worst a post interrupted mid-send is reported as `interrupted`.
    """

    async def decided_since(self, since: float) -> set[tuple[int, str, float]]:
        async with self.db.execute(
            "SELECT chat_id, post_key, due_at FROM rhythm_posts WHERE due_at >= ?", (since,)
        ) as cursor:
            return {(row[0], row[1], float(row[2])) for row in await cursor.fetchall()}

    async def claim(
        self, chat_id: int, key: str, due: float, *, promotional: bool, now: float
    ) -> bool:
        """Take the post for sending; false if it was already decided (sent or skipped)."""
        return await self.record(chat_id, key, due, "sending", promotional=promotional, now=now)

    async def record(
        self, chat_id: int, key: str, due: float, status: str, *, promotional: bool, now: float
    ) -> bool:
        cursor = await self.write(
            "INSERT INTO rhythm_posts (chat_id, post_key, due_at, status, promotional,"
            " decided_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (chat_id, key, due, status, int(promotional), now),
        )
        return cursor.rowcount > 0

    async def finish(
        self, chat_id: int, key: str, due: float, status: str, message_id: int | None = None
    ) -> None:
        await self.write(
            "UPDATE rhythm_posts SET status = ?, message_id = ? WHERE chat_id = ?"
            " AND post_key = ? AND due_at = ?",
            (status, message_id, chat_id, key, due),
        )

    async def release(self, chat_id: int, key: str, due: float) -> None:
        """Give a claimed post back because Telegram could not be reached; retried later."""
        await self.write(
            "DELETE FROM rhythm_posts WHERE chat_id = ? AND post_key = ? AND due_at = ?"
            " AND status = 'sending'",
            (chat_id, key, due),
        )

    async def set_pinned(self, chat_id: int, key: str, due: float, pinned: bool) -> None:
        await self.write(
            "UPDATE rhythm_posts SET pinned = ? WHERE chat_id = ? AND post_key = ? AND due_at = ?",
            (int(pinned), chat_id, key, due),
        )

    async def pinned_in(self, chat_id: int, scope: str) -> list[PinnedPost]:
        """The posts of one scope (a campaign) that are pinned now."""
        async with self.db.execute(
            "SELECT post_key, due_at, message_id FROM rhythm_posts WHERE chat_id = ?"
            " AND pinned = 1 AND message_id IS NOT NULL AND substr(post_key, 1, ?) = ?",
            (chat_id, len(scope) + 1, scope + ":"),
        ) as cursor:
            rows = await cursor.fetchall()
        return [PinnedPost(row[0], float(row[1]), int(row[2])) for row in rows]

    async def promotions_since(self, chat_id: int, since: float) -> list[float]:
        """Due times of the promotional posts sent (or being sent) since `since`."""
        async with self.db.execute(
            "SELECT due_at FROM rhythm_posts WHERE chat_id = ? AND promotional = 1"
            " AND status IN ('sending', 'sent', 'interrupted') AND due_at >= ? ORDER BY due_at",
            (chat_id, since),
        ) as cursor:
            return [float(row[0]) for row in await cursor.fetchall()]

    async def interrupted(self) -> list[tuple[int, str, float]]:
        """Posts claimed but never finished (the bot stopped mid-send), now marked so."""
        rows = await self.write_returning(
            "UPDATE rhythm_posts SET status = 'interrupted' WHERE status = 'sending'"
            " RETURNING chat_id, post_key, due_at"
        )
        return [(row[0], row[1], float(row[2])) for row in rows]


class DailyStats(Repository):
    """Per-group daily counters and the people who spoke each day, written in batches."""

    async def add(
        self,
        counts: Sequence[tuple[int, str, str, int]],
        speakers: Sequence[tuple[int, str, int]],
    ) -> None:
        """Add (chat, day, counter, n) counts and (chat, day, user) speakers in one
        transaction."""
        if not counts and not speakers:
            return
        async with self.transactions.begin():
            await self.write_many(
                "INSERT INTO daily_stats (chat_id, day, counter, value) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (chat_id, day, counter)"
                " DO UPDATE SET value = value + excluded.value",
                counts,
            )
            await self.write_many(
                "INSERT INTO daily_active (chat_id, day, user_id) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                speakers,
            )

    async def by_day(self, chat_id: int, first: str, last: str) -> dict[str, dict[str, int]]:
        """Counters per day (ISO dates, inclusive), `active` included."""
        days: dict[str, dict[str, int]] = {}
        async with self.db.execute(
            "SELECT day, counter, value FROM daily_stats WHERE chat_id = ?"
            " AND day BETWEEN ? AND ?",
            (chat_id, first, last),
        ) as cursor:
            for day, counter, value in await cursor.fetchall():
                days.setdefault(day, {})[counter] = int(value)
        async with self.db.execute(
            "SELECT day, COUNT(*) FROM daily_active WHERE chat_id = ? AND day BETWEEN ? AND ?"
            " GROUP BY day",
            (chat_id, first, last),
        ) as cursor:
            for day, active in await cursor.fetchall():
                days.setdefault(day, {})["active"] = int(active)
        return days

    async def active_between(self, chat_id: int, first: str, last: str) -> int:
        """Distinct people who spoke in the period."""
        async with self.db.execute(
            "SELECT COUNT(DISTINCT user_id) FROM daily_active WHERE chat_id = ?"
            " AND day BETWEEN ? AND ?",
            (chat_id, first, last),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def forget_speakers_before(self, day: str) -> int:
        cursor = await self.write("DELETE FROM daily_active WHERE day < ?", (day,))
        return cursor.rowcount


class GroupSizes(Repository):
    """The last member count seen per group and the size alert it has reached."""

    async def last_check(self, chat_id: int) -> tuple[int, float]:
        """The size alert level reached and when the size was last checked."""
        async with self.db.execute(
            "SELECT alert_level, checked_at FROM group_sizes WHERE chat_id = ?", (chat_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return (int(row[0]), float(row[1])) if row else (0, float("-inf"))

    async def record(self, chat_id: int, members: int, level: int, now: float) -> None:
        await self.write(
            "INSERT INTO group_sizes (chat_id, members, alert_level, checked_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
            " members = excluded.members, alert_level = excluded.alert_level,"
            " checked_at = excluded.checked_at",
            (chat_id, members, level, now),
        )


@dataclass(frozen=True, slots=True)
class Offence:
    """One message's offence, as the enforcer records it before acting."""

    chat_id: int
    message_id: int
    user_id: int
    at: float
    action: str
    rule: str
    verdict: dict[str, Any]
    text: str
    delete: bool
    user_name: str = ""
    """The offender's name, to write the staff note again after a crash."""


@dataclass(frozen=True, slots=True)
class OwedNote:
    """An enforced message whose staff note never reached the staff chat."""

    audit_id: int
    chat_id: int
    message_id: int
    user_id: int
    user_name: str
    at: float
    verdict: dict[str, Any]


RECORD_ENFORCEMENT = (
    "CREATE TEMP VIEW IF NOT EXISTS enforce_message AS SELECT 0 AS chat_id, 0 AS message_id,"
    " 0 AS user_id, 0.0 AS at, '' AS action, '' AS rule, '' AS verdict, '' AS text,"
    " 0 AS delete_pending, '' AS user_name",
    # enforced_messages is WITHOUT ROWID, so last_insert_rowid() is still the audit id after it.
    "CREATE TEMP TRIGGER IF NOT EXISTS enforce_message_insert INSTEAD OF INSERT ON"
    " enforce_message BEGIN"
    " INSERT INTO audit (chat_id, at, target_id, message_id, action, verdict, text)"
    " VALUES (NEW.chat_id, NEW.at, NEW.user_id, NEW.message_id, NEW.action, NEW.verdict,"
    " NEW.text);"
    " INSERT INTO enforced_messages (chat_id, message_id, audit_id, at, delete_pending,"
    " note_owed, user_name) VALUES (NEW.chat_id, NEW.message_id, last_insert_rowid(), NEW.at,"
    " NEW.delete_pending, 1, NEW.user_name);"
    " INSERT INTO offences (chat_id, user_id, at, rule, audit_id)"
    " VALUES (NEW.chat_id, NEW.user_id, NEW.at, NEW.rule, last_insert_rowid());"
    " END",
)
"""A view and its trigger on this connection (TEMP: nothing in the database file changes).
The staff note starts owed: it is cleared once the digest carrying it was delivered."""


class Enforcements(Repository):
    """Which messages were already enforced: the audit entry, the offence and this row are
    written in one transaction before acting, so a message redelivered after a crash is
    never punished or announced twice, and a delete or staff note cut short by one is sent
    again."""

    def __init__(self, db: aiosqlite.Connection, transactions: Transactions) -> None:
        super().__init__(db, transactions)
        self.prepared = False

    async def audit_id_for(self, chat_id: int, message_id: int) -> int | None:
        # One round trip to the database thread rather than three: asked for every ad.
        rows = await self.db.execute_fetchall(
            "SELECT audit_id FROM enforced_messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return next((int(row[0]) for row in rows), None)

    async def record(self, offence: Offence) -> int:
        """Write the audit entry, the offence and the enforced mark; the audit id.

        One statement (an insert into a view whose trigger writes the three rows), so it is
        atomic by itself and costs one round trip to the database thread instead of five: a
        raid's backlog is recorded one ad after another."""
        o = offence
        async with self.transactions.writing():
            if not self.prepared:
                for statement in RECORD_ENFORCEMENT:
                    await self.write(statement)
                self.prepared = True
            await self.write(
                "INSERT INTO enforce_message (chat_id, message_id, user_id, at, action, rule,"
                " verdict, text, delete_pending, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    o.chat_id,
                    o.message_id,
                    o.user_id,
                    o.at,
                    o.action,
                    o.rule,
                    json.dumps(o.verdict, ensure_ascii=False),
                    o.text,
                    int(o.delete),
                    o.user_name,
                ),
            )
        audit_id = await self.audit_id_for(o.chat_id, o.message_id)
        assert audit_id is not None
        return audit_id

    async def deletes_pending(self, since: float) -> list[tuple[int, int]]:
        """(chat, message) deletes owed since `since` (Telegram refuses older ones anyway)."""
        async with self.db.execute(
            "SELECT chat_id, message_id FROM enforced_messages"
            " WHERE delete_pending = 1 AND at >= ? ORDER BY chat_id, message_id",
            (since,),
        ) as cursor:
            return [(int(row[0]), int(row[1])) for row in await cursor.fetchall()]

    async def deleted(self, chat_id: int, message_ids: Sequence[int]) -> None:
        placeholders = ", ".join("?" * len(message_ids))
        try:
            await self.write(
                "UPDATE enforced_messages SET delete_pending = 0"
                f" WHERE chat_id = ? AND message_id IN ({placeholders})",
                (chat_id, *message_ids),
            )
        except sqlite3.Error as error:
            raise StorageError(f"deletes not marked done: {error}") from error

    async def notes_owed(self, since: float) -> list[OwedNote]:
        """Enforced messages since `since` whose staff note was never delivered, oldest first."""
        async with self.db.execute(
            "SELECT e.audit_id, e.chat_id, e.message_id, a.target_id, e.user_name, e.at,"
            " a.verdict FROM enforced_messages AS e JOIN audit AS a ON a.id = e.audit_id"
            " WHERE e.note_owed = 1 AND e.at >= ? ORDER BY e.audit_id",
            (since,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            OwedNote(int(r[0]), int(r[1]), int(r[2]), int(r[3] or 0), r[4], r[5], json.loads(r[6]))
            for r in rows
        ]

    async def noted(self, audit_ids: Sequence[int]) -> None:
        """These actions' staff notes reached the staff chat."""
        placeholders = ", ".join("?" * len(audit_ids))
        await self.write(
            "UPDATE enforced_messages SET note_owed = 0"
            f" WHERE note_owed = 1 AND audit_id IN ({placeholders})",
            tuple(audit_ids),
        )

    async def forget_before(self, cutoff: float) -> None:
        await self.write("DELETE FROM enforced_messages WHERE at < ?", (cutoff,))


class Retention(Repository):
    """Clears what members wrote, their names on closed tickets, ticket replies (delivered, or
    never deliverable to a closed ticket), learned samples and invite links once older than the
    retention; the other rows stay, so counts, the ladder and /why keep working. Open tickets
    keep theirs until they are closed: staff still need the conversation."""

    async def purge_texts(self, cutoff: float) -> int:
        """Blank or delete what was written before `cutoff`; returns how many rows changed."""
        cleared = 0
        for sql in (
            "UPDATE audit SET text = NULL WHERE at < ? AND text IS NOT NULL",
            "UPDATE tickets SET text = '', user_name = '' WHERE created_at < ?"
            " AND (text <> '' OR user_name <> '') AND status = 'closed'",
            "UPDATE ticket_messages SET text = '' WHERE at < ? AND text <> ''"
            " AND ticket_id IN (SELECT id FROM tickets WHERE status = 'closed')",
            "UPDATE held_replies SET text = '' WHERE sent_at < ? AND text <> ''",
            # Never delivered, and its ticket long closed: arriving months late would confuse.
            "DELETE FROM held_replies WHERE sent_at IS NULL AND held_at < ?"
            " AND ticket_id IN (SELECT id FROM tickets WHERE status = 'closed')",
            "UPDATE reinvites SET invite_link = NULL WHERE sent_at < ?"
            " AND invite_link IS NOT NULL",
            "DELETE FROM learned_samples WHERE at < ?",
        ):
            cursor = await self.write(sql, (cutoff,))
            cleared += max(cursor.rowcount, 0)
        return cleared

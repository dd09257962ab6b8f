"""Narrow async repositories over the database, keyed by chat id. The only code that writes SQL."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

RECENT_MESSAGES_KEPT = 32
"""Message times kept per member for flood detection; floods are counted in seconds."""


@dataclass(slots=True)
class GroupRow:
    chat_id: int
    title: str
    policy: str | None
    overrides: dict[str, Any]
    dry_run: bool


class Groups:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def ensure(self, chat_id: int, title: str, now: float) -> None:
        await self.db.execute(
            "INSERT INTO groups (chat_id, title, created_at, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title,"
            " updated_at = excluded.updated_at WHERE groups.title != excluded.title",
            (chat_id, title, now, now),
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

    async def set_overrides(self, chat_id: int, overrides: dict[str, Any], now: float) -> None:
        await self.db.execute(
            "UPDATE groups SET overrides = ?, updated_at = ? WHERE chat_id = ?",
            (json.dumps(overrides, ensure_ascii=False), now, chat_id),
        )

    async def set_dry_run(self, chat_id: int, dry_run: bool, now: float) -> None:
        await self.db.execute(
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
    recent_message_times: deque[float] = field(
        default_factory=lambda: deque(maxlen=RECENT_MESSAGES_KEPT)
    )
    dirty: bool = False


class Members:
    """Member activity with a write-behind cache; `flush()` persists it in one transaction."""

    def __init__(self, db: aiosqlite.Connection, *, cache_limit: int = 50_000) -> None:
        self.db = db
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
            "SELECT first_seen, last_seen, message_count, trusted FROM members"
            " WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        async with self.db.execute(
            "SELECT at FROM offences WHERE chat_id = ? AND user_id = ? AND acknowledged = 0"
            " ORDER BY at",
            (chat_id, user_id),
        ) as cursor:
            offences = [float(r[0]) for r in await cursor.fetchall()]
        if row is None:
            return MemberState(first_seen=now, last_seen=now, offence_times=offences, dirty=True)
        return MemberState(row[0], row[1], row[2], bool(row[3]), offences)

    def record_message(self, state: MemberState, now: float) -> None:
        state.message_count += 1
        state.last_seen = now
        state.recent_message_times.append(now)
        state.dirty = True

    async def set_trusted(self, chat_id: int, user_id: int, trusted: bool, now: float) -> None:
        state = await self.state(chat_id, user_id, now)
        state.trusted = trusted
        state.dirty = True
        await self.flush()

    async def flush(self) -> int:
        """Write every changed member in one transaction; returns how many were written."""
        dirty = [(key, state) for key, state in self.cache.items() if state.dirty]
        if not dirty:
            return 0
        await self.db.execute("BEGIN")
        try:
            await self.db.executemany(
                "INSERT INTO members (chat_id, user_id, first_seen, last_seen, message_count,"
                " trusted) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET"
                " last_seen = excluded.last_seen, message_count = excluded.message_count,"
                " trusted = excluded.trusted",
                [
                    (key[0], key[1], s.first_seen, s.last_seen, s.message_count, int(s.trusted))
                    for key, s in dirty
                ],
            )
            await self.db.execute("COMMIT")
        except BaseException:
            await self.db.execute("ROLLBACK")
            raise
        for _, state in dirty:
            state.dirty = False
        return len(dirty)

    async def _evict(self) -> None:
        await self.flush()
        for key in list(self.cache)[: self.cache_limit // 4]:
            del self.cache[key]

    def forget_chat(self, chat_id: int) -> None:
        for key in [key for key in self.cache if key[0] == chat_id]:
            del self.cache[key]


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


class Audit:
    _COLUMNS = "id, chat_id, at, actor_id, target_id, message_id, action, verdict, text"

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

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
        cursor = await self.db.execute(
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

    async def for_message(self, chat_id: int, message_id: int) -> AuditEntry | None:
        return await self._one(
            f"SELECT {self._COLUMNS} FROM audit WHERE chat_id = ? AND message_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (chat_id, message_id),
        )

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


class Offences:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def add(
        self, chat_id: int, user_id: int, at: float, rule: str, audit_id: int | None
    ) -> int:
        cursor = await self.db.execute(
            "INSERT INTO offences (chat_id, user_id, at, rule, audit_id) VALUES (?, ?, ?, ?, ?)",
            (chat_id, user_id, at, rule, audit_id),
        )
        return int(cursor.lastrowid or 0)

    async def count_within(self, chat_id: int, user_id: int, since: float) -> int:
        async with self.db.execute(
            "SELECT COUNT(*) FROM offences WHERE chat_id = ? AND user_id = ? AND at >= ?"
            " AND acknowledged = 0",
            (chat_id, user_id, since),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def acknowledge_latest(self, chat_id: int, user_id: int) -> bool:
        """Forgive the member's latest offence; true if there was one to forgive."""
        cursor = await self.db.execute(
            "UPDATE offences SET acknowledged = 1 WHERE id = (SELECT id FROM offences"
            " WHERE chat_id = ? AND user_id = ? AND acknowledged = 0 ORDER BY at DESC LIMIT 1)",
            (chat_id, user_id),
        )
        return cursor.rowcount > 0

    async def acknowledged_since(self, chat_id: int, user_id: int, since: float) -> int:
        async with self.db.execute(
            "SELECT COUNT(*) FROM offences WHERE chat_id = ? AND user_id = ? AND at >= ?"
            " AND acknowledged = 1",
            (chat_id, user_id, since),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def pardon(self, chat_id: int, user_id: int) -> int:
        cursor = await self.db.execute(
            "DELETE FROM offences WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        )
        return cursor.rowcount


@dataclass(frozen=True, slots=True)
class PendingReinvite:
    chat_id: int
    user_id: int
    eligible_at: float


class Reinvites:
    """Removed members who may come back: a restart must not forget them."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def add(self, chat_id: int, user_id: int, eligible_at: float, now: float) -> None:
        await self.db.execute(
            "INSERT INTO reinvites (chat_id, user_id, eligible_at, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (chat_id, user_id) DO UPDATE SET eligible_at = excluded.eligible_at,"
            " created_at = excluded.created_at, sent_at = NULL, invite_link = NULL",
            (chat_id, user_id, eligible_at, now),
        )

    async def pending_for(self, user_id: int) -> list[PendingReinvite]:
        async with self.db.execute(
            "SELECT chat_id, user_id, eligible_at FROM reinvites"
            " WHERE user_id = ? AND sent_at IS NULL ORDER BY eligible_at",
            (user_id,),
        ) as cursor:
            return [PendingReinvite(*row) for row in await cursor.fetchall()]

    async def make_eligible(self, chat_id: int, user_id: int, now: float) -> bool:
        cursor = await self.db.execute(
            "UPDATE reinvites SET eligible_at = ? WHERE chat_id = ? AND user_id = ?"
            " AND sent_at IS NULL",
            (now, chat_id, user_id),
        )
        return cursor.rowcount > 0

    async def claim(self, chat_id: int, user_id: int, now: float) -> bool:
        """Mark a due re-invite as being sent; only one caller can win it."""
        cursor = await self.db.execute(
            "UPDATE reinvites SET sent_at = ? WHERE chat_id = ? AND user_id = ?"
            " AND sent_at IS NULL AND eligible_at <= ?",
            (now, chat_id, user_id, now),
        )
        return cursor.rowcount > 0

    async def record_link(self, chat_id: int, user_id: int, link: str) -> None:
        await self.db.execute(
            "UPDATE reinvites SET invite_link = ? WHERE chat_id = ? AND user_id = ?",
            (link, chat_id, user_id),
        )

    async def release(self, chat_id: int, user_id: int) -> None:
        """Give a claimed re-invite back, because sending it failed."""
        await self.db.execute(
            "UPDATE reinvites SET sent_at = NULL WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id),
        )

    async def cancel(self, chat_id: int, user_id: int) -> None:
        await self.db.execute(
            "DELETE FROM reinvites WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        )


class LearnedSamples:
    """Messages admins marked as spam or not, which teach the scorer."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def add(
        self, chat_id: int, text: str, *, spam: bool, at: float, actor_id: int | None
    ) -> None:
        await self.db.execute(
            "INSERT INTO learned_samples (chat_id, at, actor_id, spam, text)"
            " VALUES (?, ?, ?, ?, ?)",
            (chat_id, at, actor_id, int(spam), text),
        )

    async def all(self) -> list[tuple[str, bool]]:
        async with self.db.execute("SELECT text, spam FROM learned_samples ORDER BY id") as cursor:
            return [(row[0], bool(row[1])) for row in await cursor.fetchall()]


class Meta:
    """Small named values the bot keeps for itself, such as its signing secret."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def get_or_create(self, key: str, make: Callable[[], str]) -> str:
        """The stored value, or `make()` stored atomically if none exists yet."""
        await self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (key, make()),
        )
        async with self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return str(row[0])

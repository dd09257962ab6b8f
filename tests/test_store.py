"""The SQLite store: migrations, batching of member activity, and group migrations."""

from __future__ import annotations

import ast
import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from bot.store import Offence, Store
from bot.store.database import NewerDatabaseError, connect, schema_version
from bot.store.migrations import LATEST_VERSION, MIGRATIONS


async def table_shapes(db: aiosqlite.Connection) -> dict[str, str]:
    async with db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL"
        " AND name != 'schema_version' ORDER BY name"
    ) as cursor:
        rows = await cursor.fetchall()
    shapes = {}
    for name, sql in rows:
        async with db.execute(f"PRAGMA table_info({name})") as cursor:
            columns = [tuple(row[1:4]) for row in await cursor.fetchall()]
        shapes[name] = repr(columns) if columns else sql
    return shapes


async def test_empty_database_migrates_to_latest(tmp_path: Path) -> None:
    db = await connect(tmp_path / "q.db")
    try:
        assert await schema_version(db) == LATEST_VERSION
        async with db.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"  # type: ignore[index]
    finally:
        await db.close()


@pytest.mark.parametrize("start", [migration.version for migration in MIGRATIONS[:-1]])
async def test_every_older_version_upgrades_to_the_same_schema(tmp_path: Path, start: int) -> None:
    fresh = await connect(tmp_path / "fresh.db")
    old = await connect(tmp_path / "old.db", up_to=start)
    try:
        assert await schema_version(old) == start
        await old.execute(
            "INSERT INTO groups (chat_id, title, created_at, updated_at) VALUES (-1, 'kept', 0, 0)"
        )
        await old.close()
        old = await connect(tmp_path / "old.db")
        assert await schema_version(old) == LATEST_VERSION
        assert await table_shapes(old) == await table_shapes(fresh)
        async with old.execute("SELECT title FROM groups WHERE chat_id = -1") as cursor:
            assert (await cursor.fetchone())[0] == "kept"  # type: ignore[index]
    finally:
        await fresh.close()
        await old.close()


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    db = await connect(tmp_path / "q.db")
    await db.execute(
        "INSERT INTO schema_version VALUES (?, 'from the future', 0)", (LATEST_VERSION + 1,)
    )
    await db.close()
    with pytest.raises(NewerDatabaseError, match="upgrade qunbot"):
        await connect(tmp_path / "q.db")


async def test_member_activity_is_written_in_batches(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "q.db")
    try:
        for second in range(5):
            state = await store.members.state(-100, 7, 1000.0 + second)
            store.members.record_message(state, 1000.0 + second)
        async with store.db.execute("SELECT COUNT(*) FROM members") as cursor:
            assert (await cursor.fetchone())[0] == 0  # type: ignore[index]
        assert await store.members.flush() == 1
        async with store.db.execute(
            "SELECT message_count, first_seen, last_seen FROM members"
        ) as cursor:
            assert await cursor.fetchone() == (5, 1000.0, 1004.0)
    finally:
        await store.close()


async def test_state_survives_a_reopen(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "q.db")
    state = await store.members.state(-100, 7, 50.0)
    store.members.record_message(state, 50.0)
    await store.offences.add(-100, 7, 60.0, "link.blocked", None)
    await store.close()
    store = await Store.open(tmp_path / "q.db")
    try:
        state = await store.members.state(-100, 7, 99.0)
        assert (state.message_count, state.first_seen, state.offence_times) == (1, 50.0, [60.0])
        assert await store.integrity_ok()
    finally:
        await store.close()


async def test_group_state_follows_a_migration_to_supergroup(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "q.db")
    try:
        await store.groups.ensure(-5, "old group", 1.0)
        await store.groups.set_overrides(-5, {"moderation": {"mode": "hard"}}, 2.0)
        state = await store.members.state(-5, 7, 1.0)
        store.members.record_message(state, 1.0)
        await store.offences.add(-5, 7, 1.0, "link.blocked", None)
        await store.reinvites.add(-5, 7, 10.0, 1.0)
        await store.move_chat(-5, -1005)
        assert await store.groups.get(-5) is None
        moved = await store.groups.get(-1005)
        assert moved is not None and moved.overrides == {"moderation": {"mode": "hard"}}
        assert await store.offences.count_within(-1005, 7, 0.0) == 1
        assert (await store.members.state(-1005, 7, 2.0)).message_count == 1
        assert [p.chat_id for p in await store.reinvites.pending_for(7)] == [-1005]
    finally:
        await store.close()


async def test_a_due_reinvite_can_be_claimed_only_once(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "q.db")
    try:
        await store.reinvites.add(-5, 7, eligible_at=100.0, now=0.0)
        assert not await store.reinvites.claim(-5, 7, now=50.0)
        assert await store.reinvites.claim(-5, 7, now=100.0)
        assert not await store.reinvites.claim(-5, 7, now=101.0)
    finally:
        await store.close()


async def test_a_migration_moves_member_state_but_nothing_keyed_by_message_id(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "q.db")
    try:
        await store.groups.ensure(-5, "old group", 1.0)
        await store.audit.add(-5, 1.0, "neutral", target_id=7, message_id=3)
        await store.welcome_posts.replace(-5, 4, 1.0)
        await store.db.execute(
            "INSERT INTO enforced_messages (chat_id, message_id, audit_id, at, delete_pending)"
            " VALUES (-5, 3, 1, 1.0, 1)"
        )
        await store.move_chat(-5, -1005)
        # The supergroup numbers its messages from 1 again: message 3 there is a new one.
        assert await store.enforced.audit_id_for(-1005, 3) is None
        assert await store.audit.for_message(-1005, 3) is None
        assert await store.welcome_posts.latest(-1005) is None
        assert await store.audit.for_message(-5, 3) is not None
        # A delete owed in the old chat cannot be carried out anywhere: it is dropped.
        assert await store.enforced.deletes_pending(0.0) == []
    finally:
        await store.close()


async def test_a_gift_claim_killed_at_any_statement_leaves_all_of_it_or_nothing(
    tmp_path: Path,
) -> None:
    """What a kill leaves is what was committed: before each statement of a claim, another
    connection reads the file, as the next start would."""
    path = tmp_path / "q.db"
    store = await Store.open(path)
    seen: list[tuple[list[tuple[int, str | None]], list[tuple[str, int]]]] = []
    execute = store.db.execute

    def committed_then_execute(sql: str, parameters: object = None) -> object:
        with sqlite3.connect(path) as reader:
            claims = reader.execute("SELECT user_id, code FROM gift_claims").fetchall()
            codes = reader.execute("SELECT code, user_id FROM gift_codes").fetchall()
        seen.append((claims, codes))
        return execute(sql, parameters) if parameters is not None else execute(sql)

    store.db.execute = committed_then_execute  # type: ignore[assignment,method-assign]
    try:
        await store.gifts.claim(
            -5, 7, "welcome", candidates=["A-1", "A-2"], shared_code=None, now=1.0
        )
    finally:
        store.db.execute = execute  # type: ignore[method-assign]
    try:
        assert len(seen) >= 4, "the claim took several statements"
        for claims, codes in seen:
            assert all(code is not None for _, code in claims), "a claim without its code"
            assert sorted(codes) == sorted((code, user) for user, code in claims if code)
        assert (await store.gifts.claim_of(-5, 7, "welcome")) is not None
    finally:
        await store.close()


async def test_an_enforcement_is_recorded_whole_and_only_once(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "q.db")
    try:
        await store.audit.add(-5, 1.0, "an earlier entry")  # audit and offence ids differ
        first = await store.enforced.record(Offence(-5, 100, 7, 2.0, "soft", "r", {}, "ad", True))
        second = await store.enforced.record(Offence(-5, 101, 8, 2.0, "hard", "r", {}, "ad", True))
        linked = await store.db.execute_fetchall(
            "SELECT o.user_id, a.target_id, a.message_id FROM offences o"
            " JOIN audit a ON a.id = o.audit_id ORDER BY o.id"
        )
        assert [tuple(row) for row in linked] == [(7, 7, 100), (8, 8, 101)]
        assert await store.enforced.audit_id_for(-5, 101) == second != first
        with pytest.raises(sqlite3.IntegrityError):
            await store.enforced.record(Offence(-5, 100, 7, 3.0, "soft", "r", {}, "ad", True))
        counts = await store.db.execute_fetchall(
            "SELECT (SELECT COUNT(*) FROM audit), (SELECT COUNT(*) FROM offences)"
        )
        assert tuple(counts[0]) == (3, 2), "a refused duplicate leaves nothing behind"
    finally:
        await store.close()


async def test_coroutines_running_the_same_statement_at_once_all_succeed() -> None:
    """aiosqlite frees a cursor on the event loop's thread; were statements shared between
    cursors, freeing one would reset the statement another coroutine is running on the
    database thread, and SQLite would answer "bad parameter or other API misuse". Shared
    statements lose this race within milliseconds, so thousands of rounds make it certain."""
    db = await connect(":memory:")
    try:
        await db.execute("CREATE TABLE owed (batch INTEGER, item INTEGER, pending INTEGER)")
        await db.executemany(
            "INSERT INTO owed VALUES (?, ?, 1)", [(b, i) for b in range(3) for i in range(50)]
        )

        async def mark_done(batch: int) -> None:
            for start in range(2000):
                await db.executemany(
                    "UPDATE owed SET pending = 0 WHERE batch = ? AND item = ?",
                    [(batch, item) for item in range(start % 46, start % 46 + 5)],
                )

        async def count_owed() -> None:
            for item in range(2000):
                async with db.execute(
                    "SELECT batch FROM owed WHERE pending = 1 AND item >= ?", (item % 50,)
                ) as cursor:
                    await cursor.fetchall()

        await asyncio.gather(*(mark_done(batch) for batch in range(3)), count_owed())
        left = await db.execute_fetchall("SELECT COUNT(*) FROM owed WHERE pending = 1")
        assert tuple(left[0]) == (0,)
    finally:
        await db.close()


async def test_writes_from_other_coroutines_survive_a_transaction_rolled_back(
    tmp_path: Path,
) -> None:
    """One connection serves every coroutine: a write sent while another coroutine's
    transaction is open would join it and vanish with its rollback. Each waits its turn."""
    store = await Store.open(tmp_path / "q.db")
    try:
        opened = asyncio.Event()

        async def transaction_that_fails() -> None:
            async with store.transactions.begin() as db:
                await db.execute("INSERT INTO meta (key, value) VALUES ('doomed', '1')")
                opened.set()
                await asyncio.sleep(0.05)
                raise RuntimeError("a statement of the transaction failed")

        failing = asyncio.create_task(transaction_that_fails())
        await opened.wait()
        audit_id = await store.audit.add(-5, 1.0, "an admin's action")
        await store.reinvites.add(-5, 7, 10.0, 1.0)
        with pytest.raises(RuntimeError):
            await failing
        assert await store.audit.get(audit_id) is not None
        assert [r.user_id for r in await store.reinvites.pending_for(7)] == [7]
        assert await store.meta.get("doomed") is None, "the failed transaction is undone"
    finally:
        await store.close()


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def writes_around_the_lock(source: str) -> list[str]:
    """Statements sent with `self.db.execute…` that change data: they would skip the lock."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if ast.unparse(node.func.value) != "self.db" or not node.args:
            continue
        first = node.args[0]
        sql = first.value if isinstance(first, ast.Constant) else ast.unparse(first)
        if isinstance(sql, str) and sql.lstrip("'\"f").upper().startswith(WRITES):
            found.append(sql.split("(")[0][:40])
    return found


def test_every_write_of_the_repositories_waits_for_open_transactions() -> None:
    source = (Path(__file__).resolve().parents[1] / "bot/store/repos.py").read_text("utf-8")
    assert writes_around_the_lock(source) == []
    planted = 'async def f(self):\n    await self.db.execute("UPDATE audit SET x = 1")\n'
    assert writes_around_the_lock(planted) == ["UPDATE audit SET x = 1"]


async def test_forgiving_the_latest_offence_never_picks_a_flood(tmp_path: Path) -> None:
    """A flood is off the ladder: /unwarn forgives the ad."""
    store = await Store.open(tmp_path / "q.db")
    try:
        await store.offences.add(-5, 7, 1.0, "contact.wechat", None)
        await store.offences.add(-5, 7, 2.0, "behaviour.flood", None)
        assert await store.offences.count_within(-5, 7, 0.0) == 1
        assert await store.offences.acknowledge_latest(-5, 7)
        assert await store.offences.count_within(-5, 7, 0.0) == 0
        assert not await store.offences.acknowledge_latest(-5, 7), "only the flood is left"
    finally:
        await store.close()


async def test_a_group_moving_while_a_transaction_is_open_waits_for_it(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "q.db")
    try:
        await store.groups.ensure(-5, "Shop", 1.0)
        opened = asyncio.Event()

        async def flush_in_progress() -> None:
            async with store.transactions.begin() as db:
                await db.execute("INSERT INTO meta (key, value) VALUES ('flushed', '1')")
                opened.set()
                await asyncio.sleep(0.05)

        flushing = asyncio.create_task(flush_in_progress())
        await opened.wait()
        await store.move_chat(-5, -1005)
        await flushing
        assert await store.meta.get("flushed") == "1"
        assert await store.groups.get(-1005) is not None and await store.groups.get(-5) is None
    finally:
        await store.close()

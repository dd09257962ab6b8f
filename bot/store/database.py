"""Opening the SQLite database: WAL, a busy timeout and numbered migrations."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
from loguru import logger

from bot.store.migrations import CHAT_KEYED_TABLES, LATEST_VERSION, MIGRATIONS

BUSY_TIMEOUT_MS = 5000


class NewerDatabaseError(RuntimeError):
    """The database was written by a newer qunbot; refuse rather than corrupt it."""


async def connect(path: Path | str, *, up_to: int = LATEST_VERSION) -> aiosqlite.Connection:
    """Open (creating if needed) and migrate the database at `path`."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute("PRAGMA foreign_keys = ON")
        await migrate(connection, up_to=up_to)
    except BaseException:
        await connection.close()
        raise
    return connection


async def schema_version(connection: aiosqlite.Connection) -> int:
    await connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    async with connection.execute("SELECT MAX(version) FROM schema_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def migrate(connection: aiosqlite.Connection, *, up_to: int = LATEST_VERSION) -> int:
    """Apply every migration newer than the database, each in its own transaction."""
    current = await schema_version(connection)
    if current > LATEST_VERSION:
        raise NewerDatabaseError(
            f"the database is at schema version {current}, newer than this qunbot "
            f"({LATEST_VERSION}); upgrade qunbot or point `database:` at another file"
        )
    for migration in MIGRATIONS:
        if current < migration.version <= up_to:
            await connection.execute("BEGIN IMMEDIATE")
            try:
                for statement in migration.statements:
                    await connection.execute(statement)
                await connection.execute(
                    "INSERT INTO schema_version (version, description, applied_at)"
                    " VALUES (?, ?, CAST(strftime('%s', 'now') AS REAL))",
                    (migration.version, migration.description),
                )
                await connection.execute("COMMIT")
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            logger.info(
                "database migrated to version {}: {}", migration.version, migration.description
            )
            current = migration.version
    return current


async def move_chat(connection: aiosqlite.Connection, old_id: int, new_id: int) -> None:
    """Move a group's whole state to its new id (a group became a supergroup)."""
    await connection.execute("BEGIN IMMEDIATE")
    try:
        await connection.execute(
            "UPDATE OR REPLACE groups SET chat_id = ? WHERE chat_id = ?", (new_id, old_id)
        )
        for table in CHAT_KEYED_TABLES:
            await connection.execute(
                f"UPDATE OR REPLACE {table} SET chat_id = ? WHERE chat_id = ?",
                (new_id, old_id),
            )
        await connection.execute("COMMIT")
    except BaseException:
        await connection.execute("ROLLBACK")
        raise

"""Opening the SQLite database: checked, private to its owner, WAL, a busy timeout and
numbered migrations."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import aiosqlite
from loguru import logger

from bot.store.migrations import LATEST_VERSION, MIGRATIONS, MOVED_TABLES
from policies.base import Invalid

BUSY_TIMEOUT_MS = 5000
PRIVATE_FILE_MODE = 0o600
"""The database holds the signing secret of buttons and links: no other local user may read it."""
_COMPANIONS = ("", "-wal", "-shm", "-journal")
UNSHARED_STATEMENTS = 0
"""sqlite3's statement cache size: none, so no two cursors share a prepared statement.

aiosqlite runs statements on its own thread, but a cursor nobody keeps is freed on the event
loop's thread, and freeing it resets the statement it last ran. With the cache, that statement
may meanwhile be running for another coroutine (the same SQL, say two batches of deletes marked
done): reset under it, an `executemany` fails with "bad parameter or other API misuse".
Preparing each statement anew costs microseconds; the round trip to the database thread costs
more."""


class StorageError(RuntimeError):
    """The database cannot be used as it is; the message says what to do. Given as a catalog
    message (`Invalid`), it is kept as `reason` so that `qunbot run` can say it in the config's
    language."""

    def __init__(self, message: str | Invalid) -> None:
        super().__init__(str(message))
        self.reason = message if isinstance(message, Invalid) else None


class NewerDatabaseError(StorageError):
    """The database was written by a newer qunbot; refuse rather than corrupt it."""


async def connect(path: Path | str, *, up_to: int = LATEST_VERSION) -> aiosqlite.Connection:
    """Open (creating if needed), check and migrate the database at `path`."""
    if str(path) != ":memory:":
        _prepare_file(Path(path))
    connection = await aiosqlite.connect(
        str(path), isolation_level=None, cached_statements=UNSHARED_STATEMENTS
    )
    try:
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute("PRAGMA foreign_keys = ON")
        await _quick_check(connection, path)
        await migrate(connection, up_to=up_to)
    except sqlite3.OperationalError as error:
        await connection.close()
        raise StorageError(
            Invalid(
                "cannot use {path} ({error}): check that no other program holds it, and the "
                "disk's free space and permissions",
                path=str(path),
                error=str(error),
            )
        ) from None
    except sqlite3.DatabaseError as error:
        await connection.close()
        raise StorageError(_unreadable(path, str(error))) from None
    except BaseException:
        await connection.close()
        raise
    if str(path) != ":memory:":
        _make_private(Path(path))
    return connection


def _prepare_file(path: Path) -> None:
    """Refuse an empty file (a fresh database would silently replace the lost one), and create
    a missing one readable by its owner only, so SQLite's WAL and SHM files follow suit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        if path.stat().st_size == 0:
            raise StorageError(
                Invalid(
                    "{path} is empty (0 bytes), so its data is lost: restore it from a backup, "
                    "or delete it to start with a fresh database",
                    path=str(path),
                )
            )
        _make_private(path)
        return
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE))


def _make_private(path: Path) -> None:
    for suffix in _COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists() and companion.stat().st_mode & 0o777 != PRIVATE_FILE_MODE:
            companion.chmod(PRIVATE_FILE_MODE)


async def _quick_check(connection: aiosqlite.Connection, path: Path | str) -> None:
    async with connection.execute("PRAGMA quick_check") as cursor:
        problems = [str(row[0]) for row in await cursor.fetchall()]
    if problems != ["ok"]:
        raise StorageError(_unreadable(path, "; ".join(problems[:3])))


def _unreadable(path: Path | str, detail: str) -> Invalid:
    return Invalid(
        "{path} is damaged ({detail}): restore it from a backup, or move it away to start "
        "with a fresh database",
        path=str(path),
        detail=detail,
    )


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
            Invalid(
                "the database is at schema version {current}, newer than this qunbot "
                "({latest}); upgrade qunbot or point `database:` at another file",
                current=current,
                latest=LATEST_VERSION,
            )
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
    """Move a group's member and group state to its new id (it became a supergroup).

    Rows keyed by message id stay with the old chat (see `MOVED_TABLES`); tickets move without
    the ids of their messages in the group; deletes still owed there are dropped: the old chat
    refuses every call, and its message ids mean nothing in the new one."""
    await connection.execute("BEGIN IMMEDIATE")
    try:
        await connection.execute(
            "UPDATE OR REPLACE groups SET chat_id = ? WHERE chat_id = ?", (new_id, old_id)
        )
        for table in MOVED_TABLES:
            await connection.execute(
                f"UPDATE OR REPLACE {table} SET chat_id = ? WHERE chat_id = ?",
                (new_id, old_id),
            )
        await connection.execute(
            "UPDATE ticket_messages SET message_id = NULL WHERE source = 'group'"
            " AND ticket_id IN (SELECT id FROM tickets WHERE chat_id = ?)",
            (old_id,),
        )
        await connection.execute(
            "UPDATE OR REPLACE tickets SET chat_id = ?, message_id = NULL,"
            " reply_message_id = NULL WHERE chat_id = ?",
            (new_id, old_id),
        )
        await connection.execute(
            "UPDATE enforced_messages SET delete_pending = 0 WHERE chat_id = ?", (old_id,)
        )
        await connection.execute("COMMIT")
    except BaseException:
        await connection.execute("ROLLBACK")
        raise

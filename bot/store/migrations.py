"""Numbered schema migrations. Each runs in one transaction and is recorded in schema_version.

Never edit a migration that has shipped: add a new one, so every older database upgrades.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "groups, members and the audit log",
        (
            """CREATE TABLE groups (
                chat_id INTEGER PRIMARY KEY,
                title TEXT NOT NULL DEFAULT '',
                policy TEXT,
                overrides TEXT NOT NULL DEFAULT '{}',
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )""",
            """CREATE TABLE members (
                chat_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                first_seen REAL NOT NULL,
                last_seen REAL NOT NULL,
                message_count INTEGER NOT NULL DEFAULT 0,
                trusted INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (chat_id, user_id)
            ) WITHOUT ROWID""",
            """CREATE TABLE audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                chat_id INTEGER NOT NULL,
                at REAL NOT NULL,
                actor_id INTEGER,
                target_id INTEGER,
                message_id INTEGER,
                action TEXT NOT NULL,
                verdict TEXT NOT NULL DEFAULT '{}',
                text TEXT
            )""",
            "CREATE INDEX audit_by_target ON audit (chat_id, target_id, at)",
            "CREATE INDEX audit_by_message ON audit (chat_id, message_id)",
        ),
    ),
    Migration(
        2,
        "offences, pending re-invites, dry-run flag, learned samples and a key-value meta table",
        (
            """CREATE TABLE offences (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                chat_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                at REAL NOT NULL,
                rule TEXT NOT NULL,
                audit_id INTEGER REFERENCES audit (id),
                acknowledged INTEGER NOT NULL DEFAULT 0
            )""",
            "CREATE INDEX offences_by_member ON offences (chat_id, user_id, at)",
            """CREATE TABLE reinvites (
                chat_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                eligible_at REAL NOT NULL,
                created_at REAL NOT NULL,
                sent_at REAL,
                invite_link TEXT,
                PRIMARY KEY (chat_id, user_id)
            ) WITHOUT ROWID""",
            "ALTER TABLE groups ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0",
            """CREATE TABLE learned_samples (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                chat_id INTEGER NOT NULL,
                at REAL NOT NULL,
                actor_id INTEGER,
                spam INTEGER NOT NULL,
                text TEXT NOT NULL
            )""",
            """CREATE TABLE meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID""",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

CHAT_KEYED_TABLES = ("members", "audit", "offences", "reinvites", "learned_samples")
"""Tables whose rows move to the new id when a group becomes a supergroup."""

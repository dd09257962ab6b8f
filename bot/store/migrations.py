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
    Migration(
        3,
        "complaint tickets, their conversation and the messages posted about them",
        (
            """CREATE TABLE tickets (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                chat_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                user_name TEXT NOT NULL DEFAULT '',
                text TEXT NOT NULL,
                message_id INTEGER,
                reply_message_id INTEGER,
                card_message_id INTEGER,
                status TEXT NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'in_progress', 'closed')),
                staff_id INTEGER,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                opened_at REAL,
                remind_at REAL,
                reminded_at REAL,
                closed_at REAL,
                closed_by INTEGER,
                rating INTEGER,
                rated_at REAL
            )""",
            "CREATE UNIQUE INDEX tickets_one_active ON tickets (chat_id, user_id)"
            " WHERE status != 'closed'",
            "CREATE INDEX tickets_by_member ON tickets (user_id, status)",
            "CREATE INDEX tickets_due ON tickets (remind_at) WHERE remind_at IS NOT NULL",
            """CREATE TABLE ticket_messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                ticket_id INTEGER NOT NULL REFERENCES tickets (id),
                at REAL NOT NULL,
                source TEXT NOT NULL CHECK (source IN ('group', 'member', 'staff')),
                author_id INTEGER,
                message_id INTEGER,
                text TEXT NOT NULL
            )""",
            "CREATE INDEX ticket_messages_by_ticket ON ticket_messages (ticket_id, at)",
            """CREATE TABLE ticket_posts (
                chat_id INTEGER NOT NULL,
                message_id INTEGER NOT NULL,
                ticket_id INTEGER NOT NULL REFERENCES tickets (id),
                PRIMARY KEY (chat_id, message_id)
            ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        4,
        "gift claims, handed-out gift codes, the latest welcome and pending newcomer checks",
        (
            """CREATE TABLE gift_claims (
                chat_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                pool TEXT NOT NULL,
                code TEXT,
                claimed_at REAL NOT NULL,
                PRIMARY KEY (chat_id, user_id, pool)
            ) WITHOUT ROWID""",
            """CREATE TABLE gift_codes (
                code TEXT PRIMARY KEY,
                chat_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                given_at REAL NOT NULL
            ) WITHOUT ROWID""",
            """CREATE TABLE welcome_posts (
                chat_id INTEGER PRIMARY KEY,
                message_id INTEGER NOT NULL,
                posted_at REAL NOT NULL
            )""",
            """CREATE TABLE newcomer_checks (
                chat_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                deadline REAL NOT NULL,
                created_at REAL NOT NULL,
                PRIMARY KEY (chat_id, user_id)
            ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        5,
        "group rhythm posts, daily statistics, group sizes and when members left",
        (
            """CREATE TABLE rhythm_posts (
                chat_id INTEGER NOT NULL,
                post_key TEXT NOT NULL,
                due_at REAL NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed',
                    'interrupted', 'missed', 'quiet', 'capped')),
                promotional INTEGER NOT NULL DEFAULT 0,
                message_id INTEGER,
                pinned INTEGER NOT NULL DEFAULT 0,
                decided_at REAL NOT NULL,
                PRIMARY KEY (chat_id, post_key, due_at)
            ) WITHOUT ROWID""",
            "CREATE INDEX rhythm_posts_by_due ON rhythm_posts (due_at)",
            """CREATE TABLE daily_stats (
                chat_id INTEGER NOT NULL,
                day TEXT NOT NULL,
                counter TEXT NOT NULL,
                value INTEGER NOT NULL,
                PRIMARY KEY (chat_id, day, counter)
            ) WITHOUT ROWID""",
            """CREATE TABLE daily_active (
                chat_id INTEGER NOT NULL,
                day TEXT NOT NULL,
                user_id INTEGER NOT NULL,
                PRIMARY KEY (chat_id, day, user_id)
            ) WITHOUT ROWID""",
            """CREATE TABLE group_sizes (
                chat_id INTEGER PRIMARY KEY,
                members INTEGER NOT NULL,
                alert_level INTEGER NOT NULL DEFAULT 0,
                checked_at REAL NOT NULL
            )""",
            "ALTER TABLE members ADD COLUMN left_at REAL",
        ),
    ),
    Migration(
        6,
        "messages already enforced, for crash-safe moderation, and audit by time for retention",
        (
            """CREATE TABLE enforced_messages (
                chat_id INTEGER NOT NULL,
                message_id INTEGER NOT NULL,
                audit_id INTEGER NOT NULL,
                at REAL NOT NULL,
                delete_pending INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (chat_id, message_id)
            ) WITHOUT ROWID""",
            "CREATE INDEX enforced_deletes_pending ON enforced_messages (at)"
            " WHERE delete_pending = 1",
            "CREATE INDEX audit_by_time ON audit (at)",
        ),
    ),
    Migration(
        7,
        "newcomers waiting for their welcome, and when an audited action was undone",
        (
            """CREATE TABLE welcome_queue (
                chat_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                name TEXT NOT NULL,
                title TEXT NOT NULL DEFAULT '',
                checked INTEGER NOT NULL DEFAULT 0,
                joined_at REAL NOT NULL,
                welcomed_at REAL,
                PRIMARY KEY (chat_id, user_id)
            ) WITHOUT ROWID""",
            "CREATE INDEX welcome_queue_waiting ON welcome_queue (chat_id, joined_at)"
            " WHERE welcomed_at IS NULL",
            "ALTER TABLE audit ADD COLUMN undone_at REAL",
        ),
    ),
    Migration(
        8,
        "when qunbot saw each member join: only those members are newcomers on probation",
        ("ALTER TABLE members ADD COLUMN joined_at REAL",),
    ),
    Migration(
        9,
        "the forum topic of each complaint, and members found by user: a member's private chat"
        " speaks the language of the group qunbot last saw them in",
        (
            "ALTER TABLE tickets ADD COLUMN thread_id INTEGER",
            "CREATE INDEX members_by_user ON members (user_id)",
        ),
    ),
    Migration(
        10,
        "staff notes owed for enforced messages, so a crash never loses one, and the offender's"
        " name to write them with",
        (
            # Rows enforced before this version were announced by the run that enforced them.
            "ALTER TABLE enforced_messages ADD COLUMN note_owed INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE enforced_messages ADD COLUMN user_name TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX enforced_notes_owed ON enforced_messages (at) WHERE note_owed = 1",
        ),
    ),
    Migration(
        11,
        "the @usernames qunbot has seen, so admins can name members by them after a restart",
        (
            """CREATE TABLE usernames (
                username TEXT PRIMARY KEY,
                user_id INTEGER NOT NULL,
                seen_at REAL NOT NULL
            ) WITHOUT ROWID""",
            "CREATE INDEX usernames_by_user ON usernames (user_id)",
            "CREATE INDEX usernames_by_age ON usernames (seen_at)",
        ),
    ),
    Migration(
        12,
        "replies to a ticket's member held until they open the private chat, so none is lost",
        (
            """CREATE TABLE held_replies (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                ticket_id INTEGER NOT NULL REFERENCES tickets (id),
                user_id INTEGER NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('text', 'copy', 'closing')),
                text TEXT NOT NULL DEFAULT '',
                from_chat_id INTEGER,
                message_id INTEGER,
                held_at REAL NOT NULL,
                claimed_at REAL,
                sent_at REAL
            )""",
            "CREATE INDEX held_replies_waiting ON held_replies (user_id, id)"
            " WHERE sent_at IS NULL",
        ),
    ),
    Migration(
        13,
        "re-invites that follow an undo: the member gets an apology for qunbot's mistake, not a"
        " warning about ads",
        ("ALTER TABLE reinvites ADD COLUMN after_undo INTEGER NOT NULL DEFAULT 0",),
    ),
    Migration(
        14,
        "appeals of removed members, so each removal reaches the staff once, across restarts",
        (
            """CREATE TABLE appeals (
                audit_id INTEGER PRIMARY KEY REFERENCES audit (id),
                chat_id INTEGER NOT NULL,
                user_id INTEGER NOT NULL,
                opened_at REAL NOT NULL,
                relays INTEGER NOT NULL DEFAULT 0
            )""",
        ),
    ),
    Migration(
        15,
        "which model a learned sample teaches: the ad model (/spam, /notspam) or the complaint"
        " model (staff marking a ticket as no complaint), and which tickets were none",
        (
            # Every sample learned before this version was an admin's /spam or /notspam.
            "ALTER TABLE learned_samples ADD COLUMN kind TEXT NOT NULL DEFAULT 'ads'"
            " CHECK (kind IN ('ads', 'complaints'))",
            # A ticket closed as no complaint is never reopened or recalled to its member.
            "ALTER TABLE tickets ADD COLUMN not_complaint INTEGER NOT NULL DEFAULT 0",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

MOVED_TABLES = (
    "members",
    "offences",
    "reinvites",
    "gift_claims",
    "gift_codes",
    "newcomer_checks",
    "welcome_queue",
    "learned_samples",
    "daily_stats",
    "daily_active",
    "group_sizes",
)
"""Member and group state, which follows a group to its new id when it becomes a supergroup.

Rows keyed by message id (audit entries, enforced messages, ticket posts, the latest welcome,
rhythm posts) stay with the old chat: the supergroup numbers its messages from 1 again, so a
moved row would match an unrelated new message. Tickets move with their group but lose the
ids of their messages in it (see `move_chat`)."""

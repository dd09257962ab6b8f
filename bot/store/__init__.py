"""Per-group state in SQLite, behind narrow async repositories."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.store.database import StorageError, connect, move_chat
from bot.store.repos import (
    Appeals,
    Audit,
    AuditEntry,
    ChatMoves,
    DailyStats,
    Enforcements,
    GiftClaim,
    GiftOutcome,
    Gifts,
    GroupRow,
    Groups,
    GroupSizes,
    HeldKind,
    HeldReply,
    LearnedKind,
    LearnedSamples,
    Members,
    MemberState,
    Meta,
    NewcomerChecks,
    Offence,
    Offences,
    OwedNote,
    PendingCheck,
    PendingReinvite,
    PinnedPost,
    Reinvites,
    Retention,
    RhythmPosts,
    SilentMember,
    Ticket,
    Tickets,
    TicketStatus,
    Transactions,
    Usernames,
    WaitingNewcomer,
    WelcomePosts,
    WelcomeQueue,
    read_chat_moves,
)

__all__ = [
    "AuditEntry",
    "GiftClaim",
    "GiftOutcome",
    "GroupRow",
    "HeldKind",
    "HeldReply",
    "LearnedKind",
    "MemberState",
    "Offence",
    "OwedNote",
    "PendingCheck",
    "PendingReinvite",
    "PinnedPost",
    "SilentMember",
    "StorageError",
    "Store",
    "Ticket",
    "TicketStatus",
    "WaitingNewcomer",
    "read_chat_moves",
]


class Store:
    """One open database and its repositories. Opened in `post_init`, closed in `post_shutdown`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.transactions = Transactions(db)
        self.groups = Groups(db, self.transactions)
        self.members = Members(db, transactions=self.transactions)
        self.audit = Audit(db, self.transactions)
        self.offences = Offences(db, self.transactions)
        self.reinvites = Reinvites(db, self.transactions)
        self.appeals = Appeals(db, self.transactions)
        self.learned = LearnedSamples(db, self.transactions)
        self.meta = Meta(db, self.transactions)
        self.chat_moves = ChatMoves(self.meta)
        self.tickets = Tickets(db, transactions=self.transactions)
        self.gifts = Gifts(db, transactions=self.transactions)
        self.welcome_posts = WelcomePosts(db, self.transactions)
        self.welcome_queue = WelcomeQueue(db, self.transactions)
        self.newcomer_checks = NewcomerChecks(db, self.transactions)
        self.rhythm = RhythmPosts(db, self.transactions)
        self.stats = DailyStats(db, transactions=self.transactions)
        self.enforced = Enforcements(db, self.transactions)
        self.retention = Retention(db, self.transactions)
        self.sizes = GroupSizes(db, self.transactions)
        self.usernames = Usernames(db, self.transactions)

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        return cls(await connect(path))

    async def close(self) -> None:
        await self.members.flush()
        await self.usernames.flush()
        await self.db.close()

    async def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its state follows it to the new id."""
        await self.members.flush()
        self.members.forget_chat(old_id)
        async with self.transactions.writing():  # its own transaction, never inside another
            await move_chat(self.db, old_id, new_id)

    async def integrity_ok(self) -> bool:
        async with self.db.execute("PRAGMA integrity_check") as cursor:
            row = await cursor.fetchone()
        return row is not None and row[0] == "ok"

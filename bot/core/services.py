"""The running bot's shared services, built once by `build_application`.

Features receive what they need from here when they are built; handlers reach features and
services through the typed `context.bot_data` (`bot.features.bot_data.BotData`). Nothing here
is a module global, and nothing here holds a feature's own state.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from loguru import logger
from telegram import Bot, Message
from telegram.error import TelegramError
from telegram.ext import Application, JobQueue

from bot.core.bounded import BoundedDict
from bot.core.classifier import complaint_model
from bot.core.cleared import ClearedTexts
from bot.core.clock import Clock
from bot.core.config import LoadedConfig, follow_moves, signing_secret_from_environment
from bot.core.counters import StatsCounter
from bot.core.i18n import N_, Catalogs, Messages
from bot.core.policybook import PolicyBook
from bot.core.signing import Signer, new_secret
from bot.store import LearnedKind, StorageError, Store
from bot.telegram.chat_info import ChatInfoCache
from bot.telegram.door import Doors, LiveDoor, SimulatedDoor
from bot.telegram.staff import StaffChannel, StaffNote
from policies.detect.classifier import Scorer
from policies.facts import is_chat_id
from policies.schema import Policy
from policies.texts import Html, mention

ADMIN_NAME = N_("admin {id}")
"""How staff notes name an admin qunbot has not seen use a command yet."""
ANONYMOUS_ADMIN = N_("An anonymous admin")
"""How staff notes name an admin who acted as the group itself (no user id to link)."""
SIGNED_ANONYMOUS_ADMIN = N_("{title} (anonymous admin)")
"""An anonymous admin whose message carried their custom title (`author_signature`)."""
MOVED_NOTICE = N_(
    "🔀 Chat {old} became the supergroup {new}. qunbot follows it already (its state, policy,"
    " network and staff role moved with it); replace {old} with {new} in config.yaml when"
    " convenient (`qunbot check` lists every place)."
)
RECORD_DELETED_PAUSES = (0.2, 1.0, 5.0)
"""Pauses between tries at marking deletes done in the database."""
STAFF_PRESETS = {"en": "default", "zh": "shop-zh"}
"""The shipped preset written in each language the staff chat may speak."""
USERNAMES_KEPT = 25_000
"""@usernames held in memory so admins can name members by them (the database keeps more)."""

DeepLinkHandler = Callable[[Message, str], Awaitable[None]]
"""Serves `/start <kind>_...` in the private chat: the /start message and its payload."""
ReadyHook = Callable[["Application[Any, Any, Any, Any, Any, Any]"], Awaitable[None]]


class Services:
    """Infrastructure every feature may use: config, clock, store, policies, the door and the
    staff channel. The store and the signer exist from `open` (post_init) on."""

    def __init__(
        self,
        loaded: LoadedConfig,
        clock: Clock,
        classifier: Scorer,
        bot: Bot,
        jobs: JobQueue[Any] | None,
    ) -> None:
        self.loaded, self.clock, self.classifier = loaded, clock, classifier
        self._store: Store | None = None
        self._signer: Signer | None = None
        self.chat_info = ChatInfoCache(clock)
        self.complaint_model = complaint_model()
        """What the staff taught (marking tickets as no complaint) on top of the shipped model."""
        self.policies = PolicyBook(
            loaded, classifier, self.complaint_model, clock, lambda: self.store
        )
        self.catalogs = Catalogs(loaded.config.language)
        live = LiveDoor(bot, self._deleted, self._delete_failed)
        self.staff = StaffChannel(
            clock,
            jobs,
            live,
            loaded.config.staff_chat,
            self.chat_info.title_of,
            self.catalogs.default,
        )
        self.staff.on_moved = self.follow_move
        self.staff.on_delivered = self._notes_delivered
        self.doors = Doors(live, SimulatedDoor(self._report_simulated), self.policies.dry_run)
        self.stats = StatsCounter(clock)
        self.idle_chats: set[int] = set()
        """Groups where qunbot was removed or demoted: it keeps their state but does not act."""
        self.cleared = ClearedTexts()
        """Texts this group's admins said are no ad (`/notspam`)."""
        self.usernames: BoundedDict[str, int] = BoundedDict(USERNAMES_KEPT)
        self.username_of: BoundedDict[int, str] = BoundedDict(USERNAMES_KEPT)
        """Each user's @username as last seen, so a rename forgets the old name at once."""
        """Lower-case @usernames seen in groups, so admins can name members by them: the most
        recent ones, in front of the database's (`remember_username`, `user_named`)."""
        self.actor_names: BoundedDict[int, str] = BoundedDict(USERNAMES_KEPT)
        """Names of the people who used a command, so staff notes say who acted."""
        self.deep_links: dict[str, DeepLinkHandler] = {}
        """`/start <kind>_...` payloads by kind; feature handlers add theirs in `register`."""
        self._staff_presets: dict[str, Policy] = {}
        self.group_administered: BoundedDict[int, tuple[int | None, float]] = BoundedDict(
            USERNAMES_KEPT
        )
        """Which served group each user asking in private administers, and when Telegram said
        so (`bot.features.command_call.group_administered`)."""
        self.on_ready: list[ReadyHook] = []
        """Run at the end of post_init, once the store is open (to reschedule persisted jobs)."""

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is opened in post_init; the application is not running")
        return self._store

    @property
    def is_open(self) -> bool:
        return self._store is not None

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            raise RuntimeError("the signer is created in post_init")
        return self._signer

    @property
    def door(self) -> LiveDoor:
        """The live door, for what is never simulated: replies to commands, staff cards."""
        return self.doors.live

    def now(self) -> float:
        return self.clock.now()

    async def messages_for(self, chat_id: int | None) -> Messages:
        """The language of a chat: a group's policy (or its `/lang`), else the config's (the
        staff chat, private chats with no group behind them)."""
        if chat_id is None or chat_id == self.loaded.config.staff_chat or chat_id > 0:
            return self.catalogs.default
        policy = (await self.policies.policy_for(chat_id)).policy
        return self.catalogs.get(policy.language)

    def staff_side(self, policy: Policy) -> Policy:
        """The policy whose staff-side texts (removal notes, ticket cards, their buttons) the
        staff chat reads: the group's own when both speak one language, else the shipped preset
        of the staff chat's language, so a Chinese staff chat reads of an English group in
        Chinese (that group's own staff-side wording is then not used)."""
        staff = self.catalogs.default.language
        if self.catalogs.get(policy.language).language == staff or staff not in STAFF_PRESETS:
            return policy
        if staff not in self._staff_presets:
            self._staff_presets[staff] = self.loaded.library.load(STAFF_PRESETS[staff])
        return self._staff_presets[staff]

    async def known_title(self, chat_id: int) -> str:
        """A group's title as qunbot last saw it, without asking Telegram: the cache, then
        the store, else the id."""
        cached = self.chat_info.title_of(chat_id)
        if cached:
            return cached
        row = await self.store.groups.get(chat_id)
        return row.title if row is not None and row.title else str(chat_id)

    async def home_group(self, user_id: int) -> int | None:
        """The group a member's private chat speaks for: their open ticket's, a pending
        re-invite's, else the served group qunbot saw them in last; None for a stranger."""
        store = self.store
        ticket = await store.tickets.latest_active_of(user_id)
        if ticket is not None:
            return ticket.chat_id
        reinvites = await store.reinvites.pending_for(user_id)
        if reinvites:
            return reinvites[0].chat_id
        config = self.loaded.config
        seen = await store.members.groups_of(user_id)
        return next((g for g in seen if config.serves(g) and g != config.staff_chat), None)

    async def messages_for_member(self, user_id: int) -> Messages:
        """The language of a member's private chat: that of the group they came from."""
        return await self.messages_for(await self.home_group(user_id))

    def remember_actor(self, message: Message) -> None:
        """Note who sent a command, so staff notes name them. An anonymous admin is known only
        by the group's id and, if they have one, their custom title, which then names the
        group's anonymous admin until the next anonymous command there."""
        sender_chat, user = message.sender_chat, message.from_user
        if sender_chat is not None:
            if message.author_signature:
                self.actor_names[sender_chat.id] = message.author_signature
            else:
                self.actor_names.pop(sender_chat.id, None)
        elif user is not None:
            self.actor_names[user.id] = user.full_name

    def actor(self, actor_id: int | None) -> Html | str:
        """Who did something by hand, as a link for the staff chat (plain text for an
        anonymous admin, whose id is the group's)."""
        if actor_id is None:
            return "?"
        say = self.catalogs.default
        if is_chat_id(actor_id):
            title = self.actor_names.get(actor_id)
            if title:
                return say.tp(SIGNED_ANONYMOUS_ADMIN, title=title)
            return say.tp(ANONYMOUS_ADMIN)
        name = self.actor_names.get(actor_id) or say.tp(ADMIN_NAME, id=actor_id)
        return mention(actor_id, name)

    def remember_username(self, username: str, user_id: int) -> None:
        """Note a member's @username as seen in a group. Only a name new to this run or now
        someone else's is written (with the next flush), never one per message."""
        key = username.lower()
        if self.usernames.touch(key) == user_id:
            return
        earlier = self.username_of.get(user_id)
        if earlier is not None and earlier != key and self.usernames.get(earlier) == user_id:
            del self.usernames[earlier]  # renamed: the old name no longer names them
        self.usernames[key] = user_id
        self.username_of[user_id] = key
        self.store.usernames.note(key, user_id, self.now())

    async def user_named(self, username: str) -> int | None:
        """The member an @username names, from memory or, past what memory holds, the
        database; None for a name qunbot has never seen."""
        key = username.lstrip("@").lower()
        known = self.usernames.touch(key)
        if known is not None:
            return known
        stored = await self.store.usernames.user_of(key)
        if stored is not None:
            self.usernames[key] = stored
        return stored

    async def open(self) -> None:
        """Open the store, read the signing secret (the environment's, or the database's) and
        what admins taught the ad scorer and staff the complaint model."""
        self._store = await Store.open(self.loaded.database_path)
        secret = signing_secret_from_environment()
        if secret is None:
            secret = await self._store.meta.get_or_create("signing_secret", new_secret)
        self._signer = Signer(secret)
        for chat_id, text, spam in await self._store.learned.marks(LearnedKind.ADS):
            self.classifier.learn(text, spam)
            self.cleared.mark(chat_id, text, spam=spam)
        for text, complaint in await self._store.learned.all(LearnedKind.COMPLAINTS):
            self.complaint_model.learn(text, complaint)
        for username, user_id in await self._store.usernames.recent(USERNAMES_KEPT):
            self.usernames[username] = user_id
            self.username_of[user_id] = username
        moves = await self._store.chat_moves.all()
        if moves:
            self._apply_moves(moves)

    def _apply_moves(self, moves: dict[int, int]) -> None:
        """Point every id the config names at the supergroup its group became."""
        self.loaded.config = follow_moves(self.loaded.config, moves)
        self.staff.staff_chat = self.loaded.config.staff_chat

    async def follow_move(self, old_id: int, new_id: int) -> None:
        """A group (or the staff chat) became a supergroup: remember it, follow it now and at
        every start, and tell the staff which ids in config.yaml to update."""
        original = self.loaded.config
        await self.store.chat_moves.add(old_id, new_id)
        moves = await self.store.chat_moves.all()
        self._apply_moves(moves)
        self.cleared.move(old_id, new_id)
        named = old_id in {g.chat_id for g in original.groups} or old_id == original.staff_chat
        named = named or any(old_id in n.groups for n in original.networks)
        logger.warning("chat {} became supergroup {}", old_id, new_id)
        if named:
            values = {"old": old_id, "new": new_id}
            self.staff.add(StaffNote(self.staff.messages.t(MOVED_NOTICE, **values)))

    async def close(self) -> None:
        await self.doors.live.drain()
        await self.staff.drain()
        if self._store is not None:
            await self._store.close()
            self._store = None

    async def _deleted(self, chat_id: int, message_ids: Sequence[int]) -> None:
        """Mark deletes done; if the database refuses for a moment, try again, and past that
        leave them owed: the next start sends them again and Telegram skips what is gone."""
        for pause in (*RECORD_DELETED_PAUSES, None):
            try:
                await self.store.enforced.deleted(chat_id, message_ids)
                return
            except StorageError as error:
                if pause is None:
                    logger.warning(
                        "could not record {} delete(s) in {} as done ({}); they stay owed "
                        "until the next start",
                        len(message_ids),
                        chat_id,
                        error,
                    )
                    return
                logger.warning(
                    "could not record {} delete(s) in {} as done ({}); trying again in {}s",
                    len(message_ids),
                    chat_id,
                    error,
                    pause,
                )
                await asyncio.sleep(pause)

    async def _notes_delivered(self, audit_ids: list[int]) -> None:
        """Staff notes reached the staff chat. If the database refuses, they stay owed: the
        next start sends them again (doubled, never lost)."""
        try:
            await self.store.enforced.noted(audit_ids)
        except sqlite3.Error as error:
            logger.warning("could not record {} staff note(s) as sent: {}", len(audit_ids), error)

    async def _delete_failed(self, chat_id: int, error: TelegramError) -> None:
        await self.staff.failed(chat_id, error, "delete")

    def _report_simulated(self, chat_id: int, effect: str, values: dict[str, object]) -> None:
        group = self.chat_info.title_of(chat_id) or chat_id
        logger.info("dry-run in {}: would {}", group, effect.format_map(values))
        messages = self.staff.messages
        done = messages.tp(effect, **values)
        note = messages.t("🧪 dry-run in {group}: would {effect}", group=group, effect=done)
        self.staff.add(StaffNote(note))

"""A member qunbot removed who writes to the bot in private: the staff hear of it once per
removal, with the removal's own Undo buttons, and the member hears that they did (and, after a
kick, when they may come back anyway).

A spammer must not reach the staff chat through this: one note per removal, a few short lines
for what they write after it, then nothing; a removal the staff undid, or acted on since,
takes no appeal at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Message, User

from bot.core.i18n import N_, Messages
from bot.core.services import Services
from bot.features.command_call import reply_to
from bot.features.moderation import Enforcer
from bot.features.throttle import CommandLimiter
from bot.store import AuditEntry
from bot.telegram.staff import StaffNote
from policies.texts import clip_plain, mention
from policies.verdict import ActionKind

APPEAL_WINDOW = 3 * 86400.0
"""How long after an automatic removal the member's private messages count as an appeal."""
RELAYS_PER_APPEAL = 3
"""Messages passed on to the staff after the appeal itself, per removal: room for the order
number or the detail that follows a first "why?", too little to flood the staff chat."""
QUOTE_LIMIT = 200
"""Characters of the member's message quoted in a staff note."""

APPEAL_PROMPT = N_(
    "You were removed from {group} because qunbot took your message for an ad (case #{id})."
    " If that was a mistake, write me what happened: I will pass it on to the staff."
)
APPEAL_TAKEN = N_(
    "Thank you: I have passed your message on to the staff of {group} (case #{id}). They will"
    " look at it and can let you back in."
)
COME_BACK_LATER = N_(
    " Otherwise you may come back in {wait}: write to me then and I will send you an invite."
)
APPEAL_WAITING = N_(
    "The staff of {group} have your message already (case #{id}); they will look at it."
)
REMOVAL_STANDS = N_(
    "You were removed from {group} because qunbot took your message for an ad (case #{id}),"
    " and the staff have looked at it: the removal stands."
)
APPEAL_NOTE = N_("📮 {user}, removed from {group} (#{id}), wrote to the bot: “{quote}”")
APPEAL_AGAIN_NOTE = N_("📮 {user} wrote again about #{id}: “{quote}”")
NO_TEXT = N_("(a message without text)")


@dataclass(frozen=True, slots=True)
class Removal:
    """An automatic removal the member may still appeal."""

    entry: AuditEntry
    comeback_at: float | None
    """When the pending re-invite of a kick falls due; None after a ban."""
    confirmed: bool = False
    """The staff confirmed it: the member hears that it stands, the staff are not asked."""


class Appeals:
    """Removed members writing to the bot, passed on to the staff within limits."""

    def __init__(self, services: Services, enforcer: Enforcer, limiter: CommandLimiter) -> None:
        self.services, self.enforcer, self.limiter = services, enforcer, limiter

    async def removal_of(self, user_id: int) -> Removal | None:
        """The member's latest automatic removal that is recent, still in force and not dealt
        with by the staff: a ban, or a kick whose re-invite waits. None without a staff chat:
        there is no one to appeal to."""
        rt = self.services
        if rt.staff.staff_chat is None:
            return None
        pending = {p.chat_id: p.eligible_at for p in await rt.store.reinvites.pending_for(user_id)}
        chats = dict.fromkeys([*pending, *await rt.store.members.groups_of(user_id)])
        config = rt.loaded.config
        found = [
            await self._removal_in(chat_id, user_id, pending.get(chat_id))
            for chat_id in chats
            if config.serves(chat_id) and chat_id != config.staff_chat
        ]
        removals = [removal for removal in found if removal is not None]
        return max(removals, key=lambda removal: removal.entry.id, default=None)

    async def _removal_in(
        self, chat_id: int, user_id: int, comeback_at: float | None
    ) -> Removal | None:
        """The member's removal from this group, if appealable; `comeback_at`: when the
        group's pending re-invite for them falls due."""
        audit = self.services.store.audit
        entry = await audit.last_automatic(chat_id, user_id)
        if entry is None or self.services.now() - entry.at > APPEAL_WINDOW:
            return None
        kinds = {action.get("kind") for action in entry.verdict.get("actions", [])}
        banned = ActionKind.BAN.value in kinds
        kicked = ActionKind.KICK.value in kinds and comeback_at is not None
        if not (banned or kicked) or await audit.settled(entry):
            return None
        return Removal(entry, None if banned else comeback_at, await audit.confirmed(entry))

    async def prompt(self, user_id: int) -> str | None:
        """What /start answers a removed member (HTML, the group's language); None for anyone
        else."""
        removal = await self.removal_of(user_id)
        if removal is None:
            return None
        return await self._to_member(
            removal, REMOVAL_STANDS if removal.confirmed else APPEAL_PROMPT
        )

    async def receive(self, message: Message) -> bool:
        """A private message from a removed member: the first reaches the staff with the
        removal's buttons, a few later ones as a line each, the rest nowhere. False if the
        sender has no removal to appeal."""
        user = message.from_user
        if user is None:
            return False
        removal = await self.removal_of(user.id)
        if removal is None:
            return False
        rt, entry = self.services, removal.entry
        if removal.confirmed:
            if self.limiter.first_greeting(user.id):
                await reply_to(rt, message, await self._to_member(removal, REMOVAL_STANDS))
            return True
        if await rt.store.appeals.open(entry.id, entry.chat_id, user.id, rt.now()):
            if not await self._tell_staff(removal, message, user):
                await rt.store.appeals.withdraw(entry.id)  # the next message tries again
                return False
            self.limiter.first_greeting(user.id)  # the answer below is this hour's word
            await reply_to(rt, message, await self._to_member(removal, APPEAL_TAKEN))
            return True
        if await rt.store.appeals.count_relay(entry.id, RELAYS_PER_APPEAL):
            again = rt.staff.messages.t(APPEAL_AGAIN_NOTE, **self._staff_values(removal, message))
            rt.staff.add(StaffNote(again, about=entry.id))
        if self.limiter.first_greeting(user.id):
            waiting = await self._to_member(removal, APPEAL_WAITING, comeback=False)
            await reply_to(rt, message, waiting)
        return True

    async def _tell_staff(self, removal: Removal, message: Message, user: User) -> bool:
        """The appeal as a message of its own, sent now: a digest waiting for its interval
        would be lost at a restart, and the appeal is recorded as told already."""
        staff, note = self.services.staff, await self._appeal_note(removal, message, user)
        sent = await staff.send_card(note.html, markup=InlineKeyboardMarkup(note.rows))
        if sent is None:
            return False
        staff.told[(sent.chat_id, sent.message_id)] = (removal.entry.id,)  # /why as a reply
        return True

    async def _appeal_note(self, removal: Removal, message: Message, user: User) -> StaffNote:
        """The note with the removal's own buttons: Undo, Confirm, and after a kick the
        re-invite."""
        rt, entry = self.services, removal.entry
        values = self._staff_values(removal, message)
        values["group"] = await self.services.known_title(entry.chat_id)
        kicked = removal.comeback_at is not None
        policy = rt.staff_side((await rt.policies.policy_for(entry.chat_id)).policy)
        rows = self.enforcer.audit_buttons(
            entry.chat_id,
            user.id,
            entry.id,
            user.full_name,
            reinvite_label=policy.templates.reinvite_now_button if kicked else None,
        )
        return StaffNote(rt.staff.messages.t(APPEAL_NOTE, **values), rows, about=entry.id)

    def _staff_values(self, removal: Removal, message: Message) -> dict[str, object]:
        say = self.services.staff.messages
        user = message.from_user
        said = message.text or message.caption or say.tp(NO_TEXT)
        return {
            "user": mention(user.id, user.full_name) if user is not None else "",
            "id": removal.entry.id,
            "quote": clip_plain(" ".join(said.split()), QUOTE_LIMIT),
        }

    async def _to_member(self, removal: Removal, text: str, *, comeback: bool = True) -> str:
        """`text` for the member in the group's language, with (`comeback`) when they may come
        back anyway after a kick."""
        rt, chat_id = self.services, removal.entry.chat_id
        say = await rt.messages_for(chat_id)
        answer = say.t(text, group=await self.services.known_title(chat_id), id=removal.entry.id)
        if comeback and removal.comeback_at is not None:
            wait = wait_in_words(removal.comeback_at - rt.now(), say)
            answer += say.t(COME_BACK_LATER, wait=wait)
        return answer


def wait_in_words(seconds: float, say: Messages) -> str:
    """A wait rounded up to the hour (to the minute under an hour): `6 小时`, not `5 小时 59
    分钟 12 秒`."""
    unit = 3600 if seconds >= 3600 else 60
    return say.duration(max(1, math.ceil(seconds / unit)) * unit)

"""Complaint tickets through the Bot API: the public reply, the staff card, the private chat,
the relay in both directions, closing with a satisfaction question, and the one reminder.

What counts as a complaint is decided in `policies.complaints`; what is stored lives behind
`store.tickets`. Telegram errors are caught here and become a log line or a note to the staff,
never a crash. Every text shown to members comes from the policy's `complaints.templates`.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from loguru import logger
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, JobQueue
from telegram.helpers import create_deep_linked_url

from bot.core.i18n import N_, Messages
from bot.core.services import Services
from bot.features.explain import NOT_COMPLAINT_ACTION, hit_reason
from bot.features.moderation import Target
from bot.store import HeldKind, HeldReply, LearnedKind, Ticket, TicketStatus
from bot.telegram.permissions import is_staff_now
from policies.complaints import Assessment, ComplaintsConfig, ComplaintTemplates, OriginalMessage
from policies.texts import Html, mention, render

DEEP_LINK_KIND = "tkt"
"""`/start tkt_<ticket>_<member>_<mac>`: opens the private chat of one member's ticket."""
TAKE_KIND = "tkd"
CLOSE_KIND = "tkc"
NOT_COMPLAINT_KIND = "tkn"
RATE_KIND = "tks"
REMINDER_JOB = "qunbot.ticket-reminder.{}"
QUOTE_LIMIT = 500
"""Characters of a member's text quoted in the staff chat and the greeting."""
LIST_QUOTE_LIMIT = 60
ATTACHMENT_KINDS = {
    "photo": N_("[photo]"),
    "video": N_("[video]"),
    "animation": N_("[animation]"),
    "voice": N_("[voice message]"),
    "video_note": N_("[video message]"),
    "audio": N_("[audio]"),
    "document": N_("[file]"),
    "sticker": N_("[sticker]"),
    "location": N_("[location]"),
    "contact": N_("[contact card]"),
}
"""What a message without text holds, as the staff read it in their note."""
NOT_COMPLAINT_BUTTON = N_("🚫 Not a complaint")
MARKED_NOT_COMPLAINT = N_(
    "🚫 #{ticket} ({user} in {group}) was no complaint, marked by {staff}: closed without a"
    " word to the member, qunbot's reply in the group removed, and the complaint model learned"
    " it.\n<blockquote>{complaint}</blockquote>"
)

App = Application[Any, Any, Any, Any, Any, Any]


class Delivery(Enum):
    """What became of one held message."""

    DELIVERED = auto()
    OUT_OF_REACH = auto()
    """Still refused because of the member (blocked, not started) or the send budget: it
    stays held."""
    FAILED = auto()
    """Refused for itself, or lost on the way: the staff are told, it is not tried again."""


@dataclass(frozen=True, slots=True)
class ForMember:
    """A message for a ticket's member, sent now or held until they open the private chat:
    an HTML text, or a copy of the staff's `source` (chat, message) for media."""

    kind: HeldKind
    text: str = ""
    source: tuple[int, int] | None = None

    @classmethod
    def held(cls, reply: HeldReply) -> ForMember:
        source = None
        if reply.from_chat_id is not None and reply.message_id is not None:
            source = (reply.from_chat_id, reply.message_id)
        return cls(reply.kind, reply.text, source)


class TicketDesk:
    """The ticket workflow: from the group to the private chat and the staff, and back."""

    def __init__(self, services: Services, bot: Bot, jobs: JobQueue[Any] | None) -> None:
        self.rt, self.bot, self.jobs = services, bot, jobs

    @property
    def staff_chat(self) -> int | None:
        return self.rt.staff.staff_chat

    # ------------------------------------------------------------------ in the group

    async def receive(self, target: Target, assessment: Assessment) -> Ticket | None:
        """A routed complaint: attach it to the member's active ticket, or open a new one.

        Opening is resumable: the ticket row comes first, then the public reply and the staff
        card, each recorded once done. The same complaint delivered again after a crash
        finishes whichever step is missing, instead of counting as the member writing again."""
        store, now = self.rt.store, self.rt.now()
        config = await self.config_for(target.chat_id)
        existing = await store.tickets.active_for(target.chat_id, target.user_id)
        if existing is not None and existing.message_id == target.message_id:
            await self._finish_opening(existing, target, assessment, config)
            return existing
        if existing is not None:
            await self._attach(existing, target)
            return existing
        remind_at = now + config.remind_after if config.reminds else None
        ticket = await store.tickets.open(
            target.chat_id,
            target.user_id,
            target.user_name,
            target.text,
            message_id=target.message_id,
            now=now,
            remind_at=remind_at,
            thread_id=target.thread_id,
        )
        if ticket is None:
            return None
        self.rt.stats.count(target.chat_id, "complaints_opened")
        await self._finish_opening(ticket, target, assessment, config)
        return ticket

    async def _finish_opening(
        self, ticket: Ticket, target: Target, assessment: Assessment, config: ComplaintsConfig
    ) -> None:
        """The steps of opening a ticket that are not done yet."""
        if ticket.reply_message_id is None:
            reply_id = await self._answer_publicly(ticket, target, config)
            await self.rt.store.audit.add(
                target.chat_id,
                self.rt.now(),
                f"ticket #{ticket.id}",
                target_id=target.user_id,
                message_id=reply_id,
                verdict=assessment.as_dict(),
                text=target.text,
            )
        if ticket.card_message_id is None:
            await self._post_card(ticket, target, assessment, config)
        if ticket.remind_at is not None:
            self.schedule_reminder(ticket.id, ticket.remind_at)
        if config.original is OriginalMessage.DELETE:
            await self._delete_in_group(target.chat_id, [target.message_id])

    async def _attach(self, ticket: Ticket, target: Target) -> None:
        """A further complaint joins the open ticket: staff see it, the group gets no reply."""
        await self.rt.store.tickets.add_message(
            ticket.id, self.rt.now(), "group", target.text, target.user_id, target.message_id
        )
        config = await self.config_for(ticket.chat_id)
        values = {
            "ticket": ticket.id,
            "user": target.mention,
            "group": target.chat_title,
            "complaint": clip(target.text),
        }
        await self._tell_staff(ticket, "staff_again", values)
        opened = ticket.opened_at is not None
        if config.original is OriginalMessage.DELETE or (
            opened and config.original is OriginalMessage.DELETE_WHEN_OPENED
        ):
            await self._delete_in_group(target.chat_id, [target.message_id])

    async def _answer_publicly(
        self, ticket: Ticket, target: Target, config: ComplaintsConfig
    ) -> int | None:
        keep = config.original is not OriginalMessage.DELETE
        values = {"user": target.mention, "group": target.chat_title}
        sent = await self._send(
            target.chat_id,
            render(config.templates.public_reply, values),
            markup=self.open_button(ticket, config),
            reply_to=target.message_id if keep else None,
            thread_id=target.thread_id,
        )
        if sent is None:
            return None
        await self.rt.store.tickets.set_reply(ticket.id, sent.message_id)
        await self.rt.store.tickets.add_post(target.chat_id, sent.message_id, ticket.id)
        return sent.message_id

    def open_button(self, ticket: Ticket, config: ComplaintsConfig) -> InlineKeyboardMarkup | None:
        """The deep link to this member's ticket, signed and bound to the member."""
        payload = self.rt.signer.sign(DEEP_LINK_KIND, ticket.id, ticket.user_id)
        url = create_deep_linked_url(self.bot.username, payload)
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(config.templates.open_button, url=url)]]
        )

    async def _delete_in_group(self, chat_id: int, message_ids: list[int]) -> None:
        """Delete through the batched deleter, which alarms the staff if a right is missing."""
        door = await self.rt.doors.for_chat(chat_id)
        for message_id in message_ids:
            door.delete(chat_id, message_id)

    # ------------------------------------------------------------- the staff chat

    async def _post_card(
        self, ticket: Ticket, target: Target, assessment: Assessment, config: ComplaintsConfig
    ) -> None:
        values = {
            "ticket": ticket.id,
            "user": target.mention,
            "group": target.chat_title,
            "complaint": clip(target.text),
            "reason": self.rt.staff.messages.tp("; ").join(
                hit_reason(hit.as_dict(), self.rt.staff.messages) for hit in assessment.hits
            ),
        }
        text = await self._staff_text(ticket.chat_id, "staff_ticket", values)
        staff_side = await self.staff_config_for(ticket.chat_id)
        sent = await self.rt.staff.send_card(text, markup=self.staff_buttons(ticket, staff_side))
        if sent is not None:
            await self.rt.store.tickets.set_card(ticket.id, sent.message_id)
            await self.rt.store.tickets.add_post(sent.chat_id, sent.message_id, ticket.id)

    def staff_buttons(
        self, ticket: Ticket, config: ComplaintsConfig
    ) -> InlineKeyboardMarkup | None:
        """Take (while nobody has), close, and not a complaint, with signed callback data."""
        signer = self.rt.signer
        if signer is None or not ticket.active:
            return None
        close = InlineKeyboardButton(
            config.templates.close_button, callback_data=signer.sign(CLOSE_KIND, ticket.id)
        )
        dismiss = InlineKeyboardButton(
            self.rt.staff.messages.tp(NOT_COMPLAINT_BUTTON),
            callback_data=signer.sign(NOT_COMPLAINT_KIND, ticket.id),
        )
        if ticket.status is not TicketStatus.OPEN:
            return InlineKeyboardMarkup([[close], [dismiss]])
        take = InlineKeyboardButton(
            config.templates.take_button, callback_data=signer.sign(TAKE_KIND, ticket.id)
        )
        return InlineKeyboardMarkup([[take, close], [dismiss]])

    async def _to_staff(
        self, ticket: Ticket, text: str, *, reply_to: int | None = None
    ) -> Message | None:
        """Post about a ticket in the staff chat, remembered so that replies find the ticket."""
        staff = self.staff_chat
        if staff is None:
            return None
        sent = await self.rt.staff.send_card(text, reply_to=reply_to)
        if sent is not None:
            await self.rt.store.tickets.add_post(staff, sent.message_id, ticket.id)
        return sent

    async def _tell_staff(
        self, ticket: Ticket, template: str, values: dict[str, Any]
    ) -> Message | None:
        return await self._to_staff(
            ticket, await self._staff_text(ticket.chat_id, template, values)
        )

    async def _note_to_staff(self, text: str, *, reply_to: int | None = None) -> None:
        """An operational note for the staff, in plain text."""
        if self.staff_chat is None:
            logger.warning(text)
            return
        await self.rt.staff.send_card(html.escape(text), reply_to=reply_to)

    async def _refresh_card(self, ticket_id: int) -> None:
        """Show only the buttons that still make sense on the ticket's card."""
        ticket = await self.rt.store.tickets.get(ticket_id)
        staff = self.staff_chat
        if ticket is None or ticket.card_message_id is None or staff is None:
            return
        try:
            await self.rt.door.edit_markup(
                staff,
                ticket.card_message_id,
                self.staff_buttons(ticket, await self.staff_config_for(ticket.chat_id)),
            )
        except TelegramError as error:
            logger.info("ticket #{} card not updated: {}", ticket.id, error.message)

    # ------------------------------------------------------------ the private chat

    async def open_private_chat(self, user_id: int, user_name: str, payload: str) -> None:
        """The member followed the deep link: greet them (or give the contact text) and
        deliver what was held for them. A link to someone else's ticket, or to a closed one,
        is explained in the language of the ticket's group."""
        owner, ticket = await self._ticket_from_link(payload)
        if ticket is None:
            await self._send(user_id, render(self._default_templates().link_invalid, {}))
            await self.deliver_held(user_id)
            return
        config = await self.config_for(ticket.chat_id)
        if owner != user_id or ticket.user_id != user_id:
            group = await self.group_title(ticket.chat_id)
            await self._send(user_id, render(config.templates.link_not_yours, {"group": group}))
            await self.deliver_held(user_id)
            return
        if not ticket.active:
            if not await self.deliver_held(user_id):
                await self._send(user_id, render(config.templates.link_invalid, {}))
            return
        await self._greet(ticket, user_id, user_name, config)
        await self.deliver_held(user_id)

    async def _greet(
        self, ticket: Ticket, user_id: int, user_name: str, config: ComplaintsConfig
    ) -> None:
        first_time = await self.rt.store.tickets.mark_opened(ticket.id, self.rt.now())
        self.cancel_reminder(ticket.id)
        values: dict[str, object] = {
            "user": mention(user_id, user_name),
            "group": await self.group_title(ticket.chat_id),
            "ticket": ticket.id,
        }
        if self.staff_chat is None:
            await self._send(user_id, render(config.templates.contact, values))
        else:
            values["complaint"] = clip(ticket.text)
            await self._send(user_id, render(config.templates.greeting, values))
        if first_time:
            await self._first_opened(ticket, config, mention(user_id, user_name))

    async def _ticket_from_link(self, payload: str) -> tuple[int | None, Ticket | None]:
        """The member a genuine link was made for, and the ticket it names; (None, None) for
        a forged or malformed link."""
        signer = self.rt.signer
        parts = signer.verify(payload, DEEP_LINK_KIND) if signer else None
        if parts is None or len(parts) != 2:
            return None, None
        return parts[1], await self.rt.store.tickets.get(parts[0])

    async def deliver_held(self, user_id: int) -> int:
        """Deliver, oldest first, what Telegram refused to send the member before they opened
        the private chat; the staff hear which tickets' messages arrived. Each message is
        claimed, sent, then marked sent, so none goes out twice; returns how many went out."""
        store, delivered = self.rt.store.tickets, Counter[int]()
        while waiting := await store.held_for(user_id):
            for reply in waiting:
                if not await store.claim_held(reply.id, self.rt.now()):
                    continue
                outcome = await self._send_held(reply)
                if outcome is Delivery.OUT_OF_REACH:
                    await store.release_held(reply.id)
                    await self._tell_delivered(delivered)
                    return delivered.total()
                await store.mark_held_sent(reply.id, self.rt.now())
                if outcome is Delivery.DELIVERED:
                    delivered[reply.ticket_id] += 1
        await self._tell_delivered(delivered)
        return delivered.total()

    async def _send_held(self, reply: HeldReply) -> Delivery:
        ticket = await self.rt.store.tickets.get(reply.ticket_id)
        if ticket is None:
            return Delivery.FAILED
        try:
            await self._send_to_member(ticket, ForMember.held(reply))
        except (Forbidden, RetryAfter) as error:
            logger.info("ticket #{}: held message still refused: {}", ticket.id, error.message)
            return Delivery.OUT_OF_REACH
        except TelegramError as error:
            # Refused for itself (its photo deleted ...) or its fate unknown: never sent again.
            note = unreachable_note(ticket, error, self.rt.staff.messages)
            await self._note_to_staff(note)
            return Delivery.FAILED
        return Delivery.DELIVERED

    async def _tell_delivered(self, delivered: Counter[int]) -> None:
        say = self.rt.staff.messages
        for ticket_id, count in delivered.items():
            ticket = await self.rt.store.tickets.get(ticket_id)
            name = ticket.user_name if ticket else "?"
            note = say.tnp(
                "📬 #{id}: {name} opened the private chat; the held message was delivered.",
                "📬 #{id}: {name} opened the private chat; the {count} held messages were "
                "delivered, in order.",
                count,
                id=ticket_id,
                name=name,
                count=count,
            )
            await self._note_to_staff(note)

    async def resume_interrupted_holds(self) -> None:
        """After a restart: a held message whose delivery was cut short may or may not have
        arrived. It is never sent again; the staff are asked to check with the member."""
        store, say = self.rt.store.tickets, self.rt.staff.messages
        for reply in await store.interrupted_holds():
            ticket = await store.get(reply.ticket_id)
            note = say.tp(
                "⚠️ #{id}: qunbot stopped while delivering a held message to {name}; it may "
                "not have arrived. Please check with them.",
                id=reply.ticket_id,
                name=ticket.user_name if ticket else "?",
            )
            await self._note_to_staff(note)
            await store.mark_held_sent(reply.id, self.rt.now())

    async def _first_opened(self, ticket: Ticket, config: ComplaintsConfig, who: Html) -> None:
        values = {"ticket": ticket.id, "user": who}
        await self._tell_staff(ticket, "staff_opened", values)
        if config.original is OriginalMessage.DELETE_WHEN_OPENED:
            messages = await self.rt.store.tickets.messages(ticket.id)
            said = [m.message_id for m in messages if m.source == "group" and m.message_id]
            await self._delete_in_group(ticket.chat_id, said)

    async def has_open_ticket(self, user_id: int) -> bool:
        """Whether the member is in a ticket's conversation, whose messages are never dropped."""
        ticket = await self.rt.store.tickets.latest_opened_by(user_id)
        return ticket is not None and ticket.active

    async def relay_from_member(self, message: Message) -> bool:
        """A member's private message goes to the staff chat, tagged with their ticket."""
        staff, user = self.staff_chat, message.from_user
        if staff is None or user is None:
            return False
        ticket = await self.rt.store.tickets.latest_opened_by(user.id)
        if ticket is None:
            ticket = await self._reopen_recent(user.id, user.full_name)
        if ticket is None:
            return False
        label = self.rt.staff.messages.tp(ATTACHMENT_KINDS.get(attachment_kind(message), "[…]"))
        shown = message.text or message.caption or label
        values = {
            "ticket": ticket.id,
            "user": mention(user.id, user.full_name),
            "group": await self.group_title(ticket.chat_id),
            "text": clip(shown),
        }
        header = await self._tell_staff(ticket, "staff_message", values)
        if header is None:
            return False
        if not message.text:
            await self._copy_to_staff(ticket, message, header.message_id)
        await self.rt.store.tickets.add_message(
            ticket.id, self.rt.now(), "member", shown, user.id, message.message_id
        )
        return True

    async def _reopen_recent(self, user_id: int, user_name: str) -> Ticket | None:
        """The member's ticket closed within the policy's `reopen_within`, open again."""
        store, now = self.rt.store.tickets, self.rt.now()
        closed = await store.latest_closed_of(user_id)
        if closed is None or closed.closed_at is None:
            return None
        config = await self.config_for(closed.chat_id)
        if not config.reopen_within or now - closed.closed_at > config.reopen_within:
            return None
        if not await store.reopen(closed.id, now):
            return None
        await self._send(user_id, render(config.templates.reopened, {"ticket": closed.id}))
        values = {"ticket": closed.id, "user": mention(user_id, user_name)}
        await self._tell_staff(closed, "staff_reopened", values)
        await self._refresh_card(closed.id)
        return await store.get(closed.id)

    async def after_close_text(self, user_id: int) -> str | None:
        """How to reach the staff again, for a member whose ticket is closed (HTML), in the
        language of the ticket's group; None if they never had one."""
        closed = await self.rt.store.tickets.latest_closed_of(user_id)
        if closed is None:
            return None
        config = await self.config_for(closed.chat_id)
        values = {"ticket": closed.id, "group": await self.group_title(closed.chat_id)}
        return render(config.templates.after_close, values)

    async def _copy_to_staff(self, ticket: Ticket, message: Message, header_id: int) -> None:
        staff = self.staff_chat
        if staff is None:
            return
        try:
            copied = await self.rt.door.copy(
                staff, message.chat_id, message.message_id, reply_to=header_id
            )
        except TelegramError as error:
            logger.warning("ticket #{}: copying a member's message failed: {}", ticket.id, error)
            return
        if copied is None:
            return
        await self.rt.store.tickets.add_post(staff, copied.message_id, ticket.id)

    async def relay_from_staff(self, message: Message) -> bool:
        """A staff reply to a message about a ticket goes to the member; true if it was one."""
        staff, replied, user = self.staff_chat, message.reply_to_message, message.from_user
        if staff is None or replied is None or user is None:
            return False
        ticket_id = await self.rt.store.tickets.for_post(staff, replied.message_id)
        ticket = await self.rt.store.tickets.get(ticket_id) if ticket_id else None
        if ticket is None or not await is_staff_now(self.bot, staff, user.id):
            return False
        if not ticket.active:
            note = self.rt.staff.messages.tp(
                "#{id} is closed; nothing was sent to {name}.", id=ticket.id, name=ticket.user_name
            )
            await self._note_to_staff(note, reply_to=message.message_id)
            return True
        config = await self.config_for(ticket.chat_id)
        answer = await self._answer(ticket, message, config)
        if not await self._deliver_or_hold(ticket, answer, reply_to=message.message_id):
            return True
        shown = message.text or message.caption or f"[{attachment_kind(message)}]"
        await self.rt.store.tickets.add_message(
            ticket.id, self.rt.now(), "staff", shown, user.id, message.message_id
        )
        if ticket.status is TicketStatus.OPEN:
            await self.take(ticket.id, user.id, user.full_name)
        return True

    async def _answer(
        self, ticket: Ticket, message: Message, config: ComplaintsConfig
    ) -> ForMember:
        """A staff reply as the member receives it: media as a copy of the staff's message."""
        if message.text is None:
            return ForMember(HeldKind.COPY, source=(message.chat_id, message.message_id))
        values = {
            "text": message.text,
            "ticket": ticket.id,
            "group": await self.group_title(ticket.chat_id),
        }
        return ForMember(HeldKind.TEXT, render(config.templates.staff_answer, values))

    async def _send_to_member(self, ticket: Ticket, message: ForMember) -> object:
        if message.kind is HeldKind.COPY and message.source is not None:
            return await self.rt.door.copy(ticket.user_id, *message.source)
        markup = None
        if message.kind is HeldKind.CLOSING:
            markup = self._rating_buttons(ticket, await self.config_for(ticket.chat_id))
        return await self.rt.door.post(ticket.user_id, message.text, markup=markup)

    async def _deliver_or_hold(
        self, ticket: Ticket, message: ForMember, *, reply_to: int | None = None
    ) -> bool:
        """Send to the member, or, while they have not opened the private chat (or something
        for them is already waiting), hold it for when they do. The staff hear which; false
        only if Telegram refused for another reason."""
        store, say = self.rt.store.tickets, self.rt.staff.messages
        if await store.holds_for(ticket.user_id):
            # Older messages wait for them: try those first (the member may have opened the
            # chat some other way since), so nothing overtakes them and nothing stays stuck.
            await self.deliver_held(ticket.user_id)
        if not await store.holds_for(ticket.user_id):
            try:
                await self._send_to_member(ticket, message)
                return True
            except Forbidden:
                pass
            except TelegramError as error:
                await self._note_to_staff(unreachable_note(ticket, error, say), reply_to=reply_to)
                return False
        await store.hold(
            ticket.id,
            ticket.user_id,
            message.kind,
            self.rt.now(),
            text=message.text,
            source=message.source,
        )
        await self._note_to_staff(held_note(ticket, say), reply_to=reply_to)
        return True

    # ------------------------------------------------------------------ staff actions

    async def take(self, ticket_id: int, staff_id: int, staff_name: str) -> str:
        """A staff member takes an open ticket; returns a short answer for them."""
        say = self.rt.staff.messages
        ticket = await self.rt.store.tickets.get(ticket_id)
        if ticket is None or not ticket.active:
            return say.tp("Ticket #{id} is closed.", id=ticket_id)
        if not await self.rt.store.tickets.take(ticket_id, staff_id, self.rt.now()):
            return say.tp("Ticket #{id} is already being handled.", id=ticket_id)
        values = {"ticket": ticket.id, "staff": mention(staff_id, staff_name)}
        await self._tell_staff(ticket, "staff_taken", values)
        await self._refresh_card(ticket.id)
        return say.tp("You took ticket #{id}.", id=ticket_id)

    async def close(self, ticket_id: int, actor_id: int, actor_name: str) -> bool:
        """Close a ticket: the member gets the closing text (and 👍/👎), staff a note."""
        store, now = self.rt.store, self.rt.now()
        ticket = await store.tickets.get(ticket_id)
        if ticket is None or not await store.tickets.close(ticket_id, actor_id, now):
            return False
        self.cancel_reminder(ticket_id)
        await self._deliver_or_hold(ticket, await self._closing(ticket))
        values = {"ticket": ticket.id, "staff": mention(actor_id, actor_name)}
        await self._tell_staff(ticket, "staff_closed", values)
        await self._refresh_card(ticket.id)
        await store.audit.add(
            ticket.chat_id,
            now,
            f"ticket #{ticket.id} closed",
            actor_id=actor_id,
            target_id=ticket.user_id,
        )
        return True

    async def not_a_complaint(self, ticket_id: int, actor_id: int, actor_name: str) -> bool:
        """The staff say the ticket was no complaint at all: it closes without the closing text
        or the rating question (the member never asked for help), qunbot's replies in the group
        go (they were a mistake), the card says who decided, and the complaint model learns
        each message it took for a complaint, now and at every start. False if already closed."""
        store, now = self.rt.store, self.rt.now()
        ticket = await store.tickets.get(ticket_id)
        if ticket is None or not await store.tickets.close_as_no_complaint(
            ticket_id, actor_id, now
        ):
            return False
        self.cancel_reminder(ticket_id)
        for message_id in await store.tickets.posts_in(ticket.chat_id, ticket.id):
            self.rt.door.delete(ticket.chat_id, message_id)
        for text in await self._taken_for_complaints(ticket):
            await store.learned.add(
                ticket.chat_id,
                text,
                spam=False,
                at=now,
                actor_id=actor_id,
                kind=LearnedKind.COMPLAINTS,
            )
            self.rt.complaint_model.learn(text, False)
        await store.audit.add(
            ticket.chat_id,
            now,
            f"ticket #{ticket.id}{NOT_COMPLAINT_ACTION}",
            actor_id=actor_id,
            target_id=ticket.user_id,
            text=ticket.text,
        )
        await self._mark_card(ticket, mention(actor_id, actor_name))
        return True

    async def _taken_for_complaints(self, ticket: Ticket) -> list[str]:
        """The member's messages in the group that opened or joined the ticket, each once."""
        said = await self.rt.store.tickets.messages(ticket.id)
        return list(dict.fromkeys(m.text for m in said if m.source == "group" and m.text))

    async def _mark_card(self, ticket: Ticket, staff: Html) -> None:
        """The card now says the ticket was no complaint and who said so; its buttons go."""
        staff_chat = self.staff_chat
        if ticket.card_message_id is None or staff_chat is None:
            return
        text = self.rt.staff.messages.t(
            MARKED_NOT_COMPLAINT,
            ticket=ticket.id,
            user=mention(ticket.user_id, ticket.user_name),
            group=await self.group_title(ticket.chat_id),
            staff=staff,
            complaint=clip(ticket.text),
        )
        try:
            await self.rt.door.edit(staff_chat, ticket.card_message_id, text)
        except TelegramError as error:
            logger.info("ticket #{} card not updated: {}", ticket.id, error.message)
            await self._refresh_card(ticket.id)

    async def _closing(self, ticket: Ticket) -> ForMember:
        config = await self.config_for(ticket.chat_id)
        values = {"ticket": ticket.id, "group": await self.group_title(ticket.chat_id)}
        return ForMember(HeldKind.CLOSING, render(config.templates.closing, values))

    def _rating_buttons(
        self, ticket: Ticket, config: ComplaintsConfig
    ) -> InlineKeyboardMarkup | None:
        signer = self.rt.signer
        if not config.satisfaction or signer is None:
            return None
        templates = config.templates
        good = InlineKeyboardButton(
            templates.good_button, callback_data=signer.sign(RATE_KIND, ticket.id, 1)
        )
        bad = InlineKeyboardButton(
            templates.bad_button, callback_data=signer.sign(RATE_KIND, ticket.id, 0)
        )
        return InlineKeyboardMarkup([[good, bad]])

    async def rate(self, ticket: Ticket, good: bool) -> str | None:
        """Record the member's answer once; the thanks to show them, or None if answered."""
        if not await self.rt.store.tickets.rate(ticket.id, 1 if good else -1, self.rt.now()):
            return None
        config = await self.config_for(ticket.chat_id)
        values = {
            "ticket": ticket.id,
            "user": mention(ticket.user_id, ticket.user_name),
            "rating": "👍" if good else "👎",
        }
        await self._tell_staff(ticket, "staff_rating", values)
        return render(config.templates.thanks, {"ticket": ticket.id})

    # ---------------------------------------------------------------------- reminders

    def schedule_reminder(self, ticket_id: int, due: float) -> None:
        queue = self.jobs
        if queue is None:
            raise RuntimeError("qunbot needs python-telegram-bot[job-queue]")
        self.cancel_reminder(ticket_id)
        queue.run_once(
            self._reminder_job,
            when=max(0.0, due - self.rt.now()),
            data=ticket_id,
            name=REMINDER_JOB.format(ticket_id),
        )

    def cancel_reminder(self, ticket_id: int) -> None:
        queue = self.jobs
        if queue is not None:
            for job in queue.get_jobs_by_name(REMINDER_JOB.format(ticket_id)):
                job.schedule_removal()

    async def remind(self, ticket_id: int) -> bool:
        """The one gentle reminder in the group, if the member still has not opened the chat:
        in the complaint's topic, even if the message it answers is gone."""
        if not await self.rt.store.tickets.claim_reminder(ticket_id, self.rt.now()):
            return False
        ticket = await self.rt.store.tickets.get(ticket_id)
        if ticket is None:
            return False
        config = await self.config_for(ticket.chat_id)
        replied = ticket.reply_message_id or ticket.message_id
        sent = await self._send(
            ticket.chat_id,
            render(config.templates.reminder, {"user": mention(ticket.user_id, ticket.user_name)}),
            markup=self.open_button(ticket, config),
            reply_to=replied or None,
            thread_id=ticket.thread_id,
        )
        if sent is not None:
            await self.rt.store.tickets.add_post(ticket.chat_id, sent.message_id, ticket.id)
        return sent is not None

    # ---------------------------------------------------------------------- queries

    async def ticket(self, ticket_id: int) -> Ticket | None:
        return await self.rt.store.tickets.get(ticket_id)

    async def _reminder_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        job = context.job
        if job is not None and isinstance(job.data, int):
            await self.remind(job.data)

    async def reschedule_reminders(self) -> None:
        """After a restart, put every reminder that is still due back on the job queue."""
        for ticket_id, due in await self.rt.store.tickets.pending_reminders():
            self.schedule_reminder(ticket_id, due)

    async def ticket_named(
        self, chat_id: int, args: list[str] | None, replied: Message | None
    ) -> Ticket | None:
        """The ticket a command names: `ID` (or `#ID`), or the message it replies to."""
        number = args[0].lstrip("#") if args else ""
        if number.isascii() and number.isdigit():
            return await self.ticket(int(number))
        if replied is None:
            return None
        ticket_id = await self.rt.store.tickets.for_post(chat_id, replied.message_id)
        return await self.ticket(ticket_id) if ticket_id else None

    async def describe_active(
        self, chat_id: int | None, say: Messages, *, public: bool = False
    ) -> str:
        """The active tickets of one group, or of every group, one line each (plain text).
        `public` (asked in the group itself) leaves the complaints' texts out: every member
        reads the answer, and a complaint may hold a phone number or an address."""
        tickets = await self.rt.store.tickets.active(chat_id)
        if not tickets:
            return say.tp("No open tickets.")
        lines = [say.tp("Open tickets ({count}):", count=len(tickets))]
        now = self.rt.now()
        for ticket in tickets:
            status = (
                say.tp("open") if ticket.status is TicketStatus.OPEN else say.tp("in progress")
            )
            values = {
                "id": ticket.id,
                "status": status,
                "name": ticket.user_name,
                "age": rough_age(now - ticket.created_at, say),
                "quote": clip(ticket.text, LIST_QUOTE_LIMIT),
            }
            if public:
                lines.append(say.tp("#{id} {status}: {name}, {age} ago", **values))
            elif chat_id is not None:
                lines.append(say.tp("#{id} {status}: {name}, {age} ago: {quote}", **values))
            else:
                group = await self.group_title(ticket.chat_id)
                line = say.tp(
                    "#{id} {status}: {name} in {group}, {age} ago: {quote}", **values, group=group
                )
                lines.append(line)
        return "\n".join(lines)

    # ---------------------------------------------------------------------- helpers

    async def config_for(self, chat_id: int) -> ComplaintsConfig:
        return (await self.rt.policies.policy_for(chat_id)).policy.complaints

    async def staff_config_for(self, chat_id: int) -> ComplaintsConfig:
        """The complaint settings whose staff-side texts the staff chat reads (its language)."""
        policy = (await self.rt.policies.policy_for(chat_id)).policy
        return self.rt.staff_side(policy).complaints

    async def _staff_text(self, chat_id: int, template: str, values: dict[str, Any]) -> str:
        templates = (await self.staff_config_for(chat_id)).templates
        return render(str(getattr(templates, template)), values)

    def _default_templates(self) -> ComplaintTemplates:
        name = self.rt.loaded.config.default_policy
        policy = self.rt.loaded.policies.get(name) or self.rt.loaded.library.load(name)
        return policy.complaints.templates

    async def group_title(self, chat_id: int) -> str:
        return (await self.rt.chat_info.get(self.bot, chat_id)).title or str(chat_id)

    async def _send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> Message | None:
        """Send an HTML text (in a forum, into the topic); a refusal is logged and gives None."""
        try:
            return await self.rt.door.post(
                chat_id, text, markup=markup, reply_to=reply_to, thread_id=thread_id
            )
        except TelegramError as error:
            logger.warning("ticket message to chat {} failed: {}", chat_id, error.message)
            return None


def held_note(ticket: Ticket, say: Messages) -> str:
    """A message kept for a member who has not opened the private chat (plain text)."""
    return say.tp(
        "⏳ #{id}: {name} has not opened the private chat with the bot yet (or blocked it). "
        "The message is kept and will be delivered as soon as they open it, from the button "
        "in the group; you will be told when it arrives.",
        id=ticket.id,
        name=ticket.user_name,
    )


def unreachable_note(ticket: Ticket, error: TelegramError, say: Messages) -> str:
    """Why a message to the member did not arrive, in the staff's words (plain text)."""
    return say.tp(
        "⚠️ #{id}: could not message {name}: {error}",
        id=ticket.id,
        name=ticket.user_name,
        error=error.message,
    )


def attachment_kind(message: Message) -> str:
    return next((kind for kind in ATTACHMENT_KINDS if getattr(message, kind, None)), "message")


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def rough_age(seconds: float, say: Messages) -> str:
    """`45s`, `12m`, `3h` or `2d` (`3 小时`): how long a ticket has waited, to the largest
    unit."""
    for size in (86400, 3600, 60):
        if seconds >= size:
            return say.duration(seconds // size * size)
    return say.duration(max(0, int(seconds)))

"""Complaints: answered at once in the group, then moved to a private ticket with the staff.

The group side opens tickets, the private side serves the deep link and relays the member's
messages, the staff side relays replies back and takes, closes and lists tickets.
"""

from __future__ import annotations

from functools import partial

from loguru import logger
from telegram import CallbackQuery, Message, Update, User
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.core.i18n import N_
from bot.features.bot_data import BotData, Context
from bot.features.command_call import CommandCall, append_to_pressed, pressed_in
from bot.features.commands import MEANT_A_COMMAND
from bot.features.moderation import Target
from bot.features.tickets import (
    CLOSE_KIND,
    DEEP_LINK_KIND,
    NOT_COMPLAINT_KIND,
    RATE_KIND,
    TAKE_KIND,
)
from bot.telegram.callbacks import answer_button
from bot.telegram.extract import display_name, replied_to
from bot.telegram.permissions import is_staff_now
from policies.facts import SERVICE_USER_ID

COMPLAINTS_GROUP = 5
"""After moderation (-10) and the admin commands (0): only messages moderation let through."""

NOT_STAFF = N_("Only the shop's staff can do this.")
WHICH_TICKET = N_("Which ticket? Use /close ID, or reply /close to a message about the ticket.")
WHICH_NOT_COMPLAINT = N_(
    "Which ticket? Use /notcomplaint ID, or reply /notcomplaint to a message about the ticket."
)
CLOSED = N_("Ticket #{id} closed.")
CLOSED_ALREADY = N_("Ticket #{id} was closed.")
MARKED = N_("Ticket #{id}: not a complaint. Closed quietly; the complaint model learned it.")


def register(application: Application) -> None:  # type: ignore[type-arg]
    services = application.bot_data.services
    services.deep_links[DEEP_LINK_KIND] = partial(open_ticket_chat, application.bot_data)
    staff = services.staff.staff_chat
    in_staff_chat = filters.Chat(staff) if staff is not None else filters.Chat()
    new_messages = filters.UpdateType.MESSAGE & ~filters.COMMAND & ~MEANT_A_COMMAND
    handlers = (
        MessageHandler(in_staff_chat & filters.REPLY & new_messages, relay_staff_reply),
        MessageHandler(
            filters.ChatType.GROUPS
            & ~in_staff_chat
            & (filters.TEXT | filters.CAPTION)
            & new_messages,
            answer_complaint,
        ),
        MessageHandler(filters.ChatType.PRIVATE & new_messages, relay_member_message),
        CallbackQueryHandler(take_ticket, pattern=f"^{TAKE_KIND}_"),
        CallbackQueryHandler(close_ticket_button, pattern=f"^{CLOSE_KIND}_"),
        CallbackQueryHandler(not_a_complaint_button, pattern=f"^{NOT_COMPLAINT_KIND}_"),
        CallbackQueryHandler(rate_help, pattern=f"^{RATE_KIND}_"),
    )
    for handler in handlers:
        application.add_handler(handler, group=COMPLAINTS_GROUP)


def _is_customer(message: Message, user: User) -> bool:
    """Channels, anonymous admins, bots and Telegram itself never file complaints."""
    return message.sender_chat is None and not user.is_bot and user.id != SERVICE_USER_ID


async def answer_complaint(update: Update, context: Context) -> None:
    """Answer a complaint in the group at once and move it to a private ticket."""
    message = update.effective_message
    user = message.from_user if message else None
    if message is None or user is None or not _is_customer(message, user):
        return
    rt = context.bot_data.services
    compiled = await rt.policies.policy_for(message.chat_id)
    assessment = compiled.complaints.assess(message.text or message.caption or "")
    if not assessment.routed:
        return
    if user.id in (await rt.chat_info.get(context.bot, message.chat_id)).admins:
        return
    target = Target(
        chat_id=message.chat_id,
        chat_title=message.chat.title or "",
        user_id=user.id,
        user_name=display_name(user.first_name, user.last_name),
        message_id=message.message_id,
        text=message.text or message.caption or "",
        thread_id=message.message_thread_id if message.is_topic_message else None,
    )
    ticket = await context.bot_data.tickets.receive(target, assessment)
    logger.info(
        "chat {} user {}: {} -> ticket #{}",
        target.chat_id,
        target.user_id,
        assessment.explanation,
        ticket.id if ticket else "?",
    )


async def open_ticket_chat(app: BotData, message: Message, payload: str) -> None:
    """The member followed a ticket's deep link: greet them and ask for the details."""
    user = message.from_user
    if user is not None:
        name = display_name(user.first_name, user.last_name)
        await app.tickets.open_private_chat(user.id, name, payload)


async def relay_member_message(update: Update, context: Context) -> None:
    """Pass a member's private message to the staff chat, tagged with their ticket."""
    message = update.effective_message
    if message is not None:
        await context.bot_data.tickets.relay_from_member(message)


async def relay_staff_reply(update: Update, context: Context) -> None:
    """Pass a staff reply to a ticket's message back to the member."""
    message = update.effective_message
    if message is not None:
        await context.bot_data.tickets.relay_from_staff(message)


async def list_tickets(call: CommandCall, app: BotData) -> None:
    """List the open tickets: a group's for its admins, every group's for the staff; in the
    group itself without the complaints' texts."""
    public = call.message.chat.type != "private" and call.message.chat_id == call.chat_id
    await call.answer(
        await app.tickets.describe_active(call.chat_id, call.messages, public=public)
    )


async def close_ticket(call: CommandCall, app: BotData) -> None:
    """Close a ticket: `/close ID`, or `/close` as a reply to a message about the ticket."""
    message, actor = call.message, call.message.from_user
    desk = app.tickets
    ticket = await desk.ticket_named(message.chat_id, call.args, replied_to(message))
    if ticket is None or (call.chat_id is not None and ticket.chat_id != call.chat_id):
        await call.answer(call.messages.tp(WHICH_TICKET))
        return
    actor_id = actor.id if actor else call.actor_id or 0
    actor_name = actor.full_name if actor else "?"
    if not await desk.close(ticket.id, actor_id, actor_name):
        await call.answer(call.messages.tp("Ticket #{id} is already closed.", id=ticket.id))
    elif call.chat_id is not None:
        await call.answer(call.messages.tp("Ticket #{id} is closed.", id=ticket.id))


async def not_a_complaint(call: CommandCall, app: BotData) -> None:
    """`/notcomplaint ID` (or as a reply about the ticket): the ticket was no complaint; it
    closes quietly and the complaint model learns it, as from the card's button."""
    message, actor = call.message, call.message.from_user
    desk = app.tickets
    ticket = await desk.ticket_named(message.chat_id, call.args, replied_to(message))
    if ticket is None or (call.chat_id is not None and ticket.chat_id != call.chat_id):
        await call.answer(call.messages.tp(WHICH_NOT_COMPLAINT))
        return
    actor_id = actor.id if actor else call.actor_id or 0
    actor_name = actor.full_name if actor else "?"
    if await desk.not_a_complaint(ticket.id, actor_id, actor_name):
        await call.answer(call.messages.tp(MARKED, id=ticket.id))
    else:
        await call.answer(call.messages.tp("Ticket #{id} is already closed.", id=ticket.id))


async def _staff_button(
    update: Update, context: Context, kind: str
) -> tuple[CallbackQuery, int] | None:
    """The pressed query and its ticket, if the data is genuine and the presser is staff."""
    query = update.callback_query
    if query is None or query.data is None:
        return None
    rt = context.bot_data.services
    say = rt.staff.messages
    parts = rt.signer.verify(query.data, kind)
    if parts is None or len(parts) != 1:
        await answer_button(query, say.tp("This button is not valid."), show_alert=True)
        return None
    if not await is_staff_now(context.bot, rt.staff.staff_chat, query.from_user.id):
        await answer_button(query, say.tp(NOT_STAFF), show_alert=True)
        return None
    return query, parts[0]


async def take_ticket(update: Update, context: Context) -> None:
    """A staff member takes a ticket from its card."""
    pressed = await _staff_button(update, context, TAKE_KIND)
    if pressed is not None:
        query, ticket_id = pressed
        user = query.from_user
        desk = context.bot_data.tickets
        await answer_button(query, await desk.take(ticket_id, user.id, user.full_name))


async def close_ticket_button(update: Update, context: Context) -> None:
    """A staff member closes a ticket from its card."""
    pressed = await _staff_button(update, context, CLOSE_KIND)
    if pressed is not None:
        query, ticket_id = pressed
        user = query.from_user
        closed = await context.bot_data.tickets.close(ticket_id, user.id, user.full_name)
        await _answer_closing(query, context, ticket_id, CLOSED if closed else None)


async def not_a_complaint_button(update: Update, context: Context) -> None:
    """A staff member says from the card that the ticket was no complaint."""
    pressed = await _staff_button(update, context, NOT_COMPLAINT_KIND)
    if pressed is not None:
        query, ticket_id = pressed
        user = query.from_user
        marked = await context.bot_data.tickets.not_a_complaint(ticket_id, user.id, user.full_name)
        await _answer_closing(query, context, ticket_id, MARKED if marked else None)


async def _answer_closing(
    query: CallbackQuery, context: Context, ticket_id: int, done: str | None
) -> None:
    """What a press on a card's closing button did; `done` None: someone closed it first."""
    say = context.bot_data.services.staff.messages
    await answer_button(query, say.tp(done or CLOSED_ALREADY, id=ticket_id))


async def rate_help(update: Update, context: Context) -> None:
    """The member says, once, whether the help was good."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = context.bot_data.services
    parts = rt.signer.verify(query.data, RATE_KIND)
    desk = context.bot_data.tickets
    ticket = await desk.ticket(parts[0]) if parts and len(parts) == 2 else None
    if parts is None or ticket is None or ticket.user_id != query.from_user.id:
        say = await pressed_in(rt, query)
        await answer_button(query, say.tp("This button is not for you."), show_alert=True)
        return
    thanks = await desk.rate(ticket, good=parts[1] == 1)
    say = await rt.messages_for(ticket.chat_id)
    await answer_button(query, None if thanks else say.tp("Already noted, thank you."))
    if thanks:
        await append_to_pressed(context.bot_data.services, query, thanks)

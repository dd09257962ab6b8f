"""Complaints: answered at once in the group, then moved to a private ticket with the staff.

The group side opens tickets, the private side serves the deep link and relays the member's
messages, the staff side relays replies back and takes, closes and lists tickets.
"""

from __future__ import annotations

from loguru import logger
from telegram import CallbackQuery, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.runtime import runtime, runtime_of
from bot.features.moderation import Target
from bot.features.tickets import (
    CLOSE_KIND,
    DEEP_LINK_KIND,
    RATE_KIND,
    TAKE_KIND,
    TicketDesk,
    reschedule_reminders,
)
from bot.telegram.extract import display_name
from bot.telegram.permissions import is_staff_now, sent_by_admin
from policies.facts import SERVICE_USER_ID

COMPLAINTS_GROUP = 5
"""After moderation (-10) and the admin commands (0): only messages moderation let through."""

NOT_STAFF = "Only the shop's staff can do this."
NOT_ADMIN = "Only admins of this group can use this command."
WHICH_TICKET = "Which ticket? Use /close ID, or reply /close to a message about the ticket."


def register(application: Application) -> None:  # type: ignore[type-arg]
    rt = runtime_of(application)
    rt.deep_links[DEEP_LINK_KIND] = open_ticket_chat
    rt.on_ready.append(reschedule_reminders)
    staff = rt.loaded.config.staff_chat
    in_staff_chat = filters.Chat(staff) if staff is not None else filters.Chat()
    new_messages = filters.UpdateType.MESSAGE & ~filters.COMMAND
    commands = filters.ChatType.GROUPS | in_staff_chat
    for name, callback in (("tickets", list_tickets), ("close", close_ticket)):
        application.add_handler(CommandHandler(name, callback, commands), group=COMPLAINTS_GROUP)
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
        CallbackQueryHandler(rate_help, pattern=f"^{RATE_KIND}_"),
    )
    for handler in handlers:
        application.add_handler(handler, group=COMPLAINTS_GROUP)


def _is_customer(message: Message, user: User) -> bool:
    """Channels, anonymous admins, bots and Telegram itself never file complaints."""
    return message.sender_chat is None and not user.is_bot and user.id != SERVICE_USER_ID


async def answer_complaint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a complaint in the group at once and move it to a private ticket."""
    message = update.effective_message
    user = message.from_user if message else None
    if message is None or user is None or not _is_customer(message, user):
        return
    rt = runtime(context)
    compiled = await rt.policy_for(message.chat_id)
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
    )
    ticket = await TicketDesk(context.application).receive(target, assessment)
    logger.info(
        "chat {} user {}: {} -> ticket #{}",
        target.chat_id,
        target.user_id,
        assessment.explanation,
        ticket.id if ticket else "?",
    )


async def open_ticket_chat(
    update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str
) -> None:
    """The member followed a ticket's deep link: greet them and ask for the details."""
    user = update.effective_user
    if user is not None:
        name = display_name(user.first_name, user.last_name)
        await TicketDesk(context.application).open_private_chat(user.id, name, payload)


async def relay_member_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pass a member's private message to the staff chat, tagged with their ticket."""
    message = update.effective_message
    if message is not None:
        await TicketDesk(context.application).relay_from_member(message)


async def relay_staff_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pass a staff reply to a ticket's message back to the member."""
    message = update.effective_message
    if message is not None:
        await TicketDesk(context.application).relay_from_staff(message)


async def _command_scope(
    message: Message, context: ContextTypes.DEFAULT_TYPE
) -> tuple[bool, int | None]:
    """(allowed, group): staff in the staff chat see every group, admins their own group."""
    staff = runtime(context).loaded.config.staff_chat
    if message.chat_id == staff:
        user = message.from_user
        if user is not None and await is_staff_now(context.bot, staff, user.id):
            return True, None
        await message.reply_text(NOT_STAFF)
        return False, None
    if await sent_by_admin(context.bot, message):
        return True, message.chat_id
    await message.reply_text(NOT_ADMIN)
    return False, None


async def list_tickets(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the open tickets: a group's for its admins, every group's for the staff."""
    message = update.effective_message
    if message is None:
        return
    allowed, group = await _command_scope(message, context)
    if allowed:
        await message.reply_text(await TicketDesk(context.application).describe_active(group))


async def close_ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Close a ticket: `/close ID`, or `/close` as a reply to a message about the ticket."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    allowed, group = await _command_scope(message, context)
    if not allowed:
        return
    desk = TicketDesk(context.application)
    ticket = await desk.ticket_named(message.chat_id, context.args, message.reply_to_message)
    if ticket is None or (group is not None and ticket.chat_id != group):
        await message.reply_text(WHICH_TICKET)
        return
    actor = message.from_user
    if not await desk.close(ticket.id, actor.id, actor.full_name):
        await message.reply_text(f"Ticket #{ticket.id} is already closed.")
    elif group is not None:
        await message.reply_text(f"Ticket #{ticket.id} is closed.")


async def _staff_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str
) -> tuple[CallbackQuery, int] | None:
    """The pressed query and its ticket, if the data is genuine and the presser is staff."""
    query = update.callback_query
    if query is None or query.data is None:
        return None
    rt = runtime(context)
    parts = rt.signer.verify(query.data, kind) if rt.signer else None
    if parts is None or len(parts) != 1:
        await query.answer("This button is not valid.", show_alert=True)
        return None
    if not await is_staff_now(context.bot, rt.loaded.config.staff_chat, query.from_user.id):
        await query.answer(NOT_STAFF, show_alert=True)
        return None
    return query, parts[0]


async def take_ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A staff member takes a ticket from its card."""
    pressed = await _staff_button(update, context, TAKE_KIND)
    if pressed is not None:
        query, ticket_id = pressed
        user = query.from_user
        desk = TicketDesk(context.application)
        await query.answer(await desk.take(ticket_id, user.id, user.full_name))


async def close_ticket_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A staff member closes a ticket from its card."""
    pressed = await _staff_button(update, context, CLOSE_KIND)
    if pressed is not None:
        query, ticket_id = pressed
        user = query.from_user
        closed = await TicketDesk(context.application).close(ticket_id, user.id, user.full_name)
        await query.answer(f"Ticket #{ticket_id} " + ("closed." if closed else "was closed."))


async def rate_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The member says, once, whether the help was good."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = runtime(context)
    parts = rt.signer.verify(query.data, RATE_KIND) if rt.signer else None
    desk = TicketDesk(context.application)
    ticket = await desk.ticket(parts[0]) if parts and len(parts) == 2 else None
    if parts is None or ticket is None or ticket.user_id != query.from_user.id:
        await query.answer("This button is not for you.", show_alert=True)
        return
    thanks = await desk.rate(ticket, good=parts[1] == 1)
    await query.answer(None if thanks else "Already noted, thank you.")
    if thanks:
        await _append_and_drop_buttons(query, thanks)


async def _append_and_drop_buttons(query: CallbackQuery, note: str) -> None:
    message = query.message
    if message is None or not isinstance(message, Message):
        return
    try:
        await query.edit_message_text(f"{message.text_html}\n\n{note}", parse_mode="HTML")
    except TelegramError:
        await query.edit_message_reply_markup(None)

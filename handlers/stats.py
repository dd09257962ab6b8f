"""Admin commands about the group's life: /stats and /inactive, and the removal buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.core.runtime import runtime
from bot.features.inactive import (
    CANCEL_KIND,
    CONFIRM_VALID,
    REMOVE_KIND,
    list_silent,
    remove_silent,
    summary_line,
)
from bot.features.moderation import StaffNote
from bot.features.stats import send_recent_stats, staff_of
from bot.telegram.permissions import is_admin_now, sent_by_admin
from policies.durations import FOREVER, DurationError, format_duration, parse_duration
from policies.stats import MAX_DAYS, parse_days
from policies.texts import mention, render

STATS_GROUP = 1
"""After moderation; apart from the other admin commands so none shadows another."""
REFUSAL = "Only admins of this group can use this command."
USAGE = {"stats": "/stats [7d|30d]", "inactive": "/inactive 30d [remove]"}
MIN_SILENCE = 86400.0


def register(application: Application) -> None:  # type: ignore[type-arg]
    groups = filters.ChatType.GROUPS
    for handler in (
        CommandHandler("stats", show_stats, groups),
        CommandHandler("inactive", show_inactive, groups),
        CallbackQueryHandler(remove_inactive, pattern=rf"^{REMOVE_KIND}_"),
        CallbackQueryHandler(cancel_removal, pattern=rf"^{CANCEL_KIND}_"),
    ):
        application.add_handler(handler, group=STATS_GROUP)


async def _admin_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Message | None:
    """The command message if its sender is an admin of this group now, else refuse."""
    message = update.effective_message
    if message is None:
        return None
    if await sent_by_admin(context.bot, message):
        return message
    await message.reply_text(REFUSAL)
    return None


def stats_days(args: list[str]) -> int | None:
    """The number of days asked for: 7 without an argument; None if invalid."""
    if not args:
        return 7
    return parse_days(args[0]) if len(args) == 1 else None


async def show_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer with the group's recent numbers: a short table and a trend chart."""
    message = await _admin_message(update, context)
    if message is None:
        return
    days = stats_days(context.args or [])
    if days is None:
        await message.reply_text(f"Usage: {USAGE['stats']} (up to {MAX_DAYS}d)")
        return
    rt = runtime(context)
    await send_recent_stats(rt, context.bot, message.chat_id, message.chat.title or "", days)


def silence_of(args: list[str]) -> float | None:
    try:
        silence = parse_duration(args[0]) if args else 0.0
    except DurationError:
        return None
    return silence if MIN_SILENCE <= silence < FOREVER else None


async def show_inactive(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List members silent for a period; with `remove`, offer to remove them after a tap."""
    message = await _admin_message(update, context)
    if message is None:
        return
    args = [arg.lower() for arg in context.args or []]
    silence = silence_of(args)
    remove = args[1:] == ["remove"]
    if silence is None or not (len(args) == 1 or remove):
        await message.reply_text(f"Usage: {USAGE['inactive']} (at least 1d)")
        return
    rt, period = runtime(context), format_duration(silence)
    found = await list_silent(rt, context.bot, message.chat_id, rt.now() - silence)
    text = "\n".join([summary_line(found.count, period), *found.lines])
    markup = None
    if remove and found.count and rt.signer is not None:
        issued = int(rt.now())
        confirm = rt.signer.sign(REMOVE_KIND, message.chat_id, int(silence), issued)
        cancel = rt.signer.sign(CANCEL_KIND, message.chat_id)
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(f"🧹 Remove {found.count}", callback_data=confirm)],
                [InlineKeyboardButton("Cancel", callback_data=cancel)],
            ]
        )
        text += "\n\nRemove them? They can come back through an invite link."
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def remove_inactive(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin confirms: the silent members are removed (kicked), admins and trusted aside."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = runtime(context)
    parts = rt.signer.verify(query.data, REMOVE_KIND) if rt.signer else None
    if parts is None or len(parts) != 3:
        await query.answer("This button is not valid.", show_alert=True)
        return
    chat_id, silence, issued = parts
    if not await is_admin_now(context.bot, chat_id, query.from_user.id):
        await query.answer("Only an admin of that group can do this.", show_alert=True)
        return
    if rt.now() - issued > CONFIRM_VALID:
        await query.answer("This confirmation expired: run /inactive again.", show_alert=True)
        return
    await query.answer("Removing…")
    removed, failed = await remove_silent(
        rt, context.bot, chat_id, issued - silence, query.from_user.id
    )
    admin = mention(query.from_user.id, query.from_user.full_name)
    period = format_duration(silence)
    note = render(
        "🧹 {admin} removed {removed} member(s) silent for {period}",
        {"admin": admin, "removed": removed, "period": period},
    )
    if failed:
        note += f" ({failed} could not be removed: does qunbot have the Ban users right?)"
    await query.edit_message_text(note + ".", parse_mode=ParseMode.HTML)
    staff = staff_of(rt)
    if staff is not None:
        title = query.message.chat.title if query.message else None
        staff.add(StaffNote(render("{group}: ", {"group": title or chat_id}) + note + "."))


async def cancel_removal(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin changes their mind: nobody is removed."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = runtime(context)
    parts = rt.signer.verify(query.data, CANCEL_KIND) if rt.signer else None
    if parts is None or len(parts) != 1:
        await query.answer("This button is not valid.", show_alert=True)
        return
    if not await is_admin_now(context.bot, parts[0], query.from_user.id):
        await query.answer("Only an admin of that group can do this.", show_alert=True)
        return
    await query.answer()
    await query.edit_message_text("Cancelled: nobody was removed.")

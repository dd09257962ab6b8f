"""Admin commands about the group's life: /stats and /inactive, and the removal buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.core.i18n import N_, Messages
from bot.features.bot_data import BotData, Context
from bot.features.choices import choice_named, in_every_catalog
from bot.features.command_call import CommandCall, edit_pressed, pressed_in
from bot.features.inactive import (
    CANCEL_KIND,
    CONFIRM_VALID,
    REMOVE_KIND,
    list_silent,
    remove_silent,
    summary_line,
)
from bot.features.stats import send_recent_stats
from bot.telegram.callbacks import answer_button
from bot.telegram.permissions import is_admin_now
from bot.telegram.staff import StaffNote
from policies.durations import FOREVER, DurationError, parse_duration
from policies.stats import MAX_DAYS, parse_days
from policies.texts import Html, mention

STATS_GROUP = 1
"""The removal buttons, after moderation."""
MIN_SILENCE = 86400.0


def register(application: Application) -> None:  # type: ignore[type-arg]
    for handler in (
        CallbackQueryHandler(remove_inactive, pattern=rf"^{REMOVE_KIND}_"),
        CallbackQueryHandler(cancel_removal, pattern=rf"^{CANCEL_KIND}_"),
    ):
        application.add_handler(handler, group=STATS_GROUP)


def stats_days(args: list[str]) -> int | None:
    """The number of days asked for: 7 without an argument; `7d`, `14`, or a duration of
    whole days as any duration is written (`7天`, `两周`, `30 days`); None if invalid."""
    if not args:
        return 7
    if len(args) == 1 and parse_days(args[0]) is not None:
        return parse_days(args[0])
    if len(args) > 2:
        return None
    try:
        seconds = parse_duration(" ".join(args))
    except DurationError:
        return None
    days, rest = divmod(seconds, 86400)
    return int(days) if not rest and 1 <= days <= MAX_DAYS else None


async def show_stats(call: CommandCall, app: BotData) -> None:
    """Answer with the group's recent numbers: a short table and a trend chart."""
    days = stats_days(call.args)
    if days is None:
        await call.answer(
            call.messages.tp("Usage: {usage} (up to {days}d)", usage=call.usage(), days=MAX_DAYS)
        )
        return
    await send_recent_stats(call.services, call.group, call.chat_title, days)


def silence_of(args: list[str]) -> float | None:
    try:
        silence = parse_duration(args[0]) if args else 0.0
    except DurationError:
        return None
    return silence if MIN_SILENCE <= silence < FOREVER else None


REMOVE_WORDS = in_every_catalog({"remove": N_("remove")}, {"remove": ("清理", "踢出")})
"""`/inactive 30d remove` as each language writes it (`/inactive 30天 移除`)."""


async def show_inactive(call: CommandCall, app: BotData) -> None:
    """List members silent for a period; with `remove`, offer to remove them after a tap."""
    args = [arg.lower() for arg in call.args]
    silence = silence_of(args)
    remove = len(args) == 2 and choice_named(args[1], REMOVE_WORDS) == "remove"
    if silence is None or not (len(args) == 1 or remove):
        await call.answer(call.messages.tp("Usage: {usage} (at least 1d)", usage=call.usage()))
        return
    rt, say = call.services, call.messages
    period = say.duration(silence)
    found = await list_silent(rt, call.bot, call.group, rt.now() - silence)
    text = "\n".join([summary_line(found.count, period, say), *found.lines])
    markup = None
    if remove and found.count:
        issued = int(rt.now())
        confirm = rt.signer.sign(REMOVE_KIND, call.group, int(silence), issued)
        cancel = rt.signer.sign(CANCEL_KIND, call.group)
        remove_button = say.tp("🧹 Remove {count}", count=found.count)
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(remove_button, callback_data=confirm)],
                [InlineKeyboardButton(say.tp("Cancel"), callback_data=cancel)],
            ]
        )
        text += "\n\n" + say.t("Remove them? They can come back through an invite link.")
    await call.answer_html(text, markup=markup)


async def remove_inactive(update: Update, context: Context) -> None:
    """An admin confirms: the silent members are removed (kicked), admins and trusted aside."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = context.bot_data.services
    say = await pressed_in(rt, query)
    parts = rt.signer.verify(query.data, REMOVE_KIND)
    if parts is None or len(parts) != 3:
        await answer_button(query, say.tp("This button is not valid."), show_alert=True)
        return
    chat_id, silence, issued = parts
    if not await is_admin_now(context.bot, chat_id, query.from_user.id):
        only = say.tp("Only an admin of that group can do this.")
        await answer_button(query, only, show_alert=True)
        return
    if rt.now() - issued > CONFIRM_VALID:
        expired = say.tp("This confirmation expired: run /inactive again.")
        await answer_button(query, expired, show_alert=True)
        return
    await answer_button(query, say.tp("Removing…"))
    removed, failed = await remove_silent(
        rt, context.bot, chat_id, issued - silence, query.from_user.id
    )
    admin = mention(query.from_user.id, query.from_user.full_name)
    title = query.message.chat.title if query.message else None
    await edit_pressed(rt, query, _removal_note(say, admin, removed, failed, silence))
    staff = rt.staff.messages
    note = _removal_note(staff, admin, removed, failed, silence)
    rt.staff.add(StaffNote(staff.t("{group}: ", group=title or chat_id) + note))


def _removal_note(say: Messages, admin: str, removed: int, failed: int, silence: float) -> str:
    note = say.tn(
        "🧹 {admin} removed {count} member(s) silent for {period}",
        "🧹 {admin} removed {count} member(s) silent for {period}",
        removed,
        admin=Html(admin),
        period=say.duration(silence),
    )
    if failed:
        note += say.tn(
            " ({count} could not be removed: does qunbot have the Ban users right?)",
            " ({count} could not be removed: does qunbot have the Ban users right?)",
            failed,
        )
    return note + say.t(".")


async def cancel_removal(update: Update, context: Context) -> None:
    """An admin changes their mind: nobody is removed."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = context.bot_data.services
    say = await pressed_in(rt, query)
    parts = rt.signer.verify(query.data, CANCEL_KIND)
    if parts is None or len(parts) != 1:
        await answer_button(query, say.tp("This button is not valid."), show_alert=True)
        return
    if not await is_admin_now(context.bot, parts[0], query.from_user.id):
        only = say.tp("Only an admin of that group can do this.")
        await answer_button(query, only, show_alert=True)
        return
    await answer_button(query)
    await edit_pressed(rt, query, say.t("Cancelled: nobody was removed."))

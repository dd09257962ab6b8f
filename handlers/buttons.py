"""Inline buttons: a call-out acknowledged, a re-invite, and the audit log's Undo, Confirm and
Ban everywhere.

Every button carries signed data, and every admin button re-checks admin status when pressed.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.core.i18n import N_
from bot.features.bot_data import Context
from bot.features.command_call import append_to_pressed, pressed_in
from bot.features.reports import REMOVE_KIND
from bot.telegram.callbacks import answer_button
from bot.telegram.permissions import is_admin_now
from policies.texts import mention, render

BUTTONS_GROUP = 10
NOT_VALID = N_("This button is not valid.")
ADMINS_ONLY = N_("Only an admin of that group can do this.")
ALREADY_DECIDED = N_("Already decided, or too long ago: use /spam as a reply in the group.")
REMOVED_REPORTED = N_("🗑 Removed as an ad ({by})")


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        CallbackQueryHandler(acknowledge_callout, pattern=r"^ack_"), group=BUTTONS_GROUP
    )
    application.add_handler(
        CallbackQueryHandler(reinvite_now, pattern=r"^rin_"), group=BUTTONS_GROUP
    )
    application.add_handler(
        CallbackQueryHandler(audit_button, pattern=r"^(undo|conf|nban)_"), group=BUTTONS_GROUP
    )
    application.add_handler(
        CallbackQueryHandler(remove_reported, pattern=rf"^{REMOVE_KIND}_"), group=BUTTONS_GROUP
    )


async def acknowledge_callout(update: Update, context: Context) -> None:
    """The called-out member promises no more ads, and the group sees the thanks. The
    offence stands: the call-out warned that the next ad removes them, and it does."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = context.bot_data.services
    parts = rt.signer.verify(query.data, "ack")
    if parts is None or len(parts) != 2 or query.from_user.id != parts[1]:
        say = await pressed_in(rt, query)
        await answer_button(query, say.tp("This button is not for you."), show_alert=True)
        return
    chat_id, user_id = parts
    policy = (await rt.policies.policy_for(chat_id)).policy
    name = mention(user_id, query.from_user.full_name)
    await answer_button(query)
    await append_to_pressed(
        rt, query, render(policy.templates.callout_acknowledged, {"user": name})
    )


async def reinvite_now(update: Update, context: Context) -> None:
    """An admin lets a removed member back before the cool-down ends."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = context.bot_data.services
    say = await pressed_in(rt, query)
    parts = rt.signer.verify(query.data, "rin")
    if parts is None or len(parts) != 2:
        await answer_button(query, say.tp("This button is not valid."), show_alert=True)
        return
    chat_id, user_id = parts
    if not await is_admin_now(context.bot, chat_id, query.from_user.id):
        only = say.tp("Only an admin of that group can do this.")
        await answer_button(query, only, show_alert=True)
        return
    sent = await context.bot_data.reinvites.now(chat_id, user_id, query.from_user.id)
    await answer_button(
        query,
        say.tp("Invite sent.")
        if sent
        else say.tp("They will get an invite as soon as they write to the bot."),
    )


async def audit_button(update: Update, context: Context) -> None:
    """Undo, confirm or spread a recorded action; only an admin of that group, right now."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    kind = query.data.split("_", 1)[0]
    rt = context.bot_data.services
    say = await pressed_in(rt, query)
    entry = await context.bot_data.settings.signed_entry(query.data, kind)
    if entry is None:
        await answer_button(query, say.tp("This button is not valid."), show_alert=True)
        return
    if not await is_admin_now(context.bot, entry.chat_id, query.from_user.id):
        only = say.tp("Only an admin of that group can do this.")
        await answer_button(query, only, show_alert=True)
        return
    outcome = await context.bot_data.actions.apply_button(kind, entry, query.from_user.id)
    await answer_button(query, outcome.text[:190])
    note = say.t("{outcome} ({by})", outcome=outcome.text, by=query.from_user.full_name)
    await append_to_pressed(rt, query, note, keep_buttons=outcome.failed)


async def remove_reported(update: Update, context: Context) -> None:
    """The staff decide that a reported member's message is an ad: removed, ladder applied."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    app = context.bot_data
    say = app.services.staff.messages
    if app.services.signer.verify(query.data, REMOVE_KIND) is None:
        await answer_button(query, say.tp(NOT_VALID), show_alert=True)
        return
    target = app.reports.awaiting_decision(query.data)
    if target is None:
        await answer_button(query, say.tp(ALREADY_DECIDED), show_alert=True)
        return
    if not await is_admin_now(context.bot, target.chat_id, query.from_user.id):
        await answer_button(query, say.tp(ADMINS_ONLY), show_alert=True)
        return
    app.reports.decided(target)
    await app.actions.mark_spam(target, query.from_user.id)
    await answer_button(query)
    note = say.t(REMOVED_REPORTED, by=query.from_user.full_name)
    await append_to_pressed(app.services, query, note)

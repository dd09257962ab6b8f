"""Inline buttons: a call-out acknowledged, a re-invite, and the audit log's Undo, Confirm and
Ban everywhere.

Every button carries signed data, and every admin button re-checks admin status when pressed.
"""

from __future__ import annotations

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.core.runtime import Runtime, runtime
from bot.features import admin_actions as actions
from bot.features.reinvite import offer_reinvites
from bot.store import AuditEntry
from bot.telegram.permissions import is_admin_now
from policies.texts import mention, render

BUTTONS_GROUP = 10


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


async def acknowledge_callout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The called-out member promises no more ads: their first call-out in the window is
    forgiven; ignoring it, or offending again, climbs the ladder."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = runtime(context)
    parts = rt.signer.verify(query.data, "ack") if rt.signer else None
    if parts is None or len(parts) != 2 or query.from_user.id != parts[1]:
        await query.answer("This button is not for you.", show_alert=True)
        return
    chat_id, user_id = parts
    since = rt.now() - (await rt.policy_for(chat_id)).policy.moderation.window
    if await rt.store.offences.acknowledged_since(chat_id, user_id, since) == 0:
        await rt.store.offences.acknowledge_latest(chat_id, user_id)
        state = await rt.store.members.state(chat_id, user_id, rt.now())
        if state.offence_times:
            state.offence_times.pop()
    policy = (await rt.policy_for(chat_id)).policy
    name = mention(user_id, query.from_user.full_name)
    await query.answer()
    await _replace_buttons_with(
        query, render(policy.templates.callout_acknowledged, {"user": name})
    )


async def _replace_buttons_with(query: CallbackQuery, note: str) -> None:
    message = query.message
    if message is None or not hasattr(message, "text_html"):
        return
    try:
        await query.edit_message_text(f"{message.text_html}\n\n{note}", parse_mode="HTML")
    except TelegramError:
        await query.edit_message_reply_markup(None)


async def reinvite_now(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin lets a removed member back before the cool-down ends."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = runtime(context)
    parts = rt.signer.verify(query.data, "rin") if rt.signer else None
    if parts is None or len(parts) != 2:
        await query.answer("This button is not valid.", show_alert=True)
        return
    chat_id, user_id = parts
    if not await is_admin_now(context.bot, chat_id, query.from_user.id):
        await query.answer("Only an admin of that group can do this.", show_alert=True)
        return
    await rt.store.reinvites.make_eligible(chat_id, user_id, rt.now())
    sent = await offer_reinvites(rt, context.bot, user_id)
    await query.answer(
        "Invite sent." if sent else "They will get an invite as soon as they write to the bot."
    )
    await rt.store.audit.add(
        chat_id, rt.now(), "reinvite-now", actor_id=query.from_user.id, target_id=user_id
    )


async def audit_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Undo, confirm or spread a recorded action; only an admin of that group, right now."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    rt = runtime(context)
    kind = query.data.split("_", 1)[0]
    parts = rt.signer.verify(query.data, kind) if rt.signer else None
    entry = await rt.store.audit.get(parts[0]) if parts and len(parts) == 1 else None
    if entry is None:
        await query.answer("This button is not valid.", show_alert=True)
        return
    if not await is_admin_now(context.bot, entry.chat_id, query.from_user.id):
        await query.answer("Only an admin of that group can do this.", show_alert=True)
        return
    outcome = await _apply_audit_button(kind, rt, context, entry, query.from_user.id)
    await query.answer(outcome[:190])
    note = render("{outcome} ({by})", {"outcome": outcome, "by": query.from_user.full_name})
    await _replace_buttons_with(query, note)


async def _apply_audit_button(
    kind: str, rt: Runtime, context: ContextTypes.DEFAULT_TYPE, entry: AuditEntry, actor: int
) -> str:
    if kind == "undo":
        return await actions.undo(rt, context.bot, entry, actor)
    if kind == "nban" and entry.target_id is not None:
        member = actions.Member(entry.chat_id, entry.target_id, str(entry.target_id))
        peers = await actions.ban_in_network(rt, context.bot, member)
        return f"Banned in {len(peers)} other group(s) of the network."
    await rt.store.audit.add(
        entry.chat_id,
        rt.now(),
        "confirm",
        actor_id=actor,
        target_id=entry.target_id,
        text=f"confirm #{entry.id}",
    )
    return f"Confirmed #{entry.id}."

"""Admin commands about one member (/trust /warn /mute /kick /ban /pardon /spam /notspam ...),
and /report, which any member may use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.core.runtime import Runtime
from bot.features import admin_actions as actions
from bot.features.admin_actions import Member
from bot.features.admin_call import AdminCall, admin_call
from bot.features.moderation import Target
from bot.features.reports import file_report
from bot.telegram.extract import display_name
from policies.decide import escalate
from policies.durations import DurationError, format_duration, parse_duration
from policies.facts import MemberHistory
from policies.texts import mention, render
from policies.verdict import Hit

MEMBER_COMMANDS_GROUP = 0
MemberCommand = Callable[[AdminCall, Member], Awaitable[None]]

USAGE = {
    "trust": "/trust (reply, @username or id)",
    "untrust": "/untrust (reply, @username or id)",
    "warn": "/warn [reason] (reply, @username or id)",
    "unwarn": "/unwarn (reply, @username or id)",
    "mute": "/mute DURATION e.g. /mute 1d (reply, @username or id)",
    "unmute": "/unmute (reply, @username or id)",
    "kick": "/kick (reply, @username or id)",
    "ban": "/ban (reply, @username or id)",
    "unban": "/unban (@username or id)",
    "pardon": "/pardon: forget the member's offences",
    "spam": "/spam (reply): remove as an ad, apply the ladder, teach the scorer",
    "notspam": "/notspam (reply): teach the scorer and undo the last automatic action",
}


def register(application: Application) -> None:  # type: ignore[type-arg]
    commands: dict[str, MemberCommand] = {
        "trust": trust,
        "untrust": untrust,
        "warn": warn,
        "unwarn": unwarn,
        "mute": mute,
        "unmute": unmute,
        "kick": kick,
        "ban": ban,
        "unban": unban,
        "pardon": pardon,
        "spam": mark_spam,
        "notspam": mark_not_spam,
    }
    for name, command in commands.items():
        handler = CommandHandler(name, _as_handler(name, command))
        application.add_handler(handler, group=MEMBER_COMMANDS_GROUP)
    application.add_handler(
        CommandHandler("report", report, filters.ChatType.GROUPS), group=MEMBER_COMMANDS_GROUP
    )


def _as_handler(
    name: str, command: MemberCommand
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        call = await admin_call(update, context, wants_target=True)
        if call is None:
            return
        if call.target is None:
            await call.reply(f"Whom? Usage: {USAGE[name]}")
            return
        try:
            await command(call, call.target)
        except TelegramError as error:
            await call.reply(f"Telegram refused: {error.message}. Check qunbot's admin rights.")

    handle.__doc__ = command.__doc__
    return handle


async def _record(call: AdminCall, member: Member, action: str, text: str = "") -> int:
    return await call.rt.store.audit.add(
        call.chat_id,
        call.rt.now(),
        action,
        actor_id=call.actor_id,
        target_id=member.user_id,
        text=text or None,
    )


async def trust(call: AdminCall, member: Member) -> None:
    """Exempt a member from every automatic check."""
    await call.rt.store.members.set_trusted(call.chat_id, member.user_id, True, call.rt.now())
    await _record(call, member, "trust")
    await call.reply(f"{member.name} is trusted: qunbot will never act on their messages.")


async def untrust(call: AdminCall, member: Member) -> None:
    """Put a member back under the automatic checks."""
    await call.rt.store.members.set_trusted(call.chat_id, member.user_id, False, call.rt.now())
    await _record(call, member, "untrust")
    await call.reply(f"{member.name} is no longer trusted.")


async def warn(call: AdminCall, member: Member) -> None:
    """Record an offence by hand and tell the member what comes next."""
    rt = call.rt
    reason = " ".join(call.args) or "please follow the group rules"
    audit_id = await _record(call, member, "warn", reason)
    await rt.store.offences.add(call.chat_id, member.user_id, rt.now(), "admin.warn", audit_id)
    await rt.store.members.refresh_offences(call.chat_id, member.user_id)
    policy = (await rt.policy_for(call.chat_id)).policy
    next_step = escalate(policy, await _history(rt, member), rt.now(), (), judged="").step or ""
    text = render(
        policy.templates.warned,
        {"user": mention(member.user_id, member.name), "reason": reason, "next": next_step},
    )
    await call.bot.send_message(call.chat_id, text, parse_mode=ParseMode.HTML)


async def _history(rt: Runtime, member: Member) -> MemberHistory:
    state = await rt.store.members.state(member.chat_id, member.user_id, rt.now())
    return MemberHistory(
        message_count=state.message_count,
        first_seen=state.first_seen,
        offence_times=tuple(state.offence_times),
    )


async def unwarn(call: AdminCall, member: Member) -> None:
    """Take back the member's latest offence."""
    forgiven = await call.rt.store.offences.acknowledge_latest(call.chat_id, member.user_id)
    await call.rt.store.members.refresh_offences(call.chat_id, member.user_id)
    await _record(call, member, "unwarn")
    await call.reply("Latest offence taken back." if forgiven else "They have no offence.")


async def mute(call: AdminCall, member: Member) -> None:
    """Mute for a duration (or forever)."""
    try:
        seconds = parse_duration(call.args[0]) if call.args else None
    except DurationError:
        seconds = None
    if seconds is None:
        await call.reply(f"Usage: {USAGE['mute']}")
        return
    until = None if seconds == float("inf") else call.rt.now() + seconds
    await actions.mute(call.bot, member, until)
    await _record(call, member, f"mute {format_duration(seconds)}")
    await call.reply(f"{member.name} is muted for {format_duration(seconds)}.")


async def unmute(call: AdminCall, member: Member) -> None:
    """Give the member back the group's normal permissions."""
    await actions.unmute(call.bot, member)
    await _record(call, member, "unmute")
    await call.reply(f"{member.name} may speak again.")


async def kick(call: AdminCall, member: Member) -> None:
    """Remove the member; they may come back through an invite."""
    await actions.kick(call.bot, member, call.rt.now())
    await _record(call, member, "kick")
    await call.reply(f"{member.name} was removed.")


async def ban(call: AdminCall, member: Member) -> None:
    """Ban the member here and in every group of the network."""
    await actions.ban(call.bot, member)
    await _record(call, member, "ban")
    peers = await actions.ban_in_network(call.rt, call.bot, member)
    extra = f" and in {len(peers)} other group(s) of the network" if peers else ""
    await call.reply(f"{member.name} was banned{extra}.")


async def unban(call: AdminCall, member: Member) -> None:
    """Lift a ban so the member may join again."""
    await actions.unban(call.bot, member)
    await _record(call, member, "unban")
    await call.reply(f"{member.name} may join again.")


async def pardon(call: AdminCall, member: Member) -> None:
    """Forget every offence of the member in this group."""
    removed = await call.rt.store.offences.pardon(call.chat_id, member.user_id)
    await call.rt.store.members.refresh_offences(call.chat_id, member.user_id)
    await _record(call, member, "pardon")
    await call.reply(f"Forgot {removed} offence(s) of {member.name}.")


async def mark_spam(call: AdminCall, member: Member) -> None:
    """Remove the replied message as an ad, apply the ladder and learn from it."""
    replied = call.message.reply_to_message
    if replied is None:
        await call.reply(f"Reply to the message. Usage: {USAGE['spam']}")
        return
    rt, text = call.rt, replied.text or replied.caption or ""
    compiled = await rt.policy_for(call.chat_id)
    hit = Hit("admin.spam", "marked as an ad by an admin", text[:80], 1.0)
    verdict = escalate(
        compiled.policy, await _history(rt, member), rt.now(), (hit,), judged="an admin's /spam"
    )
    _, dry_run = await rt.group_settings(call.chat_id)
    target = Target(
        call.chat_id, call.chat_title, member.user_id, _name(replied), replied.message_id, text
    )
    await rt.enforcer(dry_run).execute(target, verdict, compiled.policy)
    if text:
        await rt.store.learned.add(
            call.chat_id, text, spam=True, at=rt.now(), actor_id=call.actor_id
        )
        rt.classifier.learn(text, True)


async def mark_not_spam(call: AdminCall, member: Member) -> None:
    """Teach the scorer that this is ordinary chat, and undo the last automatic action."""
    rt = call.rt
    replied = call.message.reply_to_message
    text = (replied.text or replied.caption or "") if replied else ""
    if text:
        await rt.store.learned.add(
            call.chat_id, text, spam=False, at=rt.now(), actor_id=call.actor_id
        )
        rt.classifier.learn(text, False)
    entry = await rt.store.audit.last_automatic(call.chat_id, member.user_id)
    outcome = await actions.undo(rt, call.bot, entry, call.actor_id) if entry else ""
    await call.reply(f"Learned as not spam. {outcome}".strip())


def _name(message: object) -> str:
    user = getattr(message, "from_user", None)
    return display_name(user.first_name, user.last_name) if user else "?"


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A member flags the replied-to message for the staff."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or message.from_user is None:
        if message is not None:
            await message.reply_text("Reply to the message you want to report with /report.")
        return
    answer = await file_report(context, message)
    await message.reply_text(answer)

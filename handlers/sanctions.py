"""Admin commands about one member (/trust /warn /mute /kick /ban /pardon /spam /notspam ...),
and /report, which any member may use. Registered from the command table."""

from __future__ import annotations

from bot.core.reasons import say_invalid
from bot.features.admin_actions import Member
from bot.features.bot_data import BotData
from bot.features.command_call import CommandCall, duration_words, is_own_message
from bot.features.moderation import target_of
from bot.telegram.extract import replied_to
from policies.durations import FOREVER, DurationError, parse_mute_duration
from policies.facts import is_chat_id
from policies.texts import mention, render


def _member(call: CommandCall) -> Member:
    """The member the table promised this command (checked before it runs)."""
    if call.target is None:
        raise RuntimeError(f"/{call.command.name} runs only with a member")
    return call.target


async def trust(call: CommandCall, app: BotData) -> None:
    """Exempt a member from every automatic check."""
    member = _member(call)
    await app.actions.set_trusted(member, True, call.actor_id)
    await call.answer(
        call.messages.tp(
            "{name} is trusted: qunbot will never act on their messages.", name=member.name
        )
    )


async def untrust(call: CommandCall, app: BotData) -> None:
    """Put a member back under the automatic checks."""
    member = _member(call)
    await app.actions.set_trusted(member, False, call.actor_id)
    await call.answer(call.messages.tp("{name} is no longer trusted.", name=member.name))


async def warn(call: CommandCall, app: BotData) -> None:
    """Record an offence by hand and tell the member what comes next."""
    member = _member(call)
    reason = " ".join(call.args) or call.messages.tp("please follow the group rules")
    next_step = await app.actions.warn(member, reason, call.actor_id)
    policy = (await call.services.policies.policy_for(call.group)).policy
    text = render(
        policy.templates.warned,
        {
            "user": mention(member.user_id, member.name),
            "reason": reason,
            "next": call.messages.step(next_step) if next_step else "",
        },
    )
    await call.answer_html(text)


async def unwarn(call: CommandCall, app: BotData) -> None:
    """Take back the member's latest offence."""
    forgiven = await app.actions.unwarn(_member(call), call.actor_id)
    say = call.messages
    await call.answer(
        say.tp("Latest offence taken back.") if forgiven else say.tp("They have no offence.")
    )


async def mute(call: CommandCall, app: BotData) -> None:
    """Mute for a duration (or forever)."""
    member = _member(call)
    if is_chat_id(member.user_id):
        await call.answer(
            call.messages.tp(
                "{name} is a channel and cannot be muted: /ban stops it.", name=member.name
            )
        )
        return
    try:
        seconds = _mute_length(call.args)
    except DurationError as error:
        await call.answer(
            call.messages.tp(
                "{error}. Usage: {usage}",
                error=say_invalid(call.messages, error),
                usage=call.usage(),
            )
        )
        return
    if seconds is None:
        await call.answer(call.messages.tp("Usage: {usage}", usage=call.usage()))
        return
    await app.actions.mute(member, seconds, call.actor_id)
    if seconds == FOREVER:
        await call.answer(call.messages.tp("{name} is muted for good.", name=member.name))
        return
    duration = call.messages.duration(seconds)
    await call.answer(
        call.messages.tp("{name} is muted for {duration}.", name=member.name, duration=duration)
    )


def _mute_length(args: list[str]) -> float | None:
    """The duration beside the member; `10 分钟` and `2 hours` come as two words."""
    if not args:
        return None
    if duration_words(args) == 2:
        return parse_mute_duration(f"{args[0]} {args[1]}")
    return parse_mute_duration(args[0])


async def unmute(call: CommandCall, app: BotData) -> None:
    """Give the member back the group's normal permissions."""
    member = _member(call)
    await app.actions.unmute(member, call.actor_id)
    await call.answer(call.messages.tp("{name} may speak again.", name=member.name))


async def kick(call: CommandCall, app: BotData) -> None:
    """Remove the member; they may come back through an invite."""
    member = _member(call)
    await app.actions.kick(member, call.actor_id)
    await call.answer(call.messages.tp("{name} was removed.", name=member.name))


async def ban(call: CommandCall, app: BotData) -> None:
    """Ban the member here and in every group of the network."""
    member = _member(call)
    peers = await app.actions.ban(member, call.actor_id)
    if not peers:
        await call.answer(call.messages.tp("{name} was banned.", name=member.name))
        return
    await call.answer(
        call.messages.tnp(
            "{name} was banned, and in {count} other group of the network.",
            "{name} was banned, and in {count} other groups of the network.",
            len(peers),
            name=member.name,
        )
    )


async def unban(call: CommandCall, app: BotData) -> None:
    """Lift a ban so the member may join again."""
    member = _member(call)
    await app.actions.unban(member, call.actor_id)
    await call.answer(call.messages.tp("{name} may join again.", name=member.name))


async def pardon(call: CommandCall, app: BotData) -> None:
    """Forget every offence of the member in this group."""
    member = _member(call)
    removed = await app.actions.pardon(member, call.actor_id)
    await call.answer(
        call.messages.tnp(
            "Forgot {count} offence of {name}.",
            "Forgot {count} offences of {name}.",
            removed,
            name=member.name,
        )
    )


async def mark_spam(call: CommandCall, app: BotData) -> None:
    """Remove the replied message as an ad, apply the ladder and learn from it."""
    _member(call)
    replied = replied_to(call.message)
    target = target_of(replied) if replied is not None else None
    if target is None:
        await call.answer(
            call.messages.tp("Reply to the message. Usage: {usage}", usage=call.usage())
        )
        return
    await app.actions.mark_spam(target, call.actor_id)


async def mark_not_spam(call: CommandCall, app: BotData) -> None:
    """Teach the scorer that this is ordinary chat, clear the same text in this group, and
    undo the action taken on it."""
    replied = replied_to(call.message)
    # Answering qunbot's own notice, the removed message is learned from the audit instead.
    own = replied is not None and is_own_message(call.bot, replied)
    judged = replied if replied is not None and not own else None
    text = (judged.text or judged.caption or "") if judged is not None else ""
    message_id = judged.message_id if judged is not None else None
    await call.answer(
        await app.actions.mark_not_spam(
            _member(call), text, call.actor_id, call.messages, message_id
        )
    )


async def report(call: CommandCall, app: BotData) -> None:
    """A member flags the replied-to message for the staff."""
    replied = replied_to(call.message)
    if replied is None or (replied.from_user is None and replied.sender_chat is None):
        policy = (await call.services.policies.policy_for(call.group)).policy
        await call.answer(policy.templates.report_needs_reply)
        return
    await call.answer(await app.reports.file(call.bot, call.message, replied))

"""Every group message and edit: facts -> decide -> enforce. Stops the update once acted on."""

from __future__ import annotations

from dataclasses import replace

from loguru import logger
from telegram import Message, Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, MessageHandler, filters

from bot.core.runtime import Runtime, runtime
from bot.features.moderation import Target
from bot.store import MemberState
from bot.telegram.extract import display_name, facts_from_message
from policies.decide import decide
from policies.facts import MemberHistory, MessageFacts
from policies.schema import WaveConfig
from policies.verdict import ActionKind

MODERATION_GROUP = -10
"""Moderation runs before every other handler group, so a removed ad triggers nothing else."""


class _MemberContent(filters.MessageFilter):
    """Anything a member wrote or sent, as opposed to a service message. Cheaper than
    `~StatusUpdate.ALL`, which tests some sixty kinds of service message on every update."""

    __slots__ = ()

    def filter(self, message: Message) -> bool:
        return bool(
            message.text
            or message.caption
            or message.forward_origin
            or message.contact
            or message.via_bot
            or message.photo
            or message.video
            or message.document
            or message.animation
            or message.sticker
            or message.voice
            or message.audio
            or message.video_note
            or message.poll
            or message.location
            or message.story
        )


GROUP_MESSAGES = filters.ChatType.GROUPS & filters.UpdateType.MESSAGES & _MemberContent()


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        MessageHandler(GROUP_MESSAGES, moderate_message), group=MODERATION_GROUP
    )


async def moderate_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Judge a group message (new or edited) and carry out the verdict."""
    message = update.effective_message
    if message is None or message.chat is None:
        return
    rt = runtime(context)
    if message.chat_id == rt.loaded.config.staff_chat or message.chat_id in rt.idle_chats:
        return
    is_edit = update.edited_message is not None
    facts = facts_from_message(message, is_edit=is_edit)
    await rt.note_group(message.chat_id, message.chat.title or "")
    if facts.username:
        rt.usernames[facts.username.lower()] = facts.user_id
    now = rt.now()
    state = await rt.store.members.state(facts.chat_id, facts.user_id, now)
    if not is_edit:
        rt.store.members.record_message(state, now)
    compiled = await rt.policy_for(facts.chat_id)
    wave = _wave_count(rt, facts, compiled.policy.moderation.wave, now)
    history = _history(state, is_admin=False, counted=not is_edit)
    verdict = decide(facts, compiled, history, now, wave_accounts=wave)
    if verdict.spam:
        # Only exemptions need the admins and the linked channel, which cost two API calls
        # per group and ADMIN_LIST_TTL; they can only clear a message, so ads alone fetch them.
        info = await rt.chat_info.get(context.bot, message.chat_id)
        facts = replace(facts, linked_chat_id=info.linked_chat_id)
        history = replace(history, is_admin=facts.user_id in info.admins)
        verdict = decide(facts, compiled, history, now, wave_accounts=wave)
    if not verdict.spam:
        if not is_edit:
            rt.stats.message(facts.chat_id, _speaker(facts))
        return
    _, dry_run = await rt.group_settings(facts.chat_id)
    audit_id = await rt.enforcer(dry_run).execute(
        _target(message, facts), verdict, compiled.policy
    )
    if not dry_run and ActionKind.DELETE in verdict.action_kinds:
        rt.stats.count(facts.chat_id, "ads_removed")
    logger.info(
        "chat {} user {} message {}: {} (action #{})",
        facts.chat_id,
        facts.user_id,
        facts.message_id,
        verdict.explanation,
        audit_id,
    )
    raise ApplicationHandlerStop


def _history(state: MemberState, *, is_admin: bool, counted: bool) -> MemberHistory:
    """The member as they were before this message, plus its time for flood counting."""
    return MemberHistory(
        message_count=state.message_count - (1 if counted else 0),
        first_seen=state.first_seen,
        trusted=state.trusted,
        is_admin=is_admin,
        offence_times=tuple(state.offence_times),
        recent_message_times=tuple(state.recent_message_times),
    )


def _speaker(facts: MessageFacts) -> int | None:
    """Who counts as an active member: people, not bots or chats posting in the group."""
    return None if facts.is_bot or facts.sender_chat_id is not None else facts.user_id


def _wave_count(rt: Runtime, facts: MessageFacts, wave: WaveConfig, now: float) -> int:
    if not wave.enabled or not facts.text or facts.is_edit:
        return 0
    tracker = rt.wave_tracker(wave.window, wave.min_length)
    return tracker.observe(facts.chat_id, facts.user_id, facts.text, now)


def _target(message: Message, facts: MessageFacts) -> Target:
    user = message.from_user
    name = display_name(user.first_name, user.last_name) if user else facts.user_name
    return Target(
        chat_id=facts.chat_id,
        chat_title=message.chat.title or "",
        user_id=facts.user_id,
        user_name=name,
        message_id=facts.message_id,
        text=facts.text,
        sent_at=facts.date,
    )

"""Every group message and edit: judged by the moderation feature; stops the update once
acted on, so a removed ad triggers nothing else."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import Application, ApplicationHandlerStop, MessageHandler, filters

from bot.features.bot_data import Context

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
            or message.checklist
        )


GROUP_MESSAGES = filters.ChatType.GROUPS & filters.UpdateType.MESSAGES & _MemberContent()


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        MessageHandler(GROUP_MESSAGES, moderate_message), group=MODERATION_GROUP
    )


async def moderate_message(update: Update, context: Context) -> None:
    """Judge a group message (new or edited) and carry out the verdict."""
    message = update.effective_message
    if message is None or message.chat is None:
        return
    is_edit = update.edited_message is not None
    if await context.bot_data.moderation.judge(context.bot, message, is_edit=is_edit):
        raise ApplicationHandlerStop

"""Who is asking, about which group and which member: the common front of every admin command.

A command works in the group, or in the private chat with the group's id as first argument.
The caller must be an admin of that group at the moment of use; anonymous admins count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Bot, Message, Update
from telegram.ext import ContextTypes

from bot.core.runtime import Runtime, runtime
from bot.features.admin_actions import Member
from bot.telegram.permissions import is_admin_now, sent_by_admin

REFUSAL = "Only admins of this group can use this command."


@dataclass
class AdminCall:
    """A checked admin command: the group it acts on, the caller, and what is left of the args."""

    rt: Runtime
    bot: Bot
    message: Message
    chat_id: int
    chat_title: str
    actor_id: int | None
    args: list[str] = field(default_factory=list)
    target: Member | None = None

    async def reply(self, text: str, **options: object) -> None:
        await self.message.reply_text(text, **options)  # type: ignore[arg-type]


async def admin_call(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, wants_target: bool = False
) -> AdminCall | None:
    """The command if the caller may use it here, else None (after a short refusal)."""
    message = update.effective_message
    if message is None:
        return None
    rt, args = runtime(context), list(context.args or [])
    if message.chat.type == "private":
        call = await _private_call(rt, context.bot, message, args)
    elif await sent_by_admin(context.bot, message):
        call = AdminCall(
            rt,
            context.bot,
            message,
            message.chat_id,
            message.chat.title or "",
            _actor(message),
            args,
        )
    else:
        policy = (await rt.policy_for(message.chat_id)).policy
        await message.reply_text(policy.templates.not_admin)
        return None
    if call is None:
        return None
    if wants_target:
        call.target = resolve_target(call)
    return call


async def _private_call(
    rt: Runtime, bot: Bot, message: Message, args: list[str]
) -> AdminCall | None:
    if not args or not args[0].lstrip("-").isdigit():
        await message.reply_text("In private, name the group first: /COMMAND GROUP_ID ...")
        return None
    chat_id = int(args[0])
    user = message.from_user
    if user is None or not await is_admin_now(bot, chat_id, user.id):
        await message.reply_text(REFUSAL)
        return None
    title = (await rt.chat_info.get(bot, chat_id)).title
    return AdminCall(rt, bot, message, chat_id, title, user.id, args[1:])


def resolve_target(call: AdminCall) -> Member | None:
    """The member a command is about: the replied-to sender, an @username seen before, or an id.

    Consumes the argument that named the member.
    """
    replied = call.message.reply_to_message
    if replied is not None and replied.from_user is not None and not replied.from_user.is_bot:
        return Member(call.chat_id, replied.from_user.id, replied.from_user.full_name)
    if not call.args:
        return None
    word = call.args[0]
    user_id = call.rt.usernames.get(word.lstrip("@").lower()) if word.startswith("@") else None
    if user_id is None and word.isdigit():
        user_id = int(word)
    if user_id is None:
        return None
    call.args.pop(0)
    return Member(call.chat_id, user_id, word)


def _actor(message: Message) -> int | None:
    if message.sender_chat is not None:
        return message.sender_chat.id
    return message.from_user.id if message.from_user else None

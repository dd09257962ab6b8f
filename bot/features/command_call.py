"""Who is asking, about which group and which member: the one authorisation of every command.

A command names in the table who may use it and where. An admin command works in the group, or
in the private chat with the group's id as first argument, and the caller must be an admin of
that group at the moment of use (anonymous admins count). A staff command works in the staff
chat for members of it, and then covers every group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message
from telegram.error import TelegramError

from bot.core.i18n import N_, Messages
from bot.core.services import Services
from bot.features.admin_actions import Member
from bot.features.commands import Command, Where, Who, usage
from bot.features.throttle import CommandLimiter
from bot.telegram.extract import replied_to
from bot.telegram.permissions import is_admin_now, is_staff_now, sent_by_admin
from policies.durations import DurationError, parse_duration
from policies.facts import PSEUDO_USER_IDS

REFUSAL = N_("Only an admin of that group can do this.")
"""In private, where "this group" would name no group."""
NOT_STAFF = N_("Only the shop's staff can do this.")
NAME_THE_GROUP = N_("In private, name the group first: /COMMAND GROUP_ID ...")


@dataclass
class CommandCall:
    """An authorised command: the group it acts on (None: every group, for the staff), the
    caller, and what is left of the arguments."""

    services: Services
    bot: Bot
    message: Message
    command: Command
    chat_id: int | None
    chat_title: str
    actor_id: int | None
    messages: Messages
    """The language of the answer: the group's, else the config's."""
    args: list[str] = field(default_factory=list)
    target: Member | None = None

    @property
    def group(self) -> int:
        """The group of a command that acts on one group."""
        if self.chat_id is None:
            raise RuntimeError(f"/{self.command.name} needs a group")
        return self.chat_id

    def usage(self) -> str:
        """This command's usage line, translated."""
        return usage(self.command.name, self.messages)

    async def answer(self, text: str, *, markup: InlineKeyboardMarkup | None = None) -> None:
        """Answer the caller in the chat (and topic) of the command, as plain text."""
        await reply_to(self.services, self.message, text, markup=markup, html=False)

    async def answer_html(self, text: str, *, markup: InlineKeyboardMarkup | None = None) -> None:
        await reply_to(self.services, self.message, text, markup=markup, html=True)


async def reply_to(
    services: Services,
    message: Message,
    text: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    html: bool = True,
) -> None:
    """A reply through the door, in the message's topic when it is in one."""
    thread = message.message_thread_id if message.is_topic_message else None
    await services.door.post(
        message.chat_id,
        text,
        markup=markup,
        reply_to=message.message_id,
        thread_id=thread,
        html=html,
    )


async def pressed_in(services: Services, query: CallbackQuery) -> Messages:
    """The language of the chat where a button was pressed."""
    message = query.message
    return await services.messages_for(message.chat.id if message is not None else None)


async def edit_pressed(services: Services, query: CallbackQuery, html: str) -> None:
    """Replace the text of the message whose button was pressed (its buttons go with it)."""
    message = query.message
    if message is not None:
        await services.door.edit(message.chat.id, message.message_id, html)


async def append_to_pressed(
    services: Services, query: CallbackQuery, note: str, *, keep_buttons: bool = False
) -> None:
    """Add a line under the pressed message and drop its buttons, or keep them when what
    they do may be tried again (Telegram refused it this time)."""
    message = query.message
    if not isinstance(message, Message):
        return
    markup = message.reply_markup if keep_buttons else None
    services.staff.edited_by_hand(message.chat_id, message.message_id)
    try:
        await services.door.edit(
            message.chat_id, message.message_id, f"{message.text_html}\n\n{note}", markup=markup
        )
    except TelegramError:
        if not keep_buttons:
            await services.door.edit_markup(message.chat_id, message.message_id, None)


async def _not_admin(services: Services, message: Message, limiter: CommandLimiter) -> None:
    """The first try gets the group's "admins only" as a reply; tries within the next minutes
    are removed quietly, so a member cannot fill the customers' chat with refusals."""
    user_id = message.from_user.id if message.from_user else 0
    if limiter.first_not_admin(message.chat_id, user_id):
        policy = (await services.policies.policy_for(message.chat_id)).policy
        await reply_to(services, message, policy.templates.not_admin, html=False)
    else:
        services.door.delete(message.chat_id, message.message_id)


async def authorise(
    services: Services,
    bot: Bot,
    message: Message,
    command: Command,
    args: list[str],
    limiter: CommandLimiter,
) -> CommandCall | None:
    """The call if the caller may use the command here, else None (after a short refusal)."""
    call: CommandCall | None
    chat_type = message.chat.type
    if message.chat_id == services.staff.staff_chat and Where.STAFF_CHAT in command.where:
        call = await _staff_call(services, bot, message, command, args)
    elif chat_type == "private":
        call = await _private_call(services, bot, message, command, args)
    elif Where.GROUP not in command.where:
        return None
    elif Who.ANYONE in command.who or await sent_by_admin(bot, message):
        title = message.chat.title or ""
        messages = await services.messages_for(message.chat_id)
        call = CommandCall(
            services,
            bot,
            message,
            command,
            message.chat_id,
            title,
            _actor(message),
            messages,
            args,
        )
    else:
        await _not_admin(services, message, limiter)
        return None
    if call is not None:
        services.remember_actor(message)
    if call is not None and command.takes_member:
        call.target = await resolve_target(call)
    return call


async def _staff_call(
    services: Services, bot: Bot, message: Message, command: Command, args: list[str]
) -> CommandCall | None:
    user = message.from_user
    if Who.STAFF not in command.who:
        return None
    if user is None or not await is_staff_now(bot, services.staff.staff_chat, user.id):
        await reply_to(services, message, services.staff.messages.tp(NOT_STAFF), html=False)
        return None
    messages = services.staff.messages
    return CommandCall(services, bot, message, command, None, "", user.id, messages, args)


async def _private_call(
    services: Services, bot: Bot, message: Message, command: Command, args: list[str]
) -> CommandCall | None:
    if Where.PRIVATE not in command.where:
        return None
    user = message.from_user
    private = await services.messages_for_member(user.id) if user else services.catalogs.default
    if Who.ANYONE in command.who or not command.needs_group:
        actor = user.id if user else None
        return CommandCall(services, bot, message, command, None, "", actor, private, args)
    if not args or not _is_chat_id(args[0]):
        await reply_to(services, message, private.tp(NAME_THE_GROUP), html=False)
        return None
    chat_id = int(args[0])
    if user is None or not await is_admin_now(bot, chat_id, user.id):
        await reply_to(services, message, private.tp(REFUSAL), html=False)
        return None
    title = (await services.chat_info.get(bot, chat_id)).title
    messages = await services.messages_for(chat_id)
    return CommandCall(
        services, bot, message, command, chat_id, title, user.id, messages, args[1:]
    )


GROUPS_ASKED = 5
"""Groups asked whether someone is their admin when they ask for /help in private: the
groups qunbot saw them in come first, then the config's."""


async def group_administered(services: Services, bot: Bot, user_id: int) -> int | None:
    """A served group the user is an admin of right now, asking Telegram about a few likely
    ones; None when they administer none of them."""
    known = services.group_administered.get(user_id)
    if known is not None and services.now() - known[1] < ADMIN_ANSWER_KEPT:
        return known[0]
    config = services.loaded.config
    seen = await services.store.members.groups_of(user_id)
    configured = [group.chat_id for group in config.groups]
    configured += [chat for network in config.networks for chat in network.groups]
    likely = [g for g in dict.fromkeys([*seen, *configured]) if g != config.staff_chat]
    found = None
    for chat_id in [g for g in likely if config.serves(g)][:GROUPS_ASKED]:
        if await is_admin_now(bot, chat_id, user_id):
            found = chat_id
            break
    services.group_administered[user_id] = (found, services.now())
    return found


ADMIN_ANSWER_KEPT = 300.0
"""How long Telegram's answer about whom a user administers is reused for /help in private:
a stranger sending /help over and over costs a few questions, not a few per message."""


def _is_chat_id(word: str) -> bool:
    digits = word.removeprefix("-")
    return digits.isascii() and digits.isdigit()


def duration_words(args: list[str]) -> int:
    """How many of the first words are a duration: `1d`, `半小时` (one) or `10 分钟`, `2 hours`
    (a number and its unit: two); 0 when they are none."""
    if len(args) > 1 and _reads_as_duration(f"{args[0]} {args[1]}"):
        return 2
    return 1 if args and _reads_as_duration(args[0]) else 0


def _reads_as_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except DurationError:
        return False
    return True


async def resolve_target(call: CommandCall) -> Member | None:
    """The member a command is about: the replied-to sender, an @username seen before, or an
    id. A command with a duration may name the member after it (`/mute 半小时 @name`).

    Consumes the argument that named the member.
    """
    replied = replied_to(call.message)
    group = call.group
    sender_chat = replied.sender_chat if replied is not None else None
    if sender_chat is not None and sender_chat.id != group:
        return Member(group, sender_chat.id, sender_chat.title or str(sender_chat.id))
    if replied is not None and replied.from_user is not None and not replied.from_user.is_bot:
        return Member(group, replied.from_user.id, replied.from_user.full_name)
    for position in _member_positions(call):
        member = await _member_at(call, position)
        if member is not None:
            return member
    return None


def _member_positions(call: CommandCall) -> list[int]:
    """Where the member may be named: first, or right after a leading duration."""
    positions = [0]
    after_duration = duration_words(call.args) if call.command.takes_duration else 0
    if after_duration and after_duration < len(call.args):
        positions.append(after_duration)
    return positions


async def _member_at(call: CommandCall, position: int) -> Member | None:
    """The member the argument at `position` names, consumed; None if it names nobody."""
    if position >= len(call.args):
        return None
    word = call.args[position]
    user_id = await call.services.user_named(word) if word.startswith("@") else None
    if user_id is None and _is_chat_id(word) and not _starts_a_duration(call.args[position:]):
        user_id = int(word)  # a negative id names a channel: /ban -100... bans it as a sender
    if user_id is None or user_id in PSEUDO_USER_IDS:
        return None
    call.args.pop(position)
    return Member(call.group, user_id, word)


def _starts_a_duration(args: list[str]) -> bool:
    """Whether the first words are a number and its unit (`/mute 10 分钟` with no reply): the
    number is then how long, not whom."""
    return duration_words(args) == 2


async def target_from_notice(call: CommandCall) -> Member | None:
    """The member a replied-to notice of qunbot's is about (a call-out, a removal), when it
    names exactly one: an admin answers the notice, the member's own message being gone."""
    replied = replied_to(call.message)
    if replied is None or call.group is None or call.message.chat_id != call.group:
        return None
    if not is_own_message(call.bot, replied):
        return None
    targets = await call.services.store.audit.notice_targets(call.group, replied.message_id)
    if len(targets) != 1:
        return None
    return Member(call.group, targets[0], await _member_name(call.bot, call.group, targets[0]))


async def named(call: CommandCall, member: Member) -> Member:
    """A member named by their id or @username in the command, with the name Telegram knows
    them by, so the answer and the staff note say who it was (张三, not @zhangsan88)."""
    typed = member.name == str(member.user_id) or member.name.startswith("@")
    if not typed or call.group is None:
        return member
    name = await _member_name(call.bot, call.group, member.user_id)
    known = name != str(member.user_id)
    return Member(member.chat_id, member.user_id, name if known else member.name)


def unknown_username(call: CommandCall) -> str | None:
    """The @username a member command named that qunbot has not seen yet, if that was it."""
    for position in _member_positions(call):
        word = call.args[position] if position < len(call.args) else ""
        if word.startswith("@") and len(word) > 1:
            return word
    return None


async def _member_name(bot: Bot, chat_id: int, user_id: int) -> str:
    """A member's name as Telegram knows it now (their message is gone), else their id."""
    if user_id < 0:
        return str(user_id)
    try:
        return (await bot.get_chat_member(chat_id, user_id)).user.full_name
    except TelegramError:
        return str(user_id)


def is_own_message(bot: Bot, message: Message) -> bool:
    """Sent by qunbot itself (not by another bot, a channel or an anonymous admin, which
    Telegram also marks as bots)."""
    return message.from_user is not None and message.from_user.id == bot.id


def _actor(message: Message) -> int | None:
    if message.sender_chat is not None:
        return message.sender_chat.id
    return message.from_user.id if message.from_user else None

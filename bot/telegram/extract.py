"""Telegram `Message` -> `MessageFacts`: the one place that knows both worlds."""

from __future__ import annotations

from telegram import (
    Chat,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
)

from policies.facts import ForwardKind, MessageFacts

_FORWARD_KINDS: tuple[tuple[type, ForwardKind], ...] = (
    (MessageOriginChannel, ForwardKind.CHANNEL),
    (MessageOriginChat, ForwardKind.CHAT),
    (MessageOriginHiddenUser, ForwardKind.HIDDEN_USER),
    (MessageOriginUser, ForwardKind.USER),
)

_STORY_KINDS = {
    Chat.CHANNEL: ForwardKind.CHANNEL,
    Chat.GROUP: ForwardKind.CHAT,
    Chat.SUPERGROUP: ForwardKind.CHAT,
}


def display_name(first_name: str | None, last_name: str | None = None) -> str:
    return " ".join(part for part in (first_name, last_name) if part) or "?"


def facts_from_message(
    message: Message, *, is_edit: bool = False, linked_chat_id: int | None = None
) -> MessageFacts:
    """Everything the pure core needs to judge `message`, and nothing Telegram-specific."""
    user = message.from_user
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or ()
    forward_kind, forward_chat_id, forward_username = _forward(message)
    extra = _hidden_texts(message)
    if extra:
        text = "\n".join((text, *extra)) if text else "\n".join(extra)
    return MessageFacts(
        chat_id=message.chat_id,
        message_id=message.message_id,
        user_id=user.id if user else 0,
        date=(message.edit_date or message.date).timestamp(),
        text=text,
        user_name=display_name(user.first_name, user.last_name) if user else "",
        username=user.username if user else None,
        is_edit=is_edit,
        is_bot=bool(user and user.is_bot),
        link_urls=_link_urls(text, entities),
        mentions=_mentions(text, entities),
        button_urls=_button_urls(message.reply_markup),
        forward_kind=forward_kind,
        forward_chat_id=forward_chat_id,
        forward_chat_username=forward_username,
        via_bot=message.via_bot.username if message.via_bot else None,
        contact_phone=message.contact.phone_number if message.contact else None,
        quote_text=message.quote.text if message.quote else "",
        has_media=bool(message.effective_attachment),
        sender_chat_id=message.sender_chat.id if message.sender_chat else None,
        reply_to_message_id=message.reply_to_message.message_id
        if message.reply_to_message
        else None,
        linked_chat_id=linked_chat_id,
        sender_chat_name=_chat_name(message.sender_chat),
        thread_id=message.message_thread_id if message.is_topic_message else None,
        media_group_id=message.media_group_id,
    )


def _chat_name(chat: Chat | None) -> str:
    if chat is None:
        return ""
    return chat.title or (f"@{chat.username}" if chat.username else str(chat.id))


def _hidden_texts(message: Message) -> tuple[str, ...]:
    """Texts an ad can hide in besides the message text: a poll's question and options, a
    checklist's title and tasks, the title of the chat whose story was shared."""
    parts: list[str] = []
    if message.poll is not None:
        parts.append(message.poll.question)
        parts.extend(option.text for option in message.poll.options)
    if message.checklist is not None:
        parts.append(message.checklist.title)
        parts.extend(task.text for task in message.checklist.tasks)
    if message.story is not None and message.story.chat.title:
        parts.append(message.story.chat.title)
    return tuple(part for part in parts if part)


def _entity_text(text: str, entity: MessageEntity) -> str:
    """Entity offsets count UTF-16 code units, not Python characters."""
    encoded = text.encode("utf-16-le")
    start, end = entity.offset * 2, (entity.offset + entity.length) * 2
    return encoded[start:end].decode("utf-16-le", errors="replace")


def _link_urls(
    text: str, entities: tuple[MessageEntity, ...] | list[MessageEntity]
) -> tuple[str, ...]:
    urls = []
    for entity in entities:
        if entity.type == MessageEntity.TEXT_LINK and entity.url:
            urls.append(entity.url)
        elif entity.type == MessageEntity.URL:
            urls.append(_entity_text(text, entity))
    return tuple(urls)


def _mentions(
    text: str, entities: tuple[MessageEntity, ...] | list[MessageEntity]
) -> tuple[str, ...]:
    return tuple(
        _entity_text(text, entity).lstrip("@")
        for entity in entities
        if entity.type == MessageEntity.MENTION
    )


def _button_urls(markup: InlineKeyboardMarkup | None) -> tuple[str, ...]:
    if markup is None:
        return ()
    return tuple(button.url for row in markup.inline_keyboard for button in row if button.url)


def _forward(message: Message) -> tuple[ForwardKind | None, int | None, str | None]:
    """Where the message's content came from: a forward, or else a shared story or a reply to
    a message in another chat, which bring another chat's content in the same way."""
    origin = message.forward_origin
    if origin is None and message.external_reply is not None:
        origin = message.external_reply.origin
    if origin is None and message.story is not None:
        story_chat = message.story.chat
        kind = _STORY_KINDS.get(story_chat.type, ForwardKind.USER)
        return kind, story_chat.id, story_chat.username
    if origin is None:
        return None, None, None
    kind = next((k for cls, k in _FORWARD_KINDS if isinstance(origin, cls)), ForwardKind.USER)
    chat = getattr(origin, "chat", None) or getattr(origin, "sender_chat", None)
    return kind, chat.id if chat else None, chat.username if chat else None


def replied_to(message: Message) -> Message | None:
    """The message the member really replied to. In a forum topic Telegram sets
    `reply_to_message` to the topic's first message on every message; that is not a reply."""
    replied = message.reply_to_message
    if replied is None:
        return None
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return None
    return replied

"""Bot API method implementations of the fake Telegram, registered by method name."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bot.fake.markup import EntityParseError, detect_entities, parse_html, utf16_len
from bot.fake.models import (
    ADMIN_RIGHTS,
    CHAT_PERMISSIONS,
    JSON,
    PSEUDO_USER_IDS,
    ApiError,
    EventKind,
    FakeChat,
    InviteLink,
    Member,
    StoredMessage,
    Webhook,
    bad_request,
)
from bot.fake.world import World

Params = dict[str, Any]
Method = Callable[["World", Params], Any]
METHODS: dict[str, Method] = {}

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_TEXT = 200
MAX_DELETE_IDS = 100
MAX_TOPIC_NAME = 128
MAX_SECRET_TOKEN = 256
DELETE_WINDOW = 48 * 3600
SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]*")
WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
SEND_NOUNS = {"can_send_messages": "text messages", "can_send_photos": "photos"}
CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
COPIED_CONTENT = ("text", "entities", "caption", "caption_entities", "photo", "contact")
# Without use_independent_chat_permissions, these rights imply the listed ones.
IMPLIED_PERMISSIONS = {
    "can_send_other_messages": CHAT_PERMISSIONS[:8],
    "can_add_web_page_previews": CHAT_PERMISSIONS[:8],
    "can_send_polls": ("can_send_messages",),
}
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def api_method(name: str) -> Callable[[Method], Method]:
    """Registers an implementation under its Bot API method name."""

    def register(function: Method) -> Method:
        METHODS[name] = function
        return function

    return register


# --------------------------------------------------------------------------- helpers


def _require_right(tg: World, chat: FakeChat, right: str, reason: str) -> None:
    if not tg.bot_member(chat).has_right(right):
        raise bad_request(f"not enough rights to {reason}")


def _require_not_private(chat: FakeChat) -> None:
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")


def _require_send_right(tg: World, chat: FakeChat, right: str) -> None:
    if chat.type == "private":
        return
    bot = tg.bot_member(chat)
    if chat.type == "channel":
        if not bot.has_right("can_post_messages"):
            raise bad_request("need administrator rights in the channel chat")
        return
    if bot.is_admin:
        return
    source = bot.permissions if bot.status == "restricted" else chat.permissions
    if not source.get(right):
        raise bad_request(f"not enough rights to send {SEND_NOUNS[right]} to the chat")


def _formatted(tg: World, p: Params, text_key: str, entities_key: str) -> tuple[str, list[JSON]]:
    text, entities = _parsed(p, text_key, entities_key)
    for entity in entities:
        if entity["type"] == "text_mention" and entity["user"]["id"] in tg.users:
            entity["user"] = tg.users[entity["user"]["id"]].to_api()
    return text, [e for e in entities if e["type"] != "text_mention" or "is_bot" in e["user"]]


def _parsed(p: Params, text_key: str, entities_key: str) -> tuple[str, list[JSON]]:
    text = str(p.get(text_key, ""))
    mode = str(p.get("parse_mode", "")).lower()
    if mode == "html":
        try:
            text, parsed = parse_html(text)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from error
        taken = [(e["offset"], e["offset"] + e["length"]) for e in parsed]
        auto = [
            e
            for e in detect_entities(text)
            if not any(s < e["offset"] + e["length"] and e["offset"] < t for s, t in taken)
        ]
        return text, sorted(parsed + auto, key=lambda e: int(e["offset"]))
    if mode not in ("", "markdown", "markdownv2"):
        raise bad_request("unsupported parse_mode")
    if entities_key in p:
        return text, copy.deepcopy(list(p[entities_key]))
    return text, [] if mode else detect_entities(text)


def _inline_markup(p: Params) -> JSON | None:
    markup = p.get("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            if len(str(button.get("callback_data", "")).encode()) > 64:
                raise bad_request("BUTTON_DATA_INVALID")
    return copy.deepcopy(markup)


def _button_labels(markup: JSON | None) -> tuple[str, ...]:
    rows = (markup or {}).get("inline_keyboard", [])
    return tuple(str(button["text"]) for row in rows for button in row)


def _reply_target(tg: World, chat: FakeChat, p: Params) -> JSON | None:
    reply = p.get("reply_parameters")
    if not reply:
        return None
    target_chat = tg.resolve_chat(reply["chat_id"]) if "chat_id" in reply else chat
    message = target_chat.messages.get(reply["message_id"])
    if message is None or message.deleted:
        if reply.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return message.as_reply()


def _topic_of(chat: FakeChat, p: Params, reply: JSON | None) -> int | None:
    thread = p.get("message_thread_id")
    if thread is None and reply is not None and reply.get("is_topic_message"):
        return int(reply["message_thread_id"])
    if thread is not None and (not chat.is_forum or thread not in chat.topics):
        raise bad_request("message thread not found")
    return int(thread) if thread is not None else None


def _send(tg: World, chat: FakeChat, content: JSON, p: Params, *, detail: str = "") -> JSON:
    reply = _reply_target(tg, chat, p)
    thread = _topic_of(chat, p, reply)
    if thread is not None:
        replied = chat.messages[reply["message_id"]] if reply is not None else None
        content.update(tg.topic_fields(chat, thread, replied))
    elif reply is not None:
        content["reply_to_message"] = reply
    markup = _inline_markup(p)
    if markup is not None:
        content["reply_markup"] = markup
    message = tg.new_message(chat, tg.bot.to_api(), content)
    tg.log(
        EventKind.BOT_MESSAGE,
        chat.id,
        tg.bot.id,
        message.text,
        message_id=message.message_id,
        buttons=_button_labels(markup),
        detail=detail,
    )
    return copy.deepcopy(message.data)


def _message_in(chat: FakeChat, message_id: int, missing: str) -> StoredMessage:
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request(missing)
    return message


def _target_member(tg: World, chat: FakeChat, user_id: int) -> Member:
    tg.user_api(user_id)
    if user_id == tg.bot.id:
        raise bad_request("can't restrict self")
    member = tg.member_of(chat, user_id)
    if member.status == "creator":
        raise bad_request("can't remove chat owner")
    if member.status == "administrator" and not member.can_be_edited:
        raise bad_request("user is an administrator of the chat")
    return member


def _set_status(tg: World, chat: FakeChat, old: Member, new: Member) -> None:
    if new.user_id in PSEUDO_USER_IDS:
        # Accepted, but Telegram's pseudo-users are never members: nothing changes.
        return
    chat.members[new.user_id] = new
    change = tg.member_change(chat, tg.bot, old, tg.user_api(new.user_id))
    tg.queue("chat_member", change, deliver=tg.bot_member(chat).is_admin)


def _until_text(until: int) -> str:
    return "forever" if until == 0 else f"until {until}"


def _permissions(p: Params, key: str) -> dict[str, bool]:
    given = {name: bool(value) for name, value in p[key].items()}
    if not p.get("use_independent_chat_permissions"):
        for right, implied in IMPLIED_PERMISSIONS.items():
            if given.get(right):
                given.update(dict.fromkeys(implied, True))
    return {name: given.get(name, False) for name in CHAT_PERMISSIONS}


def _scope_key(p: Params) -> str:
    scope = p.get("scope") or {"type": "default"}
    return f"{json.dumps(scope, sort_keys=True)}|{p.get('language_code', '')}"


def _find_link(chat: FakeChat, url: str) -> InviteLink:
    link = chat.invite_links.get(url)
    if link is None:
        raise bad_request("INVITE_HASH_EXPIRED")
    return link


def _new_link(tg: World, chat: FakeChat, **fields: Any) -> InviteLink:
    link = InviteLink(tg.new_link_name(chat), tg.bot.id, **fields)
    chat.invite_links[link.invite_link] = link
    tg.log(
        EventKind.INVITE_LINK,
        chat.id,
        tg.bot.id,
        link.invite_link,
        detail=", ".join(f"{k}={v}" for k, v in fields.items() if v is not None),
    )
    return link


def _invite_chat(tg: World, p: Params) -> FakeChat:
    chat = tg.resolve_chat(p["chat_id"])
    _require_not_private(chat)
    _require_right(tg, chat, "can_invite_users", "manage chat invite link")
    return chat


def _deletable(tg: World, chat: FakeChat, message: StoredMessage) -> bool:
    # The window counts from the message's date; an edit does not move it.
    if tg.now() - int(message.data["date"]) > DELETE_WINDOW:
        return False
    if message.message_id in chat.topics:
        return False
    if chat.type == "private":
        return True
    bot, own = tg.bot_member(chat), message.sender_id == tg.bot.id
    if chat.type == "channel":
        return bot.has_right("can_delete_messages") or (own and bot.has_right("can_post_messages"))
    if chat.type == "group":
        return own or bot.is_admin
    return own or bot.has_right("can_delete_messages")


def _delete(tg: World, chat: FakeChat, message: StoredMessage) -> None:
    message.deleted = True
    tg.log(
        EventKind.DELETE,
        chat.id,
        tg.bot.id,
        message.text,
        target=message.sender_id,
        message_id=message.message_id,
    )


def _editable(tg: World, p: Params) -> tuple[FakeChat, StoredMessage]:
    if "chat_id" not in p or "message_id" not in p:
        raise bad_request("message identifier is not specified")
    chat = tg.resolve_chat(p["chat_id"])
    message = _message_in(chat, p["message_id"], "message to edit not found")
    if message.sender_id != tg.bot.id:
        raise bad_request("message can't be edited")
    return chat, message


def _apply_edit(tg: World, chat: FakeChat, message: StoredMessage, changes: JSON) -> JSON:
    before = copy.deepcopy(message.data)
    for key, value in changes.items():
        if value:
            message.data[key] = value
        else:
            message.data.pop(key, None)
    if message.data == before:
        raise bad_request(NOT_MODIFIED)
    message.data["edit_date"] = tg.now()
    markup = message.data.get("reply_markup")
    tg.log(
        EventKind.BOT_EDIT,
        chat.id,
        tg.bot.id,
        message.text,
        message_id=message.message_id,
        buttons=_button_labels(markup),
    )
    return copy.deepcopy(message.data)


def _pin_chat(tg: World, p: Params) -> FakeChat:
    chat = tg.resolve_chat(p["chat_id"])
    if chat.type == "private":
        return chat
    bot = tg.bot_member(chat)
    right = "can_edit_messages" if chat.type == "channel" else "can_pin_messages"
    allowed = bot.has_right(right) or (
        bot.status == "member" and chat.permissions.get("can_pin_messages", False)
    )
    if not allowed:
        raise bad_request("not enough rights to manage pinned messages in the chat")
    return chat


def _origin(source: FakeChat, message: StoredMessage) -> JSON:
    date = message.data["date"]
    if source.type == "channel":
        chat = source.to_api()
        return {"type": "channel", "chat": chat, "message_id": message.message_id, "date": date}
    if "sender_chat" in message.data:
        return {"type": "chat", "sender_chat": message.data["sender_chat"], "date": date}
    return {"type": "user", "sender_user": message.data["from"], "date": date}


# ------------------------------------------------------------------ bot and updates


@api_method("getMe")
def get_me(tg: World, p: Params) -> JSON:
    """Returns the bot's ``User`` with its capabilities."""
    return tg.bot.to_api() | {
        "can_join_groups": True,
        "can_read_all_group_messages": tg.can_read_all_group_messages,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("logOut")
@api_method("close")
def log_out(tg: World, p: Params) -> bool:
    """Nothing to release in the fake."""
    return True


@api_method("setWebhook")
def set_webhook(tg: World, p: Params) -> bool:
    """Sets the URL updates are POSTed to, with an optional secret token header.

    Telegram wants HTTPS on port 443, 80, 88 or 8443; the fake also accepts plain HTTP to a
    loopback address, because tests run the bot's webhook server without TLS.
    """
    url = str(p["url"])
    if not url:
        _remove_webhook(tg, p)
        return True
    _check_webhook_url(url)
    secret = p.get("secret_token")
    if secret is not None and len(secret) > MAX_SECRET_TOKEN:
        raise bad_request("secret token is too long")
    if secret is not None and not SECRET_TOKEN_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if p.get("drop_pending_updates"):
        tg.pending.clear()
    if "allowed_updates" in p:
        tg.allowed_updates = [str(kind) for kind in p["allowed_updates"]]
    tg.webhook = Webhook(url, secret or None, int(p.get("max_connections", 40)))
    tg.log(EventKind.WEBHOOK_SET, 0, tg.bot.id, url)
    tg.wake_listeners()
    return True


def _check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS | {"::1"}:
        return
    if parts.scheme != "https" or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if (parts.port or 443) not in WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


@api_method("deleteWebhook")
def delete_webhook(tg: World, p: Params) -> bool:
    """Returns to getUpdates mode; honours ``drop_pending_updates``."""
    _remove_webhook(tg, p)
    return True


def _remove_webhook(tg: World, p: Params) -> None:
    if p.get("drop_pending_updates"):
        tg.pending.clear()
    if tg.webhook is not None:
        tg.webhook = None
        tg.log(EventKind.WEBHOOK_DELETED, 0, tg.bot.id)


@api_method("getWebhookInfo")
def get_webhook_info(tg: World, p: Params) -> JSON:
    """Reports the webhook (or polling mode), pending updates and the last delivery error."""
    hook = tg.webhook
    info: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": sum(tg.allowed(u) for u in tg.pending),
    }
    if hook is None:
        return info
    info["max_connections"] = hook.max_connections
    if tg.allowed_updates:
        info["allowed_updates"] = list(tg.allowed_updates)
    if hook.last_error_date is not None:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message or ""
    return info


@api_method("getUpdates")
def get_updates(tg: World, p: Params) -> list[JSON]:
    """Confirms updates below ``offset`` and returns the next ones (no waiting here)."""
    if tg.webhook is not None:
        raise ApiError(409, WEBHOOK_CONFLICT)
    if "allowed_updates" in p:
        tg.allowed_updates = [str(kind) for kind in p["allowed_updates"]]
    offset = int(p.get("offset", 0))
    tg.confirm(offset)
    limit = min(max(int(p.get("limit", 100)), 1), 100)
    return copy.deepcopy(tg.deliverable(offset, tg.allowed_updates)[:limit])


# ------------------------------------------------------------------- chat queries


@api_method("getChat")
def get_chat(tg: World, p: Params) -> JSON:
    """Returns ``ChatFullInfo``."""
    chat = tg.resolve_chat(p["chat_id"])
    gifts = dict.fromkeys(
        ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"),
        chat.type == "private",
    )
    info: JSON = chat.to_api() | {
        "accent_color_id": abs(chat.id) % 7,
        "max_reaction_count": 11,
        "accepted_gift_types": gifts | {"gifts_from_channels": False},
    }
    if chat.is_group:
        info["permissions"] = dict(chat.permissions)
    primary = next((link for link in chat.invite_links.values() if link.is_primary), None)
    optional = {
        "description": chat.description,
        "linked_chat_id": chat.linked_chat_id,
        "invite_link": primary.invite_link if primary and not primary.is_revoked else None,
        "pinned_message": chat.messages[chat.pinned[-1]].data if chat.pinned else None,
    }
    info.update({k: v for k, v in optional.items() if v is not None})
    return info


@api_method("getChatMember")
def get_chat_member(tg: World, p: Params) -> JSON:
    """Returns the ``ChatMember`` subtype for the user's current status."""
    chat = tg.resolve_chat(p["chat_id"])
    user = tg.user_api(p["user_id"])
    return tg.member_of(chat, p["user_id"]).to_api(user)


@api_method("getChatAdministrators")
def get_chat_administrators(tg: World, p: Params) -> list[JSON]:
    """Creator first, then administrators (the bot included)."""
    chat = tg.resolve_chat(p["chat_id"])
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    admins = [tg.member_of(chat, uid) for uid in list(chat.members)]
    admins = sorted((m for m in admins if m.is_admin), key=lambda m: m.status != "creator")
    return [m.to_api(tg.user_api(m.user_id)) for m in admins]


@api_method("getChatMemberCount")
def get_chat_member_count(tg: World, p: Params) -> int:
    """Counts members present in the chat."""
    chat = tg.resolve_chat(p["chat_id"])
    if chat.type == "private":
        return 2
    return sum(tg.member_of(chat, uid).present for uid in list(chat.members))


# ----------------------------------------------------------------------- messages


@api_method("sendMessage")
def send_message(tg: World, p: Params) -> JSON:
    """Sends text; HTML is parsed into entities like Telegram does."""
    chat = tg.resolve_chat(p["chat_id"], for_sending=True)
    _require_send_right(tg, chat, "can_send_messages")
    text, entities = _formatted(tg, p, "text", "entities")
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    content: JSON = {"text": text}
    if entities:
        content["entities"] = entities
    return _send(tg, chat, content, p)


@api_method("sendPhoto")
def send_photo(tg: World, p: Params) -> JSON:
    """Sends a photo (uploaded bytes, file_id or URL) with an optional caption."""
    chat = tg.resolve_chat(p["chat_id"], for_sending=True)
    _require_send_right(tg, chat, "can_send_photos")
    caption, entities = _formatted(tg, p, "caption", "caption_entities")
    if utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    seed = f"bot{len(tg.calls)}"
    sizes = [
        {"file_id": f"{seed}-{w}", "file_unique_id": f"{seed}{w}", "width": w, "height": w}
        for w in (90, 320, 800)
    ]
    content: JSON = {"photo": sizes}
    if caption:
        content["caption"] = caption
    if entities:
        content["caption_entities"] = entities
    return _send(tg, chat, content, p, detail="photo")


@api_method("sendChatAction")
def send_chat_action(tg: World, p: Params) -> bool:
    """Accepts a known chat action where the bot could send a message."""
    chat = tg.resolve_chat(p["chat_id"], for_sending=True)
    _require_send_right(tg, chat, "can_send_messages")
    if p["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


@api_method("forwardMessage")
def forward_message(tg: World, p: Params) -> JSON:
    """Forwards a message, with ``forward_origin``."""
    chat = tg.resolve_chat(p["chat_id"], for_sending=True)
    source = tg.resolve_chat(p["from_chat_id"])
    message = _message_in(source, p["message_id"], "message to forward not found")
    _require_send_right(tg, chat, "can_send_messages")
    content = {k: copy.deepcopy(message.data[k]) for k in COPIED_CONTENT if k in message.data}
    content["forward_origin"] = _origin(source, message)
    return _send(tg, chat, content, p, detail=f"forwarded from {source.id}")


@api_method("copyMessage")
def copy_message(tg: World, p: Params) -> JSON:
    """Copies a message without a link to the original; returns ``MessageId``."""
    chat = tg.resolve_chat(p["chat_id"], for_sending=True)
    source = tg.resolve_chat(p["from_chat_id"])
    message = _message_in(source, p["message_id"], "message to copy not found")
    _require_send_right(tg, chat, "can_send_messages")
    content = {k: copy.deepcopy(message.data[k]) for k in COPIED_CONTENT if k in message.data}
    if "caption" in p and "photo" in content:
        content["caption"], content["caption_entities"] = _formatted(
            tg, p, "caption", "caption_entities"
        )
        if utf16_len(content["caption"]) > MAX_CAPTION:
            raise bad_request("message caption is too long")
    sent = _send(tg, chat, content, p, detail=f"copied from {source.id}")
    return {"message_id": sent["message_id"]}


@api_method("editMessageText")
def edit_message_text(tg: World, p: Params) -> JSON:
    """Edits the bot's text message; a missing ``reply_markup`` removes the keyboard."""
    chat, message = _editable(tg, p)
    if "text" not in message.data:
        raise bad_request("there is no text in the message to edit")
    text, entities = _formatted(tg, p, "text", "entities")
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    changes = {"text": text, "entities": entities, "reply_markup": _inline_markup(p)}
    return _apply_edit(tg, chat, message, changes)


@api_method("editMessageReplyMarkup")
def edit_message_reply_markup(tg: World, p: Params) -> JSON:
    """Replaces or removes the inline keyboard of the bot's message."""
    chat, message = _editable(tg, p)
    return _apply_edit(tg, chat, message, {"reply_markup": _inline_markup(p)})


@api_method("deleteMessage")
def delete_message(tg: World, p: Params) -> bool:
    """Deletes own messages, or others' with ``can_delete_messages``; 48 hours at most."""
    chat = tg.resolve_chat(p["chat_id"])
    message = _message_in(chat, p["message_id"], "message to delete not found")
    if not _deletable(tg, chat, message):
        raise bad_request("message can't be deleted")
    _delete(tg, chat, message)
    return True


@api_method("deleteMessages")
def delete_messages(tg: World, p: Params) -> bool:
    """Deletes 1-100 messages; missing ones are skipped."""
    chat = tg.resolve_chat(p["chat_id"])
    ids = list(p["message_ids"])
    if not ids:
        raise bad_request("message identifiers are not specified")
    if len(ids) > MAX_DELETE_IDS:
        raise bad_request("too many message identifiers specified")
    found = [chat.messages[i] for i in ids if i in chat.messages and not chat.messages[i].deleted]
    if any(not _deletable(tg, chat, message) for message in found):
        raise bad_request("message can't be deleted")
    for message in found:
        _delete(tg, chat, message)
    return True


# -------------------------------------------------------------------- moderation


@api_method("banChatMember")
def ban_chat_member(tg: World, p: Params) -> bool:
    """Bans until ``until_date`` (forever if under 30 s or over 366 days away)."""
    chat = tg.resolve_chat(p["chat_id"])
    _require_not_private(chat)
    _require_right(tg, chat, "can_restrict_members", "restrict/unrestrict chat member")
    user_id = p["user_id"]
    old = _target_member(tg, chat, user_id)
    until = tg.until(p.get("until_date")) if chat.type != "group" else 0
    # revoke_messages only hides the chat history from the banned user; others still see it.
    _set_status(tg, chat, old, Member(user_id, "kicked", until_date=until))
    detail = _until_text(until)
    tg.log(EventKind.BAN, chat.id, tg.bot.id, target=user_id, detail=detail)
    return True


@api_method("unbanChatMember")
def unban_chat_member(tg: World, p: Params) -> bool:
    """Lifts a ban; without ``only_if_banned`` a current member is removed (a kick)."""
    chat = tg.resolve_chat(p["chat_id"])
    if chat.type not in ("supergroup", "channel"):
        raise bad_request("method is available for supergroup and channel chats only")
    _require_right(tg, chat, "can_restrict_members", "restrict/unrestrict chat member")
    user_id = p["user_id"]
    tg.user_api(user_id)
    old = tg.member_of(chat, user_id)
    if old.status == "kicked":
        _set_status(tg, chat, old, Member(user_id, "left"))
        tg.log(EventKind.UNBAN, chat.id, tg.bot.id, target=user_id)
    elif old.present and not p.get("only_if_banned"):
        _target_member(tg, chat, user_id)
        _set_status(tg, chat, old, Member(user_id, "left"))
        tg.log(EventKind.KICK, chat.id, tg.bot.id, target=user_id)
    return True


@api_method("restrictChatMember")
def restrict_chat_member(tg: World, p: Params) -> bool:
    """Restricts a supergroup member; permissions at least the chat's defaults lift it."""
    chat = tg.resolve_chat(p["chat_id"])
    if chat.type != "supergroup":
        raise bad_request("method is available only for supergroups")
    _require_right(tg, chat, "can_restrict_members", "restrict/unrestrict chat member")
    user_id = p["user_id"]
    old = _target_member(tg, chat, user_id)
    permissions = _permissions(p, "permissions")
    until = tg.until(p.get("until_date"))
    denied = [k for k in CHAT_PERMISSIONS if chat.permissions.get(k) and not permissions[k]]
    if not denied:
        new = Member(user_id, "member" if old.present else "left")
        detail = "lifted"
    else:
        new = Member(user_id, "restricted", permissions=permissions, until_date=until)
        new.is_member = old.present
        what = "muted" if not permissions["can_send_messages"] else f"denied {', '.join(denied)}"
        detail = f"{what}; {_until_text(until)}"
    _set_status(tg, chat, old, new)
    tg.log(EventKind.RESTRICT, chat.id, tg.bot.id, target=user_id, detail=detail)
    return True


@api_method("promoteChatMember")
def promote_chat_member(tg: World, p: Params) -> bool:
    """Grants the bot's own rights to a member; no rights at all demotes."""
    chat = tg.resolve_chat(p["chat_id"])
    _require_not_private(chat)
    bot = tg.bot_member(chat)
    if not bot.has_right("can_promote_members"):
        raise bad_request("not enough rights")
    user_id = p["user_id"]
    tg.user_api(user_id)
    old = tg.member_of(chat, user_id)
    if old.status == "creator":
        raise bad_request("can't demote chat creator")
    if not old.present:
        raise bad_request("USER_NOT_PARTICIPANT")
    if old.is_admin and not old.can_be_edited:
        raise bad_request("not enough rights")
    granted = {right: True for right in ADMIN_RIGHTS if p.get(right)}
    if any(not bot.has_right(right) for right in granted):
        raise bad_request("RIGHT_FORBIDDEN")
    if granted:
        granted["can_manage_chat"] = True
        new = Member(user_id, "administrator", rights=granted, can_be_edited=True)
    else:
        new = Member(user_id, "member")
    _set_status(tg, chat, old, new)
    detail = ", ".join(sorted(granted)) or "demoted"
    tg.log(EventKind.PROMOTE, chat.id, tg.bot.id, target=user_id, detail=detail)
    return True


@api_method("setChatPermissions")
def set_chat_permissions(tg: World, p: Params) -> bool:
    """Sets the default permissions of a group."""
    chat = tg.resolve_chat(p["chat_id"])
    if not chat.is_group:
        raise bad_request("method is available only for groups and supergroups")
    _require_right(tg, chat, "can_restrict_members", "change chat permissions")
    chat.permissions = _permissions(p, "permissions")
    denied = [k for k, allowed in chat.permissions.items() if not allowed]
    detail = f"denied {', '.join(denied)}" if denied else "all allowed"
    tg.log(EventKind.PERMISSIONS, chat.id, tg.bot.id, detail=detail)
    return True


@api_method("leaveChat")
def leave_chat(tg: World, p: Params) -> bool:
    """The bot leaves; a ``my_chat_member`` update follows."""
    chat = tg.resolve_chat(p["chat_id"])
    _require_not_private(chat)
    old = tg.bot_member(chat)
    chat.members[tg.bot.id] = Member(tg.bot.id, "left")
    tg.log(EventKind.BOT_LEFT, chat.id, tg.bot.id)
    tg.queue("my_chat_member", tg.member_change(chat, tg.bot, old, tg.bot.to_api()))
    return True


@api_method("banChatSenderChat")
def ban_chat_sender_chat(tg: World, p: Params) -> bool:
    """Bans a channel from posting in a supergroup or channel until it is unbanned."""
    chat = _sender_chat_host(tg, p)
    sender_id = int(p["sender_chat_id"])
    chat.banned_sender_chats.add(sender_id)
    tg.log(EventKind.BAN_SENDER_CHAT, chat.id, tg.bot.id, target=sender_id)
    return True


@api_method("unbanChatSenderChat")
def unban_chat_sender_chat(tg: World, p: Params) -> bool:
    """Lets a banned channel post again."""
    chat = _sender_chat_host(tg, p)
    sender_id = int(p["sender_chat_id"])
    chat.banned_sender_chats.discard(sender_id)
    tg.log(EventKind.UNBAN_SENDER_CHAT, chat.id, tg.bot.id, target=sender_id)
    return True


def _sender_chat_host(tg: World, p: Params) -> FakeChat:
    chat = tg.resolve_chat(p["chat_id"])
    if chat.type not in ("supergroup", "channel"):
        raise bad_request("method is available for supergroup and channel chats only")
    _require_right(tg, chat, "can_restrict_members", "restrict/unrestrict chat member")
    return chat


@api_method("createForumTopic")
def create_forum_topic(tg: World, p: Params) -> JSON:
    """Opens a topic in a forum supergroup (needs ``can_manage_topics``)."""
    chat = tg.resolve_chat(p["chat_id"])
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    _require_right(tg, chat, "can_manage_topics", "create a topic")
    name = str(p["name"])
    if not 1 <= utf16_len(name) <= MAX_TOPIC_NAME:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
    root = tg.open_topic(chat, tg.bot, name, int(p.get("icon_color", 0x6FB9F0)))
    tg.queue("message", root.data, deliver=tg.bot_sees(chat, root.data))
    return chat.topics[root.message_id].to_api()


# ------------------------------------------------------------------ invite links


@api_method("createChatInviteLink")
def create_chat_invite_link(tg: World, p: Params) -> JSON:
    """Creates an additional invite link."""
    chat = _invite_chat(tg, p)
    limit = p.get("member_limit")
    if limit is not None and not 1 <= limit <= 99999:
        raise bad_request("member limit must be between 1 and 99999")
    if limit and p.get("creates_join_request"):
        raise bad_request("member limit can't be specified for links requiring approval")
    link = _new_link(
        tg,
        chat,
        name=p.get("name"),
        expire_date=p.get("expire_date"),
        member_limit=limit,
        creates_join_request=bool(p.get("creates_join_request")),
    )
    return link.to_api(tg.bot.to_api())


@api_method("editChatInviteLink")
def edit_chat_invite_link(tg: World, p: Params) -> JSON:
    """Changes a link's name, expiry, member limit or approval requirement."""
    chat = _invite_chat(tg, p)
    link = _find_link(chat, p["invite_link"])
    for field in ("name", "expire_date", "member_limit", "creates_join_request"):
        if field in p:
            setattr(link, field, p[field])
    return link.to_api(tg.user_api(link.creator_id))


@api_method("revokeChatInviteLink")
def revoke_chat_invite_link(tg: World, p: Params) -> JSON:
    """Revokes a link; revoking the primary link makes a new one."""
    chat = _invite_chat(tg, p)
    link = _find_link(chat, p["invite_link"])
    link.is_revoked = True
    tg.log(EventKind.REVOKE_LINK, chat.id, tg.bot.id, link.invite_link)
    if link.is_primary:
        _new_link(tg, chat, is_primary=True)
    return link.to_api(tg.user_api(link.creator_id))


@api_method("exportChatInviteLink")
def export_chat_invite_link(tg: World, p: Params) -> str:
    """Replaces the primary link and returns the new URL."""
    chat = _invite_chat(tg, p)
    for link in chat.invite_links.values():
        if link.is_primary and link.creator_id == tg.bot.id:
            link.is_revoked = True
    return _new_link(tg, chat, is_primary=True).invite_link


@api_method("approveChatJoinRequest")
def approve_chat_join_request(tg: World, p: Params) -> bool:
    """Admits a user who asked to join."""
    chat = _invite_chat(tg, p)
    user_id = p["user_id"]
    if chat.join_requests.pop(user_id, None) is None:
        raise bad_request("HIDE_REQUESTER_MISSING")
    user = tg.users[user_id]
    chat_member, _ = tg.admit(chat, user, link=None, actor=user)
    chat_member["chat_member"]["via_join_request"] = True
    tg.log(EventKind.APPROVE_JOIN, chat.id, tg.bot.id, target=user_id)
    return True


@api_method("declineChatJoinRequest")
def decline_chat_join_request(tg: World, p: Params) -> bool:
    """Turns down a join request."""
    chat = _invite_chat(tg, p)
    if chat.join_requests.pop(p["user_id"], None) is None:
        raise bad_request("HIDE_REQUESTER_MISSING")
    tg.log(EventKind.DECLINE_JOIN, chat.id, tg.bot.id, target=p["user_id"])
    return True


# ------------------------------------------------------------------------- pins


@api_method("pinChatMessage")
def pin_chat_message(tg: World, p: Params) -> bool:
    """Pins a message (needs ``can_pin_messages`` in groups)."""
    chat = _pin_chat(tg, p)
    message = _message_in(chat, p["message_id"], "message to pin not found")
    message.pinned = True
    chat.pinned = [m for m in chat.pinned if m != message.message_id] + [message.message_id]
    tg.log(EventKind.PIN, chat.id, tg.bot.id, message.text, message_id=message.message_id)
    return True


@api_method("unpinChatMessage")
def unpin_chat_message(tg: World, p: Params) -> bool:
    """Unpins one message, by default the most recent pin."""
    chat = _pin_chat(tg, p)
    message_id = p.get("message_id") or (chat.pinned[-1] if chat.pinned else None)
    if message_id is None:
        return True
    if message_id not in chat.pinned:
        raise bad_request("message to unpin not found")
    chat.pinned.remove(message_id)
    chat.messages[message_id].pinned = False
    tg.log(EventKind.UNPIN, chat.id, tg.bot.id, message_id=message_id)
    return True


@api_method("unpinAllChatMessages")
def unpin_all_chat_messages(tg: World, p: Params) -> bool:
    """Clears every pin."""
    chat = _pin_chat(tg, p)
    for message_id in chat.pinned:
        chat.messages[message_id].pinned = False
    chat.pinned = []
    tg.log(EventKind.UNPIN, chat.id, tg.bot.id, detail="all")
    return True


# ------------------------------------------------------------- buttons, commands


@api_method("answerCallbackQuery")
def answer_callback_query(tg: World, p: Params) -> bool:
    """Answers a button press once."""
    query = tg.callback_queries.get(p["callback_query_id"])
    if query is None or query.answer is not None:
        raise bad_request(QUERY_INVALID)
    if utf16_len(str(p.get("text", ""))) > MAX_CALLBACK_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = {k: v for k, v in p.items() if k != "callback_query_id"}
    tg.log(
        EventKind.CALLBACK_ANSWER,
        query.chat_id,
        tg.bot.id,
        str(p.get("text", "")),
        target=query.user_id,
        message_id=query.message_id,
        detail="alert" if p.get("show_alert") else "",
    )
    return True


@api_method("setMyCommands")
def set_my_commands(tg: World, p: Params) -> bool:
    """Stores up to 100 commands for a scope and language."""
    commands = list(p["commands"])
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    for command in commands:
        if not COMMAND_RE.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"]) <= 256:
            raise bad_request("command description must be 1-256 characters")
    tg.commands[_scope_key(p)] = [dict(c) for c in commands]
    return True


@api_method("getMyCommands")
def get_my_commands(tg: World, p: Params) -> list[JSON]:
    """Returns the commands stored for exactly this scope and language."""
    return [dict(c) for c in tg.commands.get(_scope_key(p), [])]


@api_method("deleteMyCommands")
def delete_my_commands(tg: World, p: Params) -> bool:
    """Forgets the commands of a scope and language."""
    tg.commands.pop(_scope_key(p), None)
    return True


@api_method("getMyDefaultAdministratorRights")
def get_my_default_administrator_rights(tg: World, p: Params) -> JSON:
    """Returns the rights suggested when the bot is added as administrator."""
    default = {"is_anonymous": False} | dict.fromkeys(ADMIN_RIGHTS, False)
    return dict(tg.default_admin_rights.get(bool(p.get("for_channels")), default))


@api_method("setMyDefaultAdministratorRights")
def set_my_default_administrator_rights(tg: World, p: Params) -> bool:
    """Stores the suggested rights for groups or channels."""
    rights = {"is_anonymous": False} | dict.fromkeys(ADMIN_RIGHTS, False) | p.get("rights", {})
    tg.default_admin_rights[bool(p.get("for_channels"))] = rights
    return True

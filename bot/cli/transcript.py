"""A readable transcript of what happened in the fake Telegram, in order, and a summary."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.cli.script import Script
from bot.fake import FakeTelegram
from bot.fake.models import EventKind, FakeEvent
from bot.fake.spec import Upload
from policies.durations import format_duration

ACTION_ICONS = {
    EventKind.DELETE: "✂️  deleted",
    EventKind.BAN: "⛔ banned",
    EventKind.UNBAN: "↩️  unbanned",
    EventKind.KICK: "👋 removed",
    EventKind.RESTRICT: "🔇 muted",
    EventKind.INVITE_LINK: "🔗 invite link",
    EventKind.PIN: "📌 pinned",
}
SUMMARY_KINDS = {
    EventKind.MEMBER_MESSAGE: "member messages",
    EventKind.BOT_MESSAGE: "bot messages",
    EventKind.DELETE: "messages deleted",
    EventKind.UNBAN: "unbans (kicks, undos)",
    EventKind.BAN: "bans, kicks included",
    EventKind.RESTRICT: "mutes",
    EventKind.INVITE_LINK: "invite links",
    EventKind.JOIN: "joins",
}
SKIPPED = {EventKind.STARTED}


@dataclass
class Transcript:
    fake: FakeTelegram
    script: Script
    out: TextIO | None = None
    printed: int = 0
    invites: dict[int, str] = field(default_factory=dict)
    out_dir: Path | None = None
    """Where photos the bot sends are saved."""
    photos_saved: int = 0

    def _write(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def note(self, text: str) -> None:
        self.flush()
        self._write(f"\n── {text}")

    def clock_line(self, moment: float) -> None:
        """The simulated time, when the player jumps ahead to a scheduled post."""
        self.flush()
        zone = self.script.start.tzinfo if self.script.start else None
        self._write(f"   🕗 {dt.datetime.fromtimestamp(moment, zone):%a %m-%d %H:%M}")

    def flush(self) -> None:
        """Print every event that happened since the last flush."""
        events = self.fake.events[self.printed :]
        self.printed += len(events)
        for event in events:
            line = self.render(event)
            if line:
                self._write(line)

    def chat_label(self, chat_id: int) -> str:
        if chat_id == self.script.group_id:
            return "group"
        if self.script.staff is not None and chat_id == self.script.staff.id:
            return "staff"
        if self.script.sister is not None and chat_id == self.script.sister.id:
            return "sister group"
        if chat_id > 0:
            return f"private {self.name(chat_id)}"
        return str(chat_id)

    def name(self, user_id: int | None) -> str:
        if user_id is None:
            return "?"
        if user_id == self.fake.bot.id:
            return "🤖 qunbot"
        user = self.fake.users.get(user_id)
        return user.first_name if user else str(user_id)

    def render(self, event: FakeEvent) -> str | None:
        if event.kind in SKIPPED:
            return None
        where = f"[{self.chat_label(event.chat_id)}]"
        if event.kind in {EventKind.MEMBER_MESSAGE, EventKind.BOT_MESSAGE}:
            return self._message_line(where, event)
        if event.kind is EventKind.MEMBER_EDIT:
            return f"{where} {self.name(event.actor)} ✏️  edited #{event.message_id}: {event.text}"
        if event.kind is EventKind.JOIN:
            return f"{where} ➕ {self.name(event.actor)} joined"
        if event.kind is EventKind.LEAVE:
            return f"{where} ➖ {self.name(event.actor)} left"
        if event.kind is EventKind.CALLBACK_ANSWER:
            return self._answer_line(where, event)
        if event.kind is EventKind.BUTTON_PRESS:
            return f"{where} {self.name(event.actor)} pressed [{event.text}]"
        if event.kind is EventKind.BOT_EDIT:
            return f"{where} 🤖 qunbot edited #{event.message_id}: {_one_line(event.text)}"
        if event.kind in {EventKind.PIN, EventKind.UNPIN}:
            what = "📌 pinned" if event.kind is EventKind.PIN else "📍 unpinned"
            return f"{where}    {what} #{event.message_id}"
        if event.kind is EventKind.INVITE_LINK:
            return f"{where}    🔗 invite link {event.text} ({event.detail})"
        if event.kind in ACTION_ICONS:
            return self._action_line(where, event)
        return f"{where} {event.kind.value} {event.detail}".rstrip()

    def _answer_line(self, where: str, event: FakeEvent) -> str | None:
        """The bot's answer to a pressed button (a toast, or an alert), if it said anything."""
        if not event.text:
            return None
        alert = " (alert)" if event.detail == "alert" else ""
        return f"{where} 🤖 qunbot ↪ {self.name(event.target)}{alert}: {_one_line(event.text)}"

    def _message_line(self, where: str, event: FakeEvent) -> str:
        buttons = f"  [{'] ['.join(event.buttons)}]" if event.buttons else ""
        text = _one_line(event.text)
        if event.kind is EventKind.BOT_MESSAGE:
            self._remember_invite(event)
            if event.detail == "photo":
                return self._photo_lines(where, event)
        return f"{where} {self.name(event.actor)} #{event.message_id}: {text}{buttons}"

    def _photo_lines(self, where: str, event: FakeEvent) -> str:
        """A photo the bot sent: saved to the output directory, its caption kept in lines."""
        uploads = [call.params.get("photo") for call in self.fake.calls_to("sendPhoto") if call.ok]
        upload = uploads[self.photos_saved] if self.photos_saved < len(uploads) else None
        self.photos_saved += 1
        saved = "a photo"
        if isinstance(upload, Upload) and self.out_dir is not None:
            label = self.chat_label(event.chat_id).replace(" ", "-")
            path = self.out_dir / f"{label}-{event.message_id}.png"
            path.write_bytes(upload.content)
            saved = f"photo saved to {path}"
        caption = "".join(f"\n      {line}" for line in event.text.splitlines())
        return f"{where} {self.name(event.actor)} #{event.message_id}: 🖼  {saved}{caption}"

    def _action_line(self, where: str, event: FakeEvent) -> str:
        what = ACTION_ICONS[event.kind]
        if event.kind is EventKind.DELETE:
            return f"{where}    {what} #{event.message_id} of {self.name(event.target)}"
        return f"{where}    {what} {self.name(event.target)}{self._until(event)}"

    def _until(self, event: FakeEvent) -> str:
        """`until 1795486992` as a duration from the event, which is what a reader wants."""
        words = event.detail.split()
        if len(words) == 2 and words[0] == "until" and words[1].isdigit():
            return f" for {format_duration(max(0, int(words[1]) - round(event.time)))}"
        return f" ({event.detail})" if event.detail else ""

    def _remember_invite(self, event: FakeEvent) -> None:
        if event.chat_id > 0 and "http" in event.text:
            for word in event.text.split():
                if word.startswith("https://t.me/+") or "joinchat" in word:
                    self.invites[event.chat_id] = word

    def last_invite_for(self, user_id: int) -> str:
        self.flush()
        if user_id not in self.invites:
            raise LookupError(f"the bot has sent {self.name(user_id)} no invite link")
        return self.invites[user_id]

    def counts(self) -> Counter[EventKind]:
        return Counter(event.kind for event in self.fake.events)

    def print_summary(self) -> None:
        counts = self.counts()
        self._write("\n══ summary")
        for kind, label in SUMMARY_KINDS.items():
            self._write(f"   {label:<18} {counts.get(kind, 0)}")
        calls = Counter(call.method for call in self.fake.calls if call.method != "getUpdates")
        listed = ", ".join(f"{method} {count}" for method, count in calls.most_common())
        self._write(f"   Bot API calls      {listed}")


def _one_line(text: str) -> str:
    return " ⏎ ".join(line for line in text.splitlines() if line.strip())

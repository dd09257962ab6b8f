"""The simulator's script format: a group, its people, and the steps they take."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator

from bot.fake import FakeTelegram
from policies.schema import StrictModel
from policies.yamlsource import parse_yaml, validate


class ScriptUser(StrictModel):
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    role: Literal["member", "admin", "owner", "outsider"] = "member"


class ScriptChat(StrictModel):
    id: int
    title: str
    type: Literal["group", "supergroup", "channel"] = "supergroup"
    username: str | None = None


STEP_KINDS = {
    "claim",
    "note",
    "join",
    "say",
    "edit",
    "press",
    "start",
    "rejoin",
    "advance",
    "wait",
    "open_ticket",
    "reply",
}


class Script(StrictModel):
    """A scripted group. Each step is a one-key mapping such as `{say: {as: bob, text: hi}}`."""

    title: str = "qunbot simulation"
    start: dt.datetime | None = Field(
        None, description="Simulated time at the start, with its UTC offset; now by default"
    )
    bot_username: str = "qunbot_demo_bot"
    language: Literal["en", "zh"] = Field(
        "en", description="The config's language: the staff chat's and the default groups'"
    )
    group: ScriptChat
    staff: ScriptChat | None = None
    channels: dict[str, ScriptChat] = Field(default_factory=dict)
    group_policy: str = "default"
    policies: dict[str, str] = Field(
        default_factory=dict, description="Policy files written for this run, by name"
    )
    sister: ScriptChat | None = Field(
        None, description="A second group of the shop, in one network with the first"
    )
    users: dict[str, ScriptUser]
    steps: list[dict[str, Any]]

    @field_validator("start")
    @classmethod
    def _with_offset(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the UTC offset, like 2026-05-11T09:00:00+08:00")
        return value

    @property
    def group_id(self) -> int:
        return self.group.id

    @property
    def staff_id(self) -> int | None:
        return self.staff.id if self.staff else None

    def user_id(self, key: str) -> int:
        if key not in self.users:
            raise KeyError(f"the script has no user {key!r}")
        return self.users[key].id

    def chat_id(self, where: str, user_id: int) -> int:
        if where == "private":
            return user_id
        if where == "staff" and self.staff is not None:
            return self.staff.id
        if where == "sister" and self.sister is not None:
            return self.sister.id
        return self.group.id

    def channel_origin(self, key: str) -> dict[str, Any]:
        channel = self.channels[key]
        chat = {"id": channel.id, "type": "channel", "title": channel.title}
        if channel.username:
            chat["username"] = channel.username
        return {"type": "channel", "chat": chat, "message_id": 1, "date": 0}

    def build_world(self, fake: FakeTelegram) -> None:
        """Create the chats, people and rights the script starts from."""
        fake.add_chat(self.group.id, self.group.type, self.group.title, self.group.username)
        fake.bot_is_admin(self.group.id)
        for channel in self.channels.values():
            fake.add_chat(channel.id, "channel", channel.title, channel.username)
        if self.staff is not None:
            fake.add_chat(self.staff.id, self.staff.type, self.staff.title)
            fake.bot_is_admin(self.staff.id)
        if self.sister is not None:
            fake.add_chat(self.sister.id, self.sister.type, self.sister.title)
            fake.bot_is_admin(self.sister.id)
        for user in self.users.values():
            fake.add_user(user.id, user.first_name, user.username, last_name=user.last_name)
            self._place(fake, user)
            if self.sister is not None:
                status = "creator" if user.role == "owner" else "member"
                fake.add_member(self.sister.id, user.id, status=status)

    def _place(self, fake: FakeTelegram, user: ScriptUser) -> None:
        if user.role == "outsider":
            return
        if user.role == "owner":
            fake.add_member(self.group.id, user.id, status="creator")
        else:
            fake.add_member(self.group.id, user.id)
        if user.role == "admin":
            fake.make_admin(self.group.id, user.id)
        if self.staff is not None and user.role in {"admin", "owner"}:
            fake.add_member(self.staff.id, user.id)


def load_script(text: str, file: str) -> Script:
    script = validate(Script, parse_yaml(text, file))
    for index, step in enumerate(script.steps):
        if len(step) != 1 or next(iter(step)) not in STEP_KINDS:
            kinds = ", ".join(sorted(STEP_KINDS))
            raise ValueError(f"{file}: step {index + 1} must be one of: {kinds}; got {step!r}")
    return script

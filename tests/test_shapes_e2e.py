"""`qunbot run` as a real process against the HTTP fake, with the update shapes Telegram really
sends: channel identities, forum topics and albums."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.fake import FakeTelegram, FakeTelegramServer
from bot.fake.shapes import Scene, album, build_scene, channel_post_in_group, topic_message
from policies.facts import PSEUDO_USER_IDS
from tests.harness import STAFF
from tests.test_crash_safety import WallClock, start_bot, until

AD = "加我微信 vx：abc12345 领取内部优惠券"
TOPIC = 5
"""The topic the Done-when names: its root is message 5 of the forum."""


def write_config(workdir: Path, s: Scene) -> Path:
    """The shop's group in hard mode, its forum in soft mode (where a shared ladder would
    show: a second channel's first ad would climb to a ban)."""
    policies = workdir / "policies"
    policies.mkdir()
    for mode in ("hard", "soft"):
        (policies / f"{mode}.yaml").write_text(
            f"extends: default\nmoderation:\n  mode: {mode}\n  callout_interval: 1s\n",
            encoding="utf-8",
        )
    config = workdir / "config.yaml"
    config.write_text(
        "database: ./qunbot.db\npolicies_dir: ./policies\ndefault_policy: default\n"
        f"groups: [{{chat_id: {s.group}, policy: hard}}, {{chat_id: {s.forum}, policy: soft}}]\n"
        f"staff_chat: {STAFF}\n",
        encoding="utf-8",
    )
    return config


def world() -> tuple[FakeTelegram, Scene]:
    tg = FakeTelegram(clock=WallClock().now)
    scene = build_scene(tg)
    tg.add_chat(STAFF, "supergroup", "Staff")
    tg.bot_is_admin(STAFF)
    while int(tg.create_topic(scene.forum, scene.admin, "Topic")["message"]["message_id"]) < TOPIC:
        pass
    tg.pending.clear()
    return tg, scene


def calls_in(tg: FakeTelegram, method: str, chat_id: int) -> list[dict[str, object]]:
    return [c.params for c in tg.calls_to(method) if c.params.get("chat_id") == chat_id]


def touched(tg: FakeTelegram, chat_id: int) -> list[str]:
    """Calls that removed, restricted or deleted anything in the chat."""
    methods = ("banChatMember", "banChatSenderChat", "restrictChatMember")
    removals = [m for m in methods if calls_in(tg, m, chat_id)]
    deletes = ("deleteMessage", "deleteMessages")
    return removals + [m for m in deletes if calls_in(tg, m, chat_id)]


async def test_real_shapes_through_a_running_bot(tmp_path: Path) -> None:
    tg, s = world()
    config, log = write_config(tmp_path, s), tmp_path / "bot.log"
    async with FakeTelegramServer(tg) as server:
        bot = start_bot(config, server, log)
        try:
            await until(lambda: tg.pollers_waiting > 0, "the first poll", log)

            for reporter in (s.member, s.spammer, s.owner):
                topic_message(tg, s.forum, reporter, TOPIC, "/report")
            await until(
                lambda: len(calls_in(tg, "sendMessage", s.forum)) == 3, "three answers", log
            )
            assert touched(tg, s.forum) == []
            assert not tg.is_deleted(s.forum, TOPIC)
            answers = calls_in(tg, "sendMessage", s.forum)
            assert {a["message_thread_id"] for a in answers} == {TOPIC}

            (ad,) = channel_post_in_group(tg, s.group, s.foreign_channel, s.spammer, AD)
            await until(lambda: bool(tg.calls_to("banChatSenderChat")), "the channel ban", log)
            (ban,) = tg.calls_to("banChatSenderChat")
            assert ban.params == {"chat_id": s.group, "sender_chat_id": s.foreign_channel}
            await until(lambda: tg.is_deleted(s.group, ad["message"]["message_id"]), "delete", log)

            items = album(tg, s.group, s.spammer, AD, size=3)
            ids = [int(u["message"]["message_id"]) for u in items]
            await until(lambda: all(tg.is_deleted(s.group, i) for i in ids), "the album", log)
            await until(lambda: tg.status_of(s.group, s.spammer) == "kicked", "the ban", log)

            for channel_id in (s.foreign_channel, s.second_foreign_channel):
                channel_post_in_group(tg, s.forum, channel_id, s.spammer, AD)
            await until(lambda: len(tg.bot_messages(s.forum)) >= 5, "two call-outs", log)
            assert calls_in(tg, "banChatSenderChat", s.forum) == []

            topic_message(tg, s.forum, s.member, TOPIC, AD)
            await until(lambda: len(tg.bot_messages(s.forum)) >= 6, "the topic call-out", log)
            callout = calls_in(tg, "sendMessage", s.forum)[-1]
            assert callout["message_thread_id"] == TOPIC
            assert not tg.is_deleted(s.forum, TOPIC)

            bans = tg.calls_to("banChatMember")
            assert not [c for c in bans if c.params["user_id"] in PSEUDO_USER_IDS]
            await until(lambda: tg.pollers_waiting > 0 and not tg.pending, "a quiet bot", log)
            await asyncio.sleep(0.3)
        finally:
            bot.send_signal(signal.SIGKILL)
            bot.wait(10)
    callouts = "\n".join(m.text for m in tg.bot_messages(s.forum))
    assert "Deals Daily" in callouts and "More Deals" in callouts

"""The group's language decides what qunbot says: the policy's `language`, `/lang`, or else the
config's; the staff chat speaks the config's; menus are published per language. A Chinese group's
whole flow reads without an English phrase."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.config import loaded_from
from bot.fake import FakeTelegram
from bot.fake.models import EventKind
from bot.features.commands import COMMANDS, Who
from policies.yamlsource import Located
from tests.english import english_phrases
from tests.harness import ADMIN, GROUP, OWNER, STAFF, Harness, TestClock, make_config

MONDAY_10AM = dt.datetime(2026, 5, 11, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
AD = "加我微信 vx：abc12345 领取内部优惠券，私聊我"
CHINESE = re.compile("[\u4e00-\u9fff]")
SAID_BY_THE_BOT = {EventKind.BOT_MESSAGE, EventKind.BOT_EDIT, EventKind.CALLBACK_ANSWER}


async def started(tmp_path: Path, policy: str, language: str = "en") -> Harness:
    loaded = make_config(tmp_path, policy=policy, language=language)
    return await Harness.start(loaded, clock=TestClock(MONDAY_10AM))


def said_by_the_bot(fake: FakeTelegram, chat_id: int | None = None) -> list[str]:
    """Every text the bot sent, edited or answered, with its buttons."""
    return [
        text
        for event in fake.events
        if event.kind in SAID_BY_THE_BOT and (chat_id is None or event.chat_id == chat_id)
        for text in (event.text, *event.buttons)
        if text
    ]


async def test_lang_switches_the_group_and_only_admins_may(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: default\n")
    try:
        await harness.say(harness.member("bob"), "/lang zh")
        assert harness.texts_in(GROUP)[-1] == "Only admins of this group can use this command."
        await harness.say(ADMIN, "/lang zh")
        assert harness.texts_in(GROUP)[-1] == "好的，我在本群改说中文了。"
        await harness.say(ADMIN, "/mode soft")
        assert harness.texts_in(GROUP)[-1] == "模式已切换为「提醒」。"
        await harness.say(ADMIN, "/lang fr")
        assert harness.texts_in(GROUP)[-1] == "用法：/lang 中文|英文"
        await harness.say(ADMIN, "/lang en")
        assert harness.texts_in(GROUP)[-1] == "I speak English in this group now."
        await harness.say(ADMIN, "/mode hard")
        assert harness.texts_in(GROUP)[-1] == "Mode is now hard."
    finally:
        await harness.stop()


async def test_the_policy_language_wins_and_the_staff_chat_speaks_the_configs(
    tmp_path: Path,
) -> None:
    harness = await started(tmp_path, "extends: shop-zh\nmoderation: {mode: neutral}\n")
    try:
        await harness.say(harness.member("dave"), AD)
        group, staff = harness.texts_in(GROUP), harness.texts_in(STAFF)
        assert "微信联系方式" in group[-1]
        assert "6h" in staff[-1] and "WeChat id offered" in staff[-1], "the config's language"
        assert "↩️ Undo #1 Dave" in said_by_the_bot(harness.fake, STAFF)
        assert all(english_phrases(text) == [] for text in said_by_the_bot(harness.fake, GROUP))
    finally:
        await harness.stop()


async def test_without_a_policy_language_the_config_decides(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: default\n", language="zh")
    try:
        await harness.say(ADMIN, "/mode soft")
        assert harness.texts_in(GROUP)[-1] == "模式已切换为「提醒」。"
    finally:
        await harness.stop()


async def test_a_member_hears_the_language_of_the_group_they_came_from(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: shop-zh\nmoderation: {mode: neutral}\n")
    try:
        dave = harness.member("dave")
        await harness.say(dave, AD)
        harness.clock.advance(7 * 3600)
        harness.fake.start_private(dave, payload=None)
        await harness.feed(harness.fake.private_message(dave, "/start"))
        (apology,) = [text for text in harness.texts_in(dave) if "https://" in text]
        assert "入群链接" in apology and english_phrases(apology) == []
    finally:
        await harness.stop()


async def test_command_menus_are_published_in_each_language(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: default\n", language="zh")
    try:
        menus = {
            (call.params.get("language_code"), call.params["scope"]["type"]): {
                entry["command"]: entry["description"] for entry in call.params["commands"]
            }
            for call in harness.fake.calls_to("setMyCommands")
        }
        admins = {c.name for c in COMMANDS if c.in_menu and (Who.ADMIN in c.who or c.for_members)}
        assert set(menus[("zh", "all_chat_administrators")]) == admins
        assert "lang" in admins
        assert menus[("zh", "default")]["help"] == "您可以使用的命令"
        assert menus[("en", "default")]["help"] == "the commands you can use"
        assert menus[(None, "default")] == menus[("zh", "default")], "the config's language"
    finally:
        await harness.stop()


async def test_a_chinese_group_flow_says_nothing_in_english(tmp_path: Path) -> None:
    """Admin commands, refusals, usage lines, /help, the ladder, a ticket and the staff chat,
    in a Chinese group with a Chinese config: no English phrase anywhere the bot writes."""
    policy = "extends: shop-zh\nlanguage: zh\nmoderation: {mode: neutral}\n"
    harness = await started(tmp_path, policy, language="zh")
    try:
        bob, dave = harness.member("bob"), harness.member("dave")
        notice_about_dave = 0
        await harness.say(dave, AD)
        notice_about_dave = harness.fake.bot_messages(GROUP)[-1].message_id
        for text in (
            "/help",
            "/mode",
            "/mode soft",
            "/ladder",
            "/ladder mute 1d, mute 7d, hard",
            "/policy",
            "/status",
            "/set moderation.reinvite_after 12h",
            "/dryrun",
            "/why 999",
            "/stats 7d",
            "/stats week",
            "/inactive 30d",
            "/tickets",
            "/warn",
            f"/warn 请勿刷屏 {bob}",
            f"/mute 1d {bob}",
            f"/unmute {bob}",
            f"/pardon {bob}",
            f"/trust {bob}",
            f"/untrust {bob}",
            "/report",
        ):
            harness.clock.advance(6)  # within the per-user command budget
            await harness.say(ADMIN, text)
        await harness.say(ADMIN, "/why", reply_to=notice_about_dave)
        await harness.say(bob, "/mode hard")
        await harness.say(bob, "收到的饼干全碎了，客服也不回消息！！！")
        await harness.say(OWNER, "/help")
        for chat_id in (GROUP, STAFF, bob, dave):
            for text in said_by_the_bot(harness.fake, chat_id):
                assert english_phrases(text) == [], text
        answers = [m for m in harness.fake.bot_messages(GROUP) if m.message_id > notice_about_dave]
        assert len(answers) >= 25, "every command was answered"
    finally:
        await harness.stop()


async def test_the_staff_hear_about_skipped_posts_in_their_language(tmp_path: Path) -> None:
    """Planned posts over the promotion cap, named and explained in Chinese in the staff chat."""
    policy = """\
extends: shop-zh
rhythm:
  campaigns:
    - {id: weekend, name: 周末秒杀, starts_at: "2026-05-16 20:00", duration: 2h}
  schedules:
    - {id: deal, at: "12:00", days: fri, promotional: true, text: "周五特惠"}
"""
    harness = await started(tmp_path, policy, language="zh")
    try:
        await harness.settle()
        (warning,) = [t for t in harness.texts_in(STAFF) if "以下计划发布的消息不会发出" in t]
        assert "05-16 20:00 活动「weekend」（开始）：超过促销上限" in warning
        assert english_phrases(warning) == []
    finally:
        await harness.stop()


async def test_the_staff_hear_of_settings_changed_in_their_language(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n", language="zh")
    try:
        await harness.say(ADMIN, "/set moderation.reinvite_after 30分钟")
        harness.clock.advance(120)
        await harness.say(ADMIN, "/dryrun on")
        await harness.services.staff.flush(STAFF)
        notes = [text for text in harness.texts_in(STAFF) if text.startswith("⚙️")]
        assert len(notes) == 2, harness.texts_in(STAFF)
        assert "重新邀请等待时间（moderation.reinvite_after） 改为 30分钟（" in notes[0], notes
        assert "开启演练模式" in notes[1], notes
        assert all(english_phrases(note) == [] for note in notes), notes
    finally:
        await harness.stop()


async def test_a_mode_and_ladder_typed_in_chinese_are_stored_as_the_schema_names_them(
    tmp_path: Path,
) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n", language="zh")
    try:
        await harness.say(ADMIN, "/set moderation.mode 提醒")
        harness.clock.advance(120)
        await harness.say(ADMIN, "/ladder 禁言 1天 → 踢出、永久禁言")
        overrides, _ = await harness.services.policies.settings(GROUP)
        assert overrides["moderation"] == {
            "mode": "soft",
            "ladder": ["mute 1d", "neutral", "mute forever"],
        }
        await harness.services.staff.flush(STAFF)
        notes = [text for text in harness.texts_in(STAFF) if text.startswith("⚙️")]
        assert "模式（moderation.mode） 改为 提醒" in notes[0], notes
        assert "处罚阶梯（moderation.ladder） 改为 禁言 1 天 → 踢出 → 永久禁言" in notes[1], notes
        harness.clock.advance(120)
        await harness.say(ADMIN, "/lang en")
        harness.clock.advance(120)
        await harness.say(ADMIN, "/policy")
        shown = harness.fake.bot_messages(GROUP)[-1].text
        assert "moderation.mode = soft" in shown and "提醒" not in shown, shown
    finally:
        await harness.stop()


async def test_the_staff_hear_of_every_manual_action_in_their_language(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n", language="zh")
    try:
        bob = harness.member("bob")
        for command in ("/mute", "/unmute", "/kick", "/ban", "/unban", "/trust", "/untrust"):
            harness.clock.advance(120)
            await harness.say(ADMIN, f"{command} {bob}" + (" 永久" if command == "/mute" else ""))
        await harness.services.staff.flush(STAFF)
        notes = [text for text in harness.texts_in(STAFF) if text.startswith("👮")]
        assert len(notes) == 7, harness.texts_in(STAFF)
        for note, action in zip(
            notes,
            ("永久禁言", "解除禁言", "踢出", "封禁", "解除封禁", "加入信任名单", "移出信任名单"),
            strict=True,
        ):
            assert f"执行{action}" in note and english_phrases(note) == [], note
    finally:
        await harness.stop()


async def test_a_chinese_ticket_card_names_each_reason_in_chinese(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n", language="zh")
    try:
        await harness.say(harness.member("bob"), "收到的东西是坏的，什么破店，退钱！")
        await harness.services.staff.flush(STAFF)
        (card,) = [text for text in harness.texts_in(STAFF) if text.startswith("🎫")]
        reason = card.split("原因：")[1]
        assert "退款或退货：退钱" in reason and "读起来像投诉" in reason, card
        assert "投诉：退钱" not in reason, card
    finally:
        await harness.stop()


async def test_a_member_refused_in_private_is_not_told_of_this_group(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n", language="zh")
    try:
        bob = harness.member("bob")
        harness.fake.start_private(bob)
        await harness.feed(harness.fake.private_message(bob, f"/mute {GROUP} {ADMIN} 10分钟"))
        assert harness.texts_in(bob)[-1] == "只有该群的管理员可以这样操作。"
    finally:
        await harness.stop()


async def test_help_in_private_lists_only_what_works_there(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n", language="zh")
    try:
        bob = harness.member("bob")
        harness.fake.start_private(bob)
        await harness.feed(harness.fake.private_message(bob, "/help"))
        listed = harness.texts_in(bob)[-1]
        assert "/help" in listed and "/report" not in listed, listed
    finally:
        await harness.stop()


async def test_a_chinese_staff_chat_reads_of_an_english_group_in_chinese(tmp_path: Path) -> None:
    policy = "extends: default\nlanguage: en\nmoderation:\n  mode: neutral\n"
    harness = await started(tmp_path, policy, "zh")
    try:
        assert (await harness.services.messages_for(GROUP)).language == "en"
        await harness.say(harness.member("dave"), AD)
        await harness.say(
            harness.member("erin"), "The box arrived broken and nobody answers me!!!"
        )
        await harness.services.staff.flush(STAFF)
        await harness.settle()
        staff = said_by_the_bot(harness.fake, STAFF)
        assert any(text.startswith("👋 已将 Dave 移出") for text in staff), staff
        assert any(text.startswith("🎫 新工单") and "原因：" in text for text in staff), staff
        assert "🙋 接单" in staff and "📨 立即重新邀请 #1 Dave" in staff, staff
        removal = next(text for text in staff if text.startswith("👋"))
        assert english_phrases(removal) == [], removal
        group = said_by_the_bot(harness.fake, GROUP)
        assert group and all(english_phrases(text) for text in group), group
    finally:
        await harness.stop()


async def an_english_group_in_a_chinese_shop(tmp_path: Path) -> Harness:
    """The config speaks Chinese and its default policy is shop-zh; GROUP's policy is English."""
    english = make_config(tmp_path, policy="extends: default\nlanguage: en\n", language="zh")
    raw = english.config.model_copy(update={"default_policy": "shop-zh"})
    loaded = loaded_from(Located(raw.model_dump(mode="json"), {}, {}, "(test)"), tmp_path)
    return await Harness.start(loaded, clock=TestClock(MONDAY_10AM))


async def test_the_private_greeting_speaks_the_language_of_the_members_group(
    tmp_path: Path,
) -> None:
    harness = await an_english_group_in_a_chinese_shop(tmp_path)
    try:
        alice, carol = harness.member("alice"), harness.member("carol")
        await harness.say(alice, "My parcel arrived broken and nobody answers my messages!!!")
        assert await harness.services.store.tickets.latest_active_of(alice) is not None
        await harness.say(carol, "Good morning everyone")
        stranger = harness.member("dan", joined=False)
        for member in (alice, carol, stranger):
            harness.fake.start_private(member)
            await harness.feed(harness.fake.private_message(member, "/start"))
        assert harness.texts_in(alice)[-1].startswith("Hi! I'm"), "her open ticket's group"
        assert harness.texts_in(carol)[-1].startswith("Hi! I'm"), "the group she was seen in"
        assert harness.texts_in(stranger)[-1].startswith("您好！"), "no group: the config's"
        for member in (carol, stranger):
            await harness.feed(harness.fake.private_message(member, "/help"))
        assert not CHINESE.search(harness.texts_in(carol)[-1]), harness.texts_in(carol)[-1]
        assert CHINESE.search(harness.texts_in(stranger)[-1]), harness.texts_in(stranger)[-1]
    finally:
        await harness.stop()


async def test_the_staff_read_a_blocked_word_as_one_entry_not_the_whole_list(
    tmp_path: Path,
) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n", language="zh")
    try:
        await harness.say(ADMIN, "/block 代购")
        harness.clock.advance(120)
        await harness.say(ADMIN, "/allow link sunnysnack.cn")
        await harness.services.staff.flush(STAFF)
        notes = [text for text in harness.texts_in(STAFF) if text.startswith("⚙️")]
        assert "广告词（moderation.detectors.keywords.entries）：+代购（#" in notes[0], notes
        allowed = "链接白名单（moderation.detectors.links.allow）：+sunnysnack.cn（#"
        assert allowed in notes[1], notes
        assert all("{" not in note and "pattern" not in note for note in notes), notes
    finally:
        await harness.stop()


async def test_a_list_set_again_unchanged_is_noted_as_its_entries_not_json(
    tmp_path: Path,
) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n", language="zh")
    try:
        await harness.say(ADMIN, "/allow link sunnysnack.cn")
        harness.clock.advance(120)
        await harness.say(ADMIN, "/allow link sunnysnack.cn")
        await harness.services.staff.flush(STAFF)
        notes = [text for text in harness.texts_in(STAFF) if text.startswith("⚙️")]
        assert len(notes) == 2 and "sunnysnack.cn" in notes[1], notes
        assert "[" not in notes[1] and '"' not in notes[1], notes
    finally:
        await harness.stop()

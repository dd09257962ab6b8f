"""A Chinese shop's admin at work: members named by @username after a restart, a member named
after the duration, choices typed in Chinese, and /help in the private chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.repos import PRUNE_EVERY
from tests.harness import ADMIN, GROUP, STAFF, Harness, TestClock, make_config, make_world

LISI, ZHANGSAN = 7001, 7002


async def start_shop(tmp_path: Path, clock: TestClock | None = None) -> Harness:
    clock = clock or TestClock()
    fake = make_world(clock)
    for user_id, name, username in (
        (LISI, "李四", "lisi_2002"),
        (ZHANGSAN, "张三", "ZhangSan88"),
    ):
        fake.add_user(user_id, name, username)
        fake.add_member(GROUP, user_id)
    loaded = make_config(tmp_path, policy="extends: shop-zh\n", language="zh")
    return await Harness.start(loaded, fake=fake, clock=clock)


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await start_shop(tmp_path)
    yield harness
    await harness.stop()


async def command(harness: Harness, text: str, *, chat: int = GROUP) -> str:
    if chat == GROUP:
        before = len(harness.fake.bot_messages(GROUP))
        await harness.say(ADMIN, text)
        replies = harness.fake.bot_messages(GROUP)[before:]
    else:
        harness.fake.start_private(ADMIN)
        before = len(harness.fake.bot_messages(ADMIN))
        await harness.feed(harness.fake.private_message(ADMIN, text))
        replies = harness.fake.bot_messages(ADMIN)[before:]
    return replies[-1].text if replies else ""


# ------------------------------------------------------------ usernames survive a restart


async def test_usernames_seen_before_a_restart_still_name_members(tmp_path: Path) -> None:
    first = await start_shop(tmp_path)
    await first.say(LISI, "大家好")
    await first.say(ZHANGSAN, "请问什么时候发货")
    await first.stop()
    second = await Harness.start(first.loaded, fake=first.fake, clock=first.clock)
    try:
        answer = await command(second, "/trust @lisi_2002")
        assert answer.startswith("李四 已设为受信任成员"), answer
        answer = await command(second, "/mute @zhangsan88 半小时")
        assert answer == "张三 已被禁言 30 分钟。", answer
        assert second.fake.status_of(GROUP, ZHANGSAN) == "restricted"
        answer = await command(second, "/unmute @ZhangSan88")
        assert "我还不认识" not in answer, answer
        assert second.fake.member(GROUP, ZHANGSAN).status == "member"
    finally:
        await second.stop()


async def test_a_username_is_written_once_not_per_message_and_not_again_after_a_restart(
    tmp_path: Path,
) -> None:
    first = await start_shop(tmp_path)
    store = first.services.store
    await first.say(LISI, "第一句")
    assert await store.usernames.flush() == 1
    for text in ("第二句", "第三句", "第四句"):
        await first.say(LISI, text)
    assert await store.usernames.flush() == 0
    await first.stop()
    second = await Harness.start(first.loaded, fake=first.fake, clock=first.clock)
    try:
        await second.say(LISI, "重启后的第一句")
        assert await second.services.store.usernames.flush() == 0
    finally:
        await second.stop()


async def test_a_changed_username_replaces_the_old_one(shop: Harness) -> None:
    await shop.say(LISI, "你好")
    shop.fake.users[LISI].username = "lisi_new"
    await shop.say(LISI, "我改名了")
    store = shop.services.store
    await store.usernames.flush()
    assert await store.usernames.user_of("lisi_new") == LISI
    assert await store.usernames.user_of("lisi_2002") is None
    assert await shop.services.user_named("@lisi_2002") is None, "memory forgets it too"
    assert await shop.services.user_named("@lisi_new") == LISI


async def test_a_username_memory_no_longer_holds_is_read_from_the_database(
    shop: Harness,
) -> None:
    await shop.say(LISI, "你好")
    await shop.services.store.usernames.flush()
    shop.services.usernames.clear()
    assert await shop.services.user_named("@LiSi_2002") == LISI
    assert "lisi_2002" in shop.services.usernames


async def test_the_stored_usernames_are_bounded(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "q.db")
    try:
        store.usernames.kept = 10
        for n in range(PRUNE_EVERY):
            store.usernames.note(f"member_{n}", 10_000 + n, float(n))
        await store.usernames.flush()
        recent = await store.usernames.recent(1_000_000)
        assert len(recent) == 10
        assert recent[-1] == (f"member_{PRUNE_EVERY - 1}", 10_000 + PRUNE_EVERY - 1)
    finally:
        await store.close()


# ------------------------------------------------------------ the member after the duration


async def test_a_member_may_be_named_after_the_duration(shop: Harness) -> None:
    await shop.say(ZHANGSAN, "在吗")
    answer = await command(shop, "/mute 半小时 @zhangsan88")
    assert answer == "张三 已被禁言 30 分钟。", answer
    assert shop.fake.status_of(GROUP, ZHANGSAN) == "restricted"
    shop.clock.advance(120)
    answer = await command(shop, f"/mute 10 分钟 {LISI}")
    assert answer == "李四 已被禁言 10 分钟。", answer
    shop.clock.advance(120)
    assert (await command(shop, "/mute 10 分钟")).startswith("要对谁操作？")
    assert (await command(shop, "/mute 半小时")).startswith("要对谁操作？")


async def test_an_unknown_username_after_the_duration_is_named_in_the_answer(
    shop: Harness,
) -> None:
    answer = await command(shop, "/mute 1天 @nobody_here")
    assert answer.startswith("我还不认识 @nobody_here"), answer


async def test_the_member_after_the_duration_works_in_private_too(shop: Harness) -> None:
    await shop.say(ZHANGSAN, "在吗")
    answer = await command(shop, f"/mute {GROUP} 两个小时 @zhangsan88", chat=ADMIN)
    assert shop.fake.status_of(GROUP, ZHANGSAN) == "restricted", answer


# ------------------------------------------------------------ choices typed in Chinese


@pytest.mark.parametrize(
    ("word", "mode"), [("温柔", "提醒"), ("中性", "踢出"), ("暴力", "封禁"), ("踢出", "踢出")]
)
async def test_a_mode_may_be_named_with_the_shop_owners_words(
    shop: Harness, word: str, mode: str
) -> None:
    assert await command(shop, f"/mode {word}") == f"模式已切换为「{mode}」。"


async def test_dry_run_is_switched_in_chinese(shop: Harness) -> None:
    assert await command(shop, "/dryrun 开") == "演练模式已开启。"
    assert await shop.services.policies.dry_run(GROUP)
    assert await command(shop, "/dryrun 关") == "演练模式已关闭。"
    assert not await shop.services.policies.dry_run(GROUP)


@pytest.mark.parametrize("off", ["关", "关掉", "关闭"])
async def test_dry_run_is_switched_off_in_the_words_owners_use(shop: Harness, off: str) -> None:
    await command(shop, "/dryrun 打开")
    assert await command(shop, f"/dryrun {off}") == "演练模式已关闭。"


async def test_lang_alone_says_which_language_the_group_hears(shop: Harness) -> None:
    assert (await command(shop, "/lang")).startswith("我在本群说中文。用法：")
    await command(shop, "/lang 英文")
    assert (await command(shop, "/lang")).startswith("I speak English in this group.")


async def test_the_language_is_named_in_chinese(shop: Harness) -> None:
    assert await command(shop, "/lang 英文") == "I speak English in this group now."
    assert await command(shop, "/lang 中文") == "好的，我在本群改说中文了。"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/allow 链接 x.cn", "已放行（链接）：x.cn"),
        ("/allow 联系方式 sunny_cs01", "已放行（联系方式）：sunny_cs01"),
        ("/allow 店铺 shop57301942", "已放行（店铺）：shop57301942"),
    ],
)
async def test_allow_takes_the_kind_in_chinese(shop: Harness, text: str, answer: str) -> None:
    assert await command(shop, text) == answer


async def test_policy_shows_every_kind_of_allowed_entry(shop: Harness) -> None:
    await command(shop, "/allow 链接 sunnysnack.cn")
    await command(shop, "/allow 联系方式 sunny_cs01")
    await command(shop, "/allow 店铺 shop57301942")
    shown = next(
        line for line in (await command(shop, "/policy")).splitlines() if "白名单" in line
    )
    assert "链接：sunnysnack.cn" in shown, shown
    assert "联系方式：sunny_cs01" in shown and "店铺：shop57301942" in shown, shown


async def test_the_staff_read_a_changed_setting_by_its_chinese_name(shop: Harness) -> None:
    await command(shop, "/mode 温柔")
    await command(shop, "/allow 店铺 阳光零食铺")
    await shop.services.staff.flush(STAFF)
    staff = "\n".join(shop.texts_in(STAFF))
    assert "将 模式（moderation.mode） 改为 提醒" in staff, staff
    assert "店铺白名单（moderation.detectors.marketplace.allow）：+阳光零食铺" in staff, staff


async def test_allow_asks_which_kind_a_bare_word_is(shop: Harness) -> None:
    answer = await command(shop, "/allow 淘宝")
    assert answer.startswith("「淘宝」既不像链接"), answer
    assert "/allow 链接|联系方式|店铺 淘宝" in answer
    overrides, _ = await shop.services.policies.settings(GROUP)
    assert overrides == {}


@pytest.mark.parametrize("days", ["7天", "30天", "两周", "7 天"])
async def test_stats_takes_days_in_chinese(shop: Harness, days: str) -> None:
    before = len(shop.fake.bot_messages(GROUP))
    await command(shop, f"/stats {days}")
    sent = shop.fake.bot_messages(GROUP)[before:]
    assert sent and not any("用法" in (message.text or "") for message in sent)


async def test_the_chinese_help_shows_the_chinese_forms(shop: Harness) -> None:
    answer = await command(shop, "/help")
    for form in (
        "/stats [7天|30天]",
        "/dryrun 开|关",
        "/lang 中文|英文",
        "/allow [链接|联系方式|店铺]",
    ):
        assert form in answer, answer


# ------------------------------------------------------------ /help in private


async def test_an_admin_asking_for_help_in_private_gets_the_group_id_form(shop: Harness) -> None:
    answer = await command(shop, "/help", chat=ADMIN)
    assert f"/mode {GROUP} 提醒|踢出|封禁" in answer, answer
    assert f"/mute {GROUP} 时长" in answer and f"/ban {GROUP}" in answer
    assert f"/unban {GROUP}" in answer and "/id" in answer and "/help" in answer
    for group_only in ("/stats", "/inactive", "/report", "/rules", "/tickets", "/close", "/spam"):
        assert group_only not in answer, answer
    assert "Sunny Snacks" in answer


async def test_a_member_asking_for_help_in_private_gets_the_short_list(shop: Harness) -> None:
    shop.fake.start_private(LISI)
    await shop.feed(shop.fake.private_message(LISI, "/help"))
    answer = shop.texts_in(LISI)[-1]
    assert "/help" in answer and "/mode" not in answer and "/mute" not in answer, answer


@pytest.mark.parametrize(
    ("typed", "meant"), [("/帮助", "/help"), ("/禁言 1天", "/mute 1天"), ("/解除禁言", "/unmute")]
)
async def test_a_command_typed_in_chinese_is_answered_with_the_one_it_meant(
    shop: Harness, typed: str, meant: str
) -> None:
    answer = await command(shop, typed)
    assert answer.startswith("命令要用英文字母输入") and f"请发送 {meant}。" in answer
    assert "命令要用英文字母输入" in await command(shop, "/帮助", chat=ADMIN)


async def test_a_staff_member_typing_a_command_in_chinese_in_the_staff_chat_is_answered(
    shop: Harness,
) -> None:
    # Staff chat members are rarely its admins: they still steer the bot from there.
    clerk = shop.member("小美", joined=False)
    shop.fake.add_member(STAFF, clerk)
    await shop.feed(shop.fake.user_message(STAFF, clerk, "/关闭 3"))
    answer = shop.texts_in(STAFF)[-1]
    assert answer.startswith("命令要用英文字母输入") and "请发送 /close 3。" in answer, answer


async def test_a_members_words_after_a_chinese_command_are_never_repeated(shop: Harness) -> None:
    before = len(shop.fake.bot_messages(GROUP))
    await shop.say(LISI, "/帮助 全网最低价 私聊我 看主页")
    (hint,) = shop.texts_in(GROUP)[before:]
    assert hint == "命令要用英文字母输入：请发送 /help。", hint


async def test_a_member_hears_only_about_the_commands_members_may_use(shop: Harness) -> None:
    before = len(shop.fake.bot_messages(GROUP))
    await shop.say(LISI, "/封禁 @zhangsan88")
    assert len(shop.fake.bot_messages(GROUP)) == before
    await shop.say(LISI, "/举报")
    assert "/report" in shop.fake.bot_messages(GROUP)[-1].text

"""What a Chinese shop's staff and admins read: buttons that say whose they are, /why as a
reply to a staff note, dry-run notes, action and rule names, /dryrun's state and /help."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import ADMIN, GROUP, STAFF, Harness, TestClock, make_config, make_world

ADS = (
    "领券加微信 hyq_5566 立减二十元",
    "想要内部价的加微信 qwe_8899 私聊",
    "代购名额有限，加微信 zzk_1234 咨询",
)
NAMES = ("红包小助理赵某某", "钱多多", "代购阿飞")


SOFT = "extends: shop-zh\nmoderation:\n  mode: soft\n"


async def start_shop(tmp_path: Path, policy: str = SOFT) -> Harness:
    clock = TestClock()
    fake = make_world(clock)
    loaded = make_config(tmp_path, policy=policy, language="zh")
    return await Harness.start(loaded, fake=fake, clock=clock)


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await start_shop(tmp_path)
    yield harness
    await harness.stop()


async def raid(harness: Harness) -> list[int]:
    """Three members post an ad each, just after the staff chat was written to: their notes
    wait for one digest, which then goes out."""
    harness.services.staff.last_sent[STAFF] = harness.clock.now()
    members = []
    for name, ad in zip(NAMES, ADS, strict=True):
        member = harness.member(name)
        await harness.say(member, ad)
        members.append(member)
    await harness.services.staff.flush(STAFF)
    return members


def keyboard(message: Any) -> list[list[dict[str, Any]]]:
    return list((message.data.get("reply_markup") or {}).get("inline_keyboard", []))


async def staff_says(harness: Harness, text: str, reply_to: int | None = None) -> str:
    before = len(harness.fake.bot_messages(STAFF))
    extras = {"reply_to": reply_to} if reply_to is not None else {}
    await harness.feed(harness.fake.user_message(STAFF, ADMIN, text, **extras))
    await harness.services.staff.flush(STAFF)
    replies = harness.fake.bot_messages(STAFF)[before:]
    return replies[-1].text if replies else ""


# ------------------------------------------------------------ buttons say whose they are


async def test_each_notes_buttons_name_its_action_and_member(tmp_path: Path) -> None:
    harness = await start_shop(tmp_path, "extends: shop-zh\nmoderation:\n  mode: neutral\n")
    try:
        await raid(harness)
        notes = [m for m in harness.fake.bot_messages(STAFF) if keyboard(m)]
        ids = [number for note in notes for number in re.findall(r"（#(\d+)，", note.text)]
        rows = [row for note in notes for row in keyboard(note)]
        assert len(ids) == 3 and len(rows) == 6, (ids, rows)
        signer = harness.services.signer
        pairs, reinvites = rows[::2], rows[1::2]
        for number, name, pair, reinvite in zip(ids, NAMES, pairs, reinvites, strict=True):
            undo, confirm = pair
            assert undo["text"].startswith(f"↩️ 撤销 #{number} {name[:5]}")
            assert signer.verify(undo["callback_data"], "undo") == [int(number)]
            assert confirm["text"] == f"✅ 确认 #{number}"
            (again,) = reinvite
            assert again["text"].startswith(f"📨 立即重新邀请 #{number} {name[:5]}")
        emojis = {button["text"].split()[0] for row in rows for button in row}
        assert emojis == {"↩️", "✅", "📨"}, "each action its own emoji"
        assert all(len(row) <= 2 for row in rows), "a row fits a phone"
    finally:
        await harness.stop()


async def test_a_long_name_is_cut_on_the_button(shop: Harness) -> None:
    await raid(shop)
    first = keyboard(shop.fake.bot_messages(STAFF)[-1])[0][0]["text"]
    assert first.startswith("↩️ 撤销 #"), first
    assert first.endswith("红包小助理…"), first


# ------------------------------------------------------------ /why as a reply to a staff note


async def test_why_as_a_reply_to_a_staff_note_explains_its_action(shop: Harness) -> None:
    member = shop.member("钱多多")
    await shop.say(member, ADS[1])
    await shop.services.staff.flush(STAFF)
    note = shop.fake.bot_messages(STAFF)[-1]
    (number,) = re.findall(r"（#(\d+)，", note.text)
    answer = await staff_says(shop, "/why", reply_to=note.message_id)
    assert answer.startswith(f"#{number} 提醒：规则"), answer
    assert "qwe_8899" in answer


async def test_why_as_a_reply_to_a_digest_names_the_actions_it_holds(shop: Harness) -> None:
    await raid(shop)
    digest = shop.fake.bot_messages(STAFF)[-1]
    ids = re.findall(r"（#(\d+)，", digest.text)
    answer = await staff_says(shop, "/why", reply_to=digest.message_id)
    assert answer == (
        f"这条消息涉及 3 项处理：#{ids[0]}、#{ids[1]}、#{ids[2]}。"
        f"请发送 /why 加其中一个编号，例如 /why {ids[0]}。"
    ), answer


async def test_why_as_a_reply_finds_the_action_by_its_buttons_after_a_restart(
    shop: Harness,
) -> None:
    member = shop.member("钱多多")
    await shop.say(member, ADS[1])
    await shop.services.staff.flush(STAFF)
    note = shop.fake.bot_messages(STAFF)[-1]
    (number,) = re.findall(r"（#(\d+)，", note.text)
    shop.services.staff.told.clear()
    answer = await staff_says(shop, "/why", reply_to=note.message_id)
    assert answer.startswith(f"#{number} 提醒"), answer


async def test_why_as_a_reply_to_a_setting_note_explains_the_change(shop: Harness) -> None:
    await shop.say(ADMIN, "/dryrun 开")
    await shop.services.staff.flush(STAFF)
    note = shop.fake.bot_messages(STAFF)[-1]
    (number,) = re.findall(r"（#(\d+)）", note.text)
    answer = await staff_says(shop, "/why", reply_to=note.message_id)
    assert answer.startswith(f"#{number} 开启演练模式"), answer


# ------------------------------------------------------------ names from the catalog


async def test_why_names_the_action_and_the_rules_in_chinese(shop: Harness) -> None:
    await shop.say(ADMIN, "/dryrun 开")
    assert shop.texts_in(GROUP)[-1] == "演练模式已开启。"
    await shop.say(ADMIN, "/why 1")
    assert shop.texts_in(GROUP)[-1].startswith("#1 开启演练模式"), shop.texts_in(GROUP)[-1]
    await shop.say(ADMIN, "/dryrun 关")
    member = shop.member("钱多多")
    await shop.say(member, ADS[1])
    notice = shop.fake.bot_messages(GROUP)[-1]
    assert "钱多多" in notice.text, notice.text
    await shop.say(ADMIN, "/why", reply_to=notice.message_id)
    answer = shop.texts_in(GROUP)[-1]
    assert "规则 微信联系方式" in answer and "contact." not in answer, answer


# ------------------------------------------------------------ /dryrun and /help


async def test_dryrun_without_a_word_says_whether_it_is_on(shop: Harness) -> None:
    await shop.say(ADMIN, "/dryrun")
    assert shop.texts_in(GROUP)[-1] == "演练模式目前关闭。用法：/dryrun 开|关"
    await shop.say(ADMIN, "/dryrun 开")
    await shop.say(ADMIN, "/dryrun")
    assert shop.texts_in(GROUP)[-1] == "演练模式目前开启。用法：/dryrun 开|关"


async def test_the_chinese_help_shows_inactive_in_chinese(shop: Harness) -> None:
    await shop.say(ADMIN, "/help")
    assert "/inactive 30天 [移除]" in shop.texts_in(GROUP)[-1]


async def test_inactive_takes_the_chinese_word_for_remove(shop: Harness) -> None:
    await shop.say(shop.member("张三"), "大家好")
    shop.clock.advance(40 * 86400)
    await shop.say(ADMIN, "/inactive 30天 移除")
    confirm = shop.fake.bot_messages(GROUP)[-1]
    rows = confirm.data.get("reply_markup", {}).get("inline_keyboard", [])
    assert rows, f"a confirmation button is offered: {confirm.text}"


async def test_private_help_offers_notspam_only_as_it_works_there(shop: Harness) -> None:
    shop.fake.start_private(ADMIN)
    await shop.feed(shop.fake.private_message(ADMIN, "/help"))
    answer = shop.texts_in(ADMIN)[-1]
    (line,) = [line for line in answer.splitlines() if line.startswith("/notspam")]
    assert line.startswith(f"/notspam {GROUP}（回复消息、@用户名或 ID）"), line


# ------------------------------------------------------------ dry-run: one note per message


async def test_a_dry_run_verdict_is_one_note_naming_member_and_message(shop: Harness) -> None:
    await shop.say(ADMIN, "/dryrun 开")
    await shop.services.staff.flush(STAFF)
    before = len(shop.fake.bot_messages(STAFF))
    member = shop.member("钱多多")
    ad = await shop.say(member, ADS[1])
    await shop.app.bot_data.moderation.enforcer.drain()
    await shop.services.staff.flush(STAFF)
    notes = shop.texts_in(STAFF)[before:]
    assert len(notes) == 1 and notes[0].count("🧪") == 1, notes
    (note,) = notes
    assert "钱多多" in note and "「想要内部价的加微信 qwe_8899 私聊」" in note, note
    assert "删除消息" in note and f"消息 {ad}" not in note, note
    assert "/notspam" in note, "the staff can still say it is no ad"
    assert "/dryrun 关" in note, "and how to end the dry-run"
    assert (GROUP, f"delete message {ad}") in shop.services.doors.simulated.effects
    assert not shop.fake.is_deleted(GROUP, ad)
    reply = await staff_says(
        shop, "/why", reply_to=shop.fake.bot_messages(STAFF)[before].message_id
    )
    assert reply.startswith("#") and "演练" in reply, reply


async def test_a_long_message_is_quoted_by_its_start(shop: Harness) -> None:
    await shop.say(ADMIN, "/dryrun 开")
    member = shop.member("钱多多")
    await shop.say(member, "加微信 qwe_8899 " + "天天都有特价零食，" * 10)
    await shop.app.bot_data.moderation.enforcer.drain()
    await shop.services.staff.flush(STAFF)
    note = shop.texts_in(STAFF)[-1]
    assert "「加微信 qwe_8899 天天都有特价零食" in note and "…」" in note, note

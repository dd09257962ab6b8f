"""A member qunbot removed writes to the bot: they are answered, and the staff hear of it once
per removal with the removal's Undo buttons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.fake.models import StoredMessage
from bot.features.appeals import RELAYS_PER_APPEAL
from tests.harness import ADMIN, GROUP, STAFF, Harness, TestClock, make_config

AD = "加我微信 vx：abc12345 领取内部优惠券"
NEUTRAL_ZH = "extends: shop-zh\nmoderation:\n  mode: neutral\n"
HARD = "extends: default\nmoderation:\n  mode: hard\n"


async def staff_notes(harness: Harness) -> list[StoredMessage]:
    await harness.services.staff.flush(STAFF)
    return harness.fake.bot_messages(STAFF)


def buttons(message: StoredMessage) -> list[dict[str, Any]]:
    markup = message.data.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


async def removed(harness: Harness, name: str) -> tuple[int, StoredMessage]:
    """A member removed for an ad, and the staff note of the removal."""
    member = harness.member(name)
    await harness.say(member, AD)
    assert harness.fake.status_of(GROUP, member) in {"left", "kicked"}
    return member, (await staff_notes(harness))[-1]


async def write(harness: Harness, user: int, text: str) -> None:
    await harness.feed(harness.fake.private_message(user, text))


async def test_a_kicked_customer_who_writes_is_answered_and_the_staff_can_undo(
    tmp_path: Path,
) -> None:
    shop = await Harness.start(make_config(tmp_path, policy=NEUTRAL_ZH, language="zh"))
    try:
        hong, removal_note = await removed(shop, "xiaohong")
        case = removal_note.text.rsplit("#", 1)[1].split("，")[0]
        shop.fake.start_private(hong)
        await write(shop, hong, "/start")
        (prompt,) = shop.texts_in(hong)
        assert "Sunny Snacks" in prompt and f"#{case}" in prompt and "6 小时" in prompt
        await write(shop, hong, "为什么把我踢了？我发的是你们店的链接啊")
        answer = shop.texts_in(hong)[-1]
        assert "客服" in answer and f"#{case}" in answer and "6 小时" in answer
        appeal = (await staff_notes(shop))[-1]
        assert appeal.message_id != removal_note.message_id
        assert f"#{case}" in appeal.text and "Sunny Snacks" in appeal.text
        assert "我发的是你们店的链接啊" in appeal.text
        assert "Xiaohong" in appeal.text
        assert [b["callback_data"] for b in buttons(appeal)] == [
            b["callback_data"] for b in buttons(removal_note)
        ], "the removal's own Undo, Confirm and Re-invite buttons"
        undo = buttons(appeal)[0]["callback_data"]
        await shop.feed(shop.fake.press_button(STAFF, appeal.message_id, ADMIN, undo))
        assert any("https://t.me/+" in text for text in shop.texts_in(hong)), "one press"
    finally:
        await shop.stop()


async def test_one_appeal_per_removal_and_a_few_lines_after_it(tmp_path: Path) -> None:
    shop = await Harness.start(make_config(tmp_path, policy=HARD))
    try:
        spammer, _ = await removed(shop, "dave")
        before = len(await staff_notes(shop))
        shop.fake.start_private(spammer)
        for number in range(10):
            await write(shop, spammer, f"let me back in, please ({number})")
        notes = (await staff_notes(shop))[before:]
        text = "\n".join(note.text for note in notes)
        assert text.count("wrote to the bot") == 1
        assert text.count("wrote again") == RELAYS_PER_APPEAL
        assert "(9)" not in text
        (answer,) = shop.texts_in(spammer)
        assert "passed your message on to the staff" in answer
        assert "come back in" not in answer, "a ban has no re-invite to wait for"
        assert not any("Re-invite" in b["text"] for note in notes for b in buttons(note))
        shop.clock.advance(3601)
        await write(shop, spammer, "hello??")
        await write(shop, spammer, "hello???")
        assert "have your message already" in shop.texts_in(spammer)[-1]
        assert len(shop.texts_in(spammer)) == 2, "once an hour"
        assert len(await staff_notes(shop)) == before + len(notes)
    finally:
        await shop.stop()


async def test_the_appeal_is_not_sent_twice_across_a_restart(tmp_path: Path) -> None:
    loaded, clock = make_config(tmp_path, policy=HARD), TestClock()
    first = await Harness.start(loaded, clock=clock)
    spammer, _ = await removed(first, "dave")
    first.fake.start_private(spammer)
    await write(first, spammer, "that was no ad")
    await first.stop()
    second = await Harness.start(loaded, fake=first.fake, clock=clock)
    try:
        await write(second, spammer, "that was no ad, really")
        text = "\n".join(note.text for note in await staff_notes(second))
        assert text.count("wrote to the bot") == 1
        assert "wrote again" in text
    finally:
        await second.stop()


async def test_a_removal_the_staff_undid_or_an_old_one_takes_no_appeal(tmp_path: Path) -> None:
    shop = await Harness.start(make_config(tmp_path, policy=HARD))
    try:
        dave, note = await removed(shop, "dave")
        undo = buttons(note)[0]["callback_data"]
        await shop.feed(shop.fake.press_button(STAFF, note.message_id, ADMIN, undo))
        shop.fake.start_private(dave)
        await write(shop, dave, "thanks!")  # the invite the undo left waiting
        assert "https://t.me/+" in shop.texts_in(dave)[-1]
        shop.clock.advance(3601)
        await write(shop, dave, "why was I banned at all?")
        erin, _ = await removed(shop, "erin")
        shop.clock.advance(7 * 86400)  # a removal of a week ago is old news
        shop.fake.start_private(erin)
        await write(shop, erin, "why was I banned a week ago?")
        texts = "\n".join(note.text for note in await staff_notes(shop))
        assert "wrote to the bot" not in texts
        assert "passed your message" not in shop.texts_in(dave)[-1]
        assert "qunbot" in shop.texts_in(erin)[-1].lower(), "the greeting, as for anyone"
    finally:
        await shop.stop()


async def test_a_dry_run_removal_takes_no_appeal(tmp_path: Path) -> None:
    shop = await Harness.start(make_config(tmp_path, policy=HARD))
    try:
        await shop.say(ADMIN, "/dryrun on")
        dave = shop.member("dave")
        await shop.say(dave, AD)
        shop.fake.start_private(dave)
        await write(shop, dave, "hi")
        assert "wrote to the bot" not in "\n".join(n.text for n in await staff_notes(shop))
    finally:
        await shop.stop()


async def test_a_removal_the_staff_confirmed_is_said_to_stand_and_asks_the_staff_nothing(
    tmp_path: Path,
) -> None:
    shop = await Harness.start(make_config(tmp_path, policy=NEUTRAL_ZH, language="zh"))
    try:
        hong, removal_note = await removed(shop, "xiaohong")
        confirm = next(b for b in buttons(removal_note) if "确认" in b["text"])
        await shop.feed(
            shop.fake.press_button(STAFF, removal_note.message_id, ADMIN, confirm["callback_data"])
        )
        told = len(await staff_notes(shop))
        shop.fake.start_private(hong)
        await write(shop, hong, "凭什么踢我")
        answer = shop.texts_in(hong)[-1]
        assert "维持这次处理" in answer and "6 小时" in answer, answer
        assert len(await staff_notes(shop)) == told
    finally:
        await shop.stop()

"""/notspam as the staff use it: the same text is cleared in the group (never its sender), the
staff learn which command lets a rule's evidence through for everyone, the undo reaches the staff
note like its button, and the member let back is invited with an apology for the mistake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.fake.models import StoredMessage
from tests.harness import ADMIN, GROUP, STAFF, Harness, command, flush_staff, make_config

SHARE = "【淘宝】https://m.tb.cn/h.7QwErTy?tk=Zx98Yw76 「Sunny Snacks dried mango」 is this ours?"
AD = "加我微信 vx：abc12345 领取内部优惠券"
INVITE = "https://t.me/+"


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.start(make_config(tmp_path))
    yield harness
    await harness.stop()


async def press_undo_on_the_newest_note(harness: Harness) -> StoredMessage:
    """An admin presses the first Undo of the staff chat's newest note; returns the note."""
    note = harness.fake.bot_messages(STAFF)[-1]
    undo = note.data["reply_markup"]["inline_keyboard"][0][0]
    update = harness.fake.press_button(STAFF, note.message_id, ADMIN, undo["callback_data"])
    await harness.feed(update)
    return note


async def test_a_share_marked_not_spam_in_dry_run_is_not_removed_once_it_is_over(
    shop: Harness,
) -> None:
    await command(shop, ADMIN, "/dryrun on")
    carol = shop.member("carol")
    shared = await shop.say(carol, SHARE)
    assert "/allow shop" in await flush_staff(shop), "the dry-run note names the rule's fix"
    answer = await command(shop, ADMIN, "/notspam", reply_to=shared)
    assert "The same text will not be taken for an ad in this group for the next 30d" in answer, (
        answer
    )
    assert "/allow shop <your shop's name or store id>" in answer, answer
    await command(shop, ADMIN, "/dryrun off")
    again = await shop.say(carol, SHARE)
    assert not shop.fake.is_deleted(GROUP, again)
    assert shop.fake.status_of(GROUP, carol) == "member"
    from_someone_else = await shop.say(shop.member("dan"), SHARE)
    assert not shop.fake.is_deleted(GROUP, from_someone_else), "the text is cleared, not Carol"


async def test_notspam_clears_a_text_never_its_sender(shop: Harness) -> None:
    # One mistaken /notspam (or one persuasive appeal) must not make an account immune.
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    await shop.say(dave, "需要的私聊我，价格美丽，量大从优")
    await command(shop, ADMIN, f"/notspam {dave}")
    await shop.feed(shop.fake.join(GROUP, dave))
    ad = await shop.say(dave, AD)
    assert shop.fake.is_deleted(GROUP, ad)
    assert shop.fake.status_of(GROUP, dave) == "left"
    actions = [entry.action for entry in await shop.services.store.audit.recent(GROUP)]
    assert "trust" not in actions


async def test_notspam_on_a_message_qunbot_never_judged_undoes_nothing(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode neutral")
    erin = shop.member("erin")
    await shop.say(erin, AD)
    assert shop.fake.status_of(GROUP, erin) == "left"
    await shop.feed(shop.fake.join(GROUP, erin))
    greeting = await shop.say(erin, "大家好！老板早上好")
    answer = await command(shop, ADMIN, "/notspam", reply_to=greeting)
    assert "Undone" not in answer, "the old removal is not what the admin answered"
    assert (await shop.services.store.audit.recent(GROUP))[0].action != "undo"


async def test_notspam_names_the_fix_of_the_rule_that_caught_the_message(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode hard")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    answer = await command(shop, ADMIN, f"/notspam {dave}")
    assert "/allow contact <WeChat id, QQ or phone number>" in answer, answer


async def test_notspam_names_no_fix_when_no_rule_has_one(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode hard")
    erin = shop.member("erin")
    said = await shop.say(erin, "需要的私聊我，价格美丽，量大从优")
    assert shop.fake.is_deleted(GROUP, said)
    answer = await command(shop, ADMIN, f"/notspam {erin}")
    assert "Undone #" in answer and "will not be taken for an ad" in answer, answer
    assert "/allow" not in answer, answer


async def test_notspam_on_a_sent_note_settles_it_and_gives_the_staff_the_link(
    shop: Harness,
) -> None:
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    await flush_staff(shop)
    note = shop.fake.bot_messages(STAFF)[-1]
    assert note.data.get("reply_markup"), "the note has its buttons before the undo"
    notice = shop.fake.bot_messages(GROUP)[-1]
    answer = await command(shop, ADMIN, "/notspam", reply_to=notice.message_id)
    assert "Undone #" in answer, answer
    assert INVITE in note.text and "/notspam" in note.text, note.text
    assert not note.data.get("reply_markup"), "the undone note keeps no buttons"
    assert not any(INVITE in text for text in shop.texts_in(GROUP))


async def test_notspam_before_the_digest_goes_out_settles_the_pending_note(
    shop: Harness,
) -> None:
    await command(shop, ADMIN, "/mode hard")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    await command(shop, ADMIN, f"/notspam {dave}")
    staff = await flush_staff(shop)
    assert INVITE in staff and "Undone #" in staff, staff
    assert not any(message.data.get("reply_markup") for message in shop.fake.bot_messages(STAFF))


async def test_a_member_let_back_by_notspam_gets_an_apology_not_a_warning(
    shop: Harness,
) -> None:
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    shop.fake.start_private(dave)
    await shop.say(dave, AD)
    await command(shop, ADMIN, f"/notspam {dave}")
    invite = shop.texts_in(dave)[-1]
    assert INVITE in invite and "by mistake" in invite, invite
    assert "don't post ads" not in invite


async def test_a_member_let_back_by_the_undo_button_gets_an_apology_too(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    await flush_staff(shop)
    await press_undo_on_the_newest_note(shop)
    shop.fake.start_private(dave)
    await shop.feed(shop.fake.private_message(dave, "/start"))
    invite = [text for text in shop.texts_in(dave) if INVITE in text][-1]
    assert "by mistake" in invite and "don't post ads" not in invite, invite


async def test_a_later_removal_invites_with_the_usual_warning_again(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    shop.fake.start_private(dave)
    await shop.say(dave, AD)
    await command(shop, ADMIN, f"/notspam {dave}")
    await shop.feed(shop.fake.join(GROUP, dave))
    await shop.say(dave, "加我QQ 29526 77544 领取内部优惠券")
    assert shop.fake.status_of(GROUP, dave) == "left"
    pending = await shop.services.store.reinvites.pending_for(dave)
    assert pending and not pending[0].after_undo


async def test_notspam_after_the_undo_button_keeps_what_the_button_wrote(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    await flush_staff(shop)
    note = await press_undo_on_the_newest_note(shop)
    pressed = note.text
    answer = await command(shop, ADMIN, f"/notspam {dave}")
    assert "undone already" in answer, answer
    assert note.text == pressed, "the button's outcome and its invite link stay"
    assert "undone already" not in await flush_staff(shop), "the note says it already"


async def test_a_chinese_shop_hears_it_all_in_chinese(tmp_path: Path) -> None:
    loaded = make_config(tmp_path, policy="extends: shop-zh\n", language="zh")
    shop = await Harness.start(loaded)
    try:
        await command(shop, ADMIN, "/dryrun 开")
        carol = shop.member("carol")
        shared = await shop.say(carol, SHARE)
        assert "/allow 店铺 <本店名称或店铺 ID>" in await flush_staff(shop)
        answer = await command(shop, ADMIN, "/notspam", reply_to=shared)
        assert answer.startswith(
            "已记住：这不是广告。30 天内（配置的 retention），本群不会再把同样的内容当成广告"
        ), answer
        assert "/allow 店铺 <本店名称或店铺 ID>" in answer, answer
    finally:
        await shop.stop()


async def test_notspam_on_a_member_whose_last_entry_is_a_ticket_undoes_nothing(
    shop: Harness,
) -> None:
    # A complaint ticket is recorded like qunbot's own actions, but it is no removal:
    # "ban lifted" for a member who was never banned would mislead the staff.
    fay = shop.member("fay")
    said = await shop.say(fay, "The box arrived broken and nobody answers me!!!")
    actions = [entry.action for entry in await shop.services.store.audit.recent(GROUP)]
    assert any(action.startswith("ticket #") for action in actions), actions
    answer = await command(shop, ADMIN, "/notspam", reply_to=said)
    assert "Undone" not in answer and "ban lifted" not in answer, answer
    assert "will not be taken for an ad" in answer, answer


async def test_a_cleared_text_stays_cleared_after_a_restart(tmp_path: Path) -> None:
    loaded = make_config(tmp_path)
    first = await Harness.start(loaded)
    try:
        await command(first, ADMIN, "/dryrun on")
        carol = first.member("carol")
        shared = await first.say(carol, SHARE)
        await command(first, ADMIN, "/notspam", reply_to=shared)
        await command(first, ADMIN, "/dryrun off")
    finally:
        await first.stop()
    second = await Harness.start(loaded, fake=first.fake, clock=first.clock)
    try:
        again = await second.say(carol, SHARE)
        assert not second.fake.is_deleted(GROUP, again)
    finally:
        await second.stop()


async def test_a_cleared_text_carrying_a_hidden_link_or_posted_in_a_flood_is_still_caught(
    shop: Harness,
) -> None:
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    text = "需要的私聊我，价格美丽，量大从优"
    await shop.say(dave, text)
    await command(shop, ADMIN, f"/notspam {dave}")
    hidden = [{"type": "text_link", "offset": 0, "length": 4, "url": "https://t.me/scamchannel"}]
    linked = await shop.say(shop.member("gus"), text, entities=hidden)
    assert shop.fake.is_deleted(GROUP, linked), "the link behind the words was never cleared"


async def test_a_flood_of_a_cleared_text_is_still_a_flood(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    text = "需要的私聊我，价格美丽，量大从优"
    await shop.say(dave, text)
    await command(shop, ADMIN, f"/notspam {dave}")
    shop.clock.advance(3600)
    hal = shop.member("hal")
    for _ in range(8):
        shop.clock.advance(0.5)
        await shop.say(hal, text)
    assert shop.fake.status_of(GROUP, hal) == "restricted"


async def test_spam_on_a_cleared_text_takes_the_clearance_back(shop: Harness) -> None:
    await command(shop, ADMIN, "/dryrun on")
    carol = shop.member("carol")
    shared = await shop.say(carol, SHARE)
    await command(shop, ADMIN, "/notspam", reply_to=shared)
    await command(shop, ADMIN, "/dryrun off")
    again = await shop.say(carol, SHARE)
    await command(shop, ADMIN, "/spam", reply_to=again)
    third = await shop.say(shop.member("dan"), SHARE)
    assert shop.fake.is_deleted(GROUP, third)

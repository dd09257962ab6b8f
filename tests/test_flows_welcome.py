"""Welcomes, red-envelope gifts and the newcomer check, through the real Application and the
fake Telegram: messages, buttons and private delivery, not mocks."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from bot.cli.check import errors_for, warnings_for
from bot.fake import EventKind
from bot.fake.models import Member
from bot.fake.state import FakeTelegram
from bot.features.newcomers import check_job_name
from bot.features.welcome import welcome_job_name
from policies.gifts import pool_number
from tests.harness import (
    ADMIN,
    GROUP,
    OWNER,
    STAFF,
    Harness,
    TestClock,
    make_config,
    make_world,
)

OTHER_GROUP = -1001000000777
GIFTS = """
gifts:
  welcome_pool: welcome
  pools:
    welcome:
      codes: [SNACK-001, SNACK-002]
    review:
      shared_code: THANKS10
  rewards:
    - {pool: review, hashtags: ["#review", "#晒单"]}
"""
CHECK = """
welcome:
  newcomer_check:
    enabled: true
    timeout: 2m
"""


def policy(extra: str = "", gifts: str = GIFTS) -> str:
    return "extends: default\n" + gifts + extra


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.start(make_config(tmp_path, policy=policy()))
    yield harness
    await harness.stop()


async def started(tmp_path: Path, text: str, *, clock: TestClock | None = None) -> Harness:
    return await Harness.start(make_config(tmp_path, policy=text), clock=clock)


async def join(harness: Harness, name: str, *, service_message: bool = True) -> int:
    user_id = harness.member(name, joined=False)
    chat_member, message = harness.fake.join(GROUP, user_id)
    await harness.feed([chat_member, message] if service_message else [message])
    return user_id


def buttons(fake: FakeTelegram, chat_id: int, message_id: int) -> list[dict[str, Any]]:
    markup = fake.chats[chat_id].messages[message_id].data.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def newest_with_button(fake: FakeTelegram, prefix: str) -> tuple[int, str]:
    for message in reversed(fake.bot_messages(GROUP)):
        for button in buttons(fake, GROUP, message.message_id):
            if str(button.get("callback_data", "")).startswith(prefix):
                return message.message_id, str(button["callback_data"])
    raise LookupError(f"no button {prefix}")


async def press(harness: Harness, user_id: int, prefix: str) -> dict[str, Any]:
    """Press the newest matching button; returns the bot's answer to the press."""
    message_id, data = newest_with_button(harness.fake, prefix)
    update = harness.fake.press_button(GROUP, message_id, user_id, data)
    await harness.feed(update)
    answer = harness.fake.callback_queries[update["callback_query"]["id"]].answer
    assert answer is not None
    return answer


def payload_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["start"][0]


async def gift_link(harness: Harness, user_id: int, prefix: str = "gft_") -> str:
    """What a member gets for pressing a gift button: the payload of their deep link."""
    return payload_of((await press(harness, user_id, prefix))["url"])


async def open_link(harness: Harness, user_id: int, payload: str) -> list[str]:
    """Follow a deep link into the private chat; returns what the bot wrote there."""
    before = len(harness.texts_in(user_id)) if user_id in harness.fake.chats else 0
    update = harness.fake.start_private(user_id, payload)
    assert update is not None
    await harness.feed(update)
    return harness.texts_in(user_id)[before:]


def welcomes(harness: Harness) -> list[str]:
    """Every welcome posted, replaced ones included."""
    posted = harness.fake.messages(GROUP, include_deleted=True)
    bot_id = harness.fake.bot.id
    return [m.text for m in posted if m.sender_id == bot_id and m.text.startswith("👋")]


async def fire(harness: Harness, name: str) -> None:
    """Run a scheduled job now instead of waiting for it, then deliver what it caused."""
    queue = harness.app.job_queue
    assert queue is not None
    jobs = queue.get_jobs_by_name(name)
    assert jobs, f"no job {name}"
    for job in jobs:
        job.schedule_removal()
        await job.run(harness.app)
    await harness.feed(list(harness.fake.pending))


# ------------------------------------------------------------------------ welcome


async def test_a_newcomer_gets_one_welcome_with_gift_and_rules_buttons(shop: Harness) -> None:
    bob = await join(shop, "bob")
    (welcome,) = shop.fake.bot_messages(GROUP)
    assert welcome.text.startswith("👋 Welcome Bob to Sunny Snacks!")
    assert "coupon" in welcome.text and "no ads" in welcome.text
    mention = [e for e in welcome.data["entities"] if e["type"] == "text_mention"]
    assert mention[0]["user"]["id"] == bob
    labels = [b["text"] for b in buttons(shop.fake, GROUP, welcome.message_id)]
    assert labels == ["🧧 Claim your gift", "📜 Rules"]
    service = next(
        m for m in shop.fake.messages(GROUP, include_deleted=True) if m.sender_id == bob
    )
    assert shop.fake.is_deleted(GROUP, service.message_id)


async def test_without_a_gift_pool_the_welcome_promises_no_coupon(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(gifts=""))
    try:
        await join(harness, "bob")
        (welcome,) = harness.fake.bot_messages(GROUP)
        assert "Welcome Bob" in welcome.text and "coupon" not in welcome.text
        labels = [b["text"] for b in buttons(harness.fake, GROUP, welcome.message_id)]
        assert labels == ["📜 Rules"]
    finally:
        await harness.stop()


async def test_the_chinese_preset_welcomes_in_chinese(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n" + GIFTS)
    try:
        await join(harness, "bob")
        (welcome,) = harness.fake.bot_messages(GROUP)
        assert welcome.text.startswith("👋 欢迎 Bob 加入 Sunny Snacks")
        assert "新人优惠券" in welcome.text
        labels = [b["text"] for b in buttons(harness.fake, GROUP, welcome.message_id)]
        assert labels == ["🧧 领取新人红包", "📜 群规"]
    finally:
        await harness.stop()


async def test_the_service_message_alone_is_enough(shop: Harness) -> None:
    await join(shop, "bob", service_message=False)
    assert len(welcomes(shop)) == 1


async def test_names_never_break_the_markup(shop: Harness) -> None:
    shop.fake.add_user(4242, "<b>Eve</b> & {users}")
    await shop.feed(shop.fake.join(GROUP, 4242))
    (welcome,) = welcomes(shop)
    assert "<b>Eve</b> & {users}" in welcome
    assert not [c for c in shop.fake.calls_to("sendMessage") if not c.ok]


async def test_the_previous_welcome_is_replaced(shop: Harness) -> None:
    await join(shop, "bob")
    shop.clock.advance(60)
    await join(shop, "carol")
    bot_id = shop.fake.bot.id
    messages = shop.fake.messages(GROUP, include_deleted=True)
    first, second = [m for m in messages if m.sender_id == bot_id]
    assert shop.fake.is_deleted(GROUP, first.message_id)
    assert "Carol" in second.text and not shop.fake.is_deleted(GROUP, second.message_id)


async def test_a_welcome_too_old_to_delete_is_left_without_an_alarm(shop: Harness) -> None:
    await join(shop, "bob")
    (first,) = [m.message_id for m in shop.fake.bot_messages(GROUP)]
    shop.clock.advance(49 * 3600)
    await join(shop, "carol")
    await shop.services.staff.flush(STAFF)
    deletes = shop.fake.calls_to("deleteMessage") + shop.fake.calls_to("deleteMessages")
    asked = [c.params.get("message_id") for c in deletes]
    asked += [i for c in deletes for i in c.params.get("message_ids", [])]
    assert first not in asked and len(welcomes(shop)) == 2, asked
    assert not [text for text in shop.texts_in(STAFF) if "delete" in text.lower()]


async def test_options_keep_the_service_message_and_old_welcomes(tmp_path: Path) -> None:
    extra = "welcome:\n  delete_service_message: false\n  delete_previous: false\n"
    harness = await started(tmp_path, policy(extra))
    try:
        await join(harness, "bob")
        harness.clock.advance(60)
        await join(harness, "carol")
        assert harness.fake.events_of(EventKind.DELETE) == []
        assert len(welcomes(harness)) == 2
    finally:
        await harness.stop()


async def test_a_join_wave_shares_one_welcome_and_welcomes_are_capped(tmp_path: Path) -> None:
    extra = "welcome:\n  wave_window: 10s\n  max_per_minute: 2\n  delete_previous: false\n"
    harness = await started(tmp_path, policy(extra))
    try:
        await join(harness, "ann")
        harness.clock.advance(2)
        for name in ("ben", "cat"):
            await join(harness, name)
        assert len(welcomes(harness)) == 1
        harness.clock.advance(8)
        await fire(harness, welcome_job_name(GROUP))
        assert "Ben" in welcomes(harness)[1] and "Cat" in welcomes(harness)[1]
        for name in ("dan", "eva"):
            harness.clock.advance(10)
            await join(harness, name)
        assert len(welcomes(harness)) == 2, "the cap holds back a third welcome this minute"
        harness.clock.advance(30)
        await fire(harness, welcome_job_name(GROUP))
        assert len(welcomes(harness)) == 3
        assert "Dan" in welcomes(harness)[2] and "Eva" in welcomes(harness)[2]
    finally:
        await harness.stop()


async def test_a_raid_is_welcomed_in_one_message_that_counts_the_rest(shop: Harness) -> None:
    await join(shop, "first")
    for index in range(40):
        await join(shop, f"raider{index}")
    assert len(welcomes(shop)) == 1
    shop.clock.advance(10)
    await fire(shop, welcome_job_name(GROUP))
    raid = welcomes(shop)[1]
    assert "Raider0" in raid and "Raider29" in raid and "Raider30" not in raid and "+10" in raid


async def test_a_member_who_leaves_and_rejoins_is_welcomed_again(shop: Harness) -> None:
    bob = await join(shop, "bob")
    await shop.feed(shop.fake.leave(GROUP, bob))
    shop.clock.advance(60)
    await shop.feed(shop.fake.join(GROUP, bob))
    assert len(welcomes(shop)) == 2


async def test_rules_in_the_group_and_through_the_rules_button(shop: Harness) -> None:
    carol = shop.member("carol")
    await shop.say(carol, "/rules")
    assert shop.texts_in(GROUP)[-1].startswith("📜 Rules of Sunny Snacks")
    await join(shop, "bob")
    welcome = shop.fake.bot_messages(GROUP)[-1]
    url = next(b["url"] for b in buttons(shop.fake, GROUP, welcome.message_id) if "url" in b)
    assert url.startswith("https://t.me/qunbot_demo_bot?start=rules_")
    (rules,) = await open_link(shop, shop.users["bob"], payload_of(url))
    assert rules.startswith("📜 Rules of Sunny Snacks")


# -------------------------------------------------------------------------- gifts


async def test_a_gift_is_delivered_privately_and_only_once(shop: Harness) -> None:
    bob = await join(shop, "bob")
    link = await gift_link(shop, bob)
    (gift,) = await open_link(shop, bob, link)
    assert "SNACK-001" in gift and "Sunny Snacks" in gift
    assert "SNACK-001" not in " ".join(shop.texts_in(GROUP))
    (again,) = await open_link(shop, bob, await gift_link(shop, bob))
    assert "already claimed" in again and "SNACK-001" in again
    store = shop.services.store.gifts
    assert await store.remaining(["SNACK-001", "SNACK-002"]) == 1


async def test_two_simultaneous_claims_get_exactly_one_code(shop: Harness) -> None:
    bob = await join(shop, "bob")
    link = await gift_link(shop, bob)
    shop.fake.start_private(bob)
    updates = [shop.fake.private_message(bob, f"/start {link}") for _ in range(2)]
    await asyncio.gather(*(shop.feed(update) for update in updates))
    texts = shop.texts_in(bob)
    assert sum("SNACK-00" in text and "Your gift" in text for text in texts) == 1
    assert sum("already claimed" in text for text in texts) == 1
    assert await shop.services.store.gifts.remaining(["SNACK-001", "SNACK-002"]) == 1


async def test_two_members_racing_for_the_last_code(tmp_path: Path) -> None:
    gifts = GIFTS.replace("[SNACK-001, SNACK-002]", "[LAST-ONE]")
    harness = await started(tmp_path, policy(gifts=gifts))
    try:
        bob, carol = await join(harness, "bob"), await join(harness, "carol")
        links = {user: await gift_link(harness, user) for user in (bob, carol)}
        updates = []
        for user, link in links.items():
            harness.fake.start_private(user)
            updates.append(harness.fake.private_message(user, f"/start {link}"))
        await asyncio.gather(*(harness.feed(update) for update in updates))
        texts = harness.texts_in(bob) + harness.texts_in(carol)
        assert sum("LAST-ONE" in text for text in texts) == 1
        assert sum("Sorry, every gift" in text for text in texts) == 1
    finally:
        await harness.stop()


async def test_an_empty_pool_tells_the_member_and_the_staff(tmp_path: Path) -> None:
    gifts = GIFTS.replace("[SNACK-001, SNACK-002]", "[ONLY-ONE]")
    harness = await started(tmp_path, policy(gifts=gifts))
    try:
        bob, carol = await join(harness, "bob"), await join(harness, "carol")
        await open_link(harness, bob, await gift_link(harness, bob))
        (sorry,) = await open_link(harness, carol, await gift_link(harness, carol))
        assert sorry.startswith("😅 Sorry, every gift of Sunny Snacks")
        alarm = [
            text for text in harness.texts_in(STAFF) if "gift pool 'welcome' is empty" in text
        ]
        assert len(alarm) == 1
        dan = await join(harness, "dan")
        await open_link(harness, dan, await gift_link(harness, dan))
        assert len([t for t in harness.texts_in(STAFF) if "is empty" in t]) == 1, "once an hour"
    finally:
        await harness.stop()


async def test_gift_codes_from_a_file_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "coupons.txt").write_text("# spring batch\nFILE-1\n\nFILE-2  # vip\n")
    gifts = GIFTS.replace("codes: [SNACK-001, SNACK-002]", "codes_file: coupons.txt")
    harness = await started(tmp_path, policy(gifts=gifts))
    try:
        bob, carol = await join(harness, "bob"), await join(harness, "carol")
        (first,) = await open_link(harness, bob, await gift_link(harness, bob))
        (second,) = await open_link(harness, carol, await gift_link(harness, carol))
        assert "FILE-1" in first and "FILE-2" in second
    finally:
        await harness.stop()


async def test_links_forged_or_replayed_are_refused(shop: Harness) -> None:
    bob, carol = await join(shop, "bob"), await join(shop, "carol")
    bobs_link = await gift_link(shop, bob)
    (refused,) = await open_link(shop, carol, bobs_link)
    assert refused.startswith("This gift link is not valid for you")
    kind, _, rest = bobs_link.partition("_")
    other_group = f"{kind}_n{-OTHER_GROUP}_{rest.partition('_')[2]}"
    (forged,) = await open_link(shop, bob, other_group)
    assert forged.startswith("This gift link is not valid")
    signer = shop.services.signer
    assert signer is not None
    number = int(bobs_link.split("_")[3])
    genuine_elsewhere = signer.sign("gift", OTHER_GROUP, bob, number)
    shop.fake.add_chat(OTHER_GROUP, "supergroup", "Other shop")
    (elsewhere,) = await open_link(shop, bob, genuine_elsewhere)
    assert "members of Other shop" in elsewhere
    assert await shop.services.store.gifts.remaining(["SNACK-001", "SNACK-002"]) == 2


async def test_a_reward_button_is_only_for_the_rewarded_member(shop: Harness) -> None:
    bob, carol = shop.member("bob"), shop.member("carol")
    await shop.say(bob, "#review", photo=True)
    await shop.say(carol, "I love the #review boxes")
    (prompt,) = [t for t in shop.texts_in(GROUP) if "Thanks for showing us your order" in t]
    assert "Bob" in prompt
    refused = await press(shop, carol, "gft_")
    assert refused["text"].startswith("This red envelope is for someone else")
    (gift,) = await open_link(shop, bob, await gift_link(shop, bob))
    assert "THANKS10" in gift
    await shop.say(bob, "again #晒单", photo=True)
    assert len([t for t in shop.texts_in(GROUP) if "Thanks for showing" in t]) == 1


async def test_a_member_who_left_cannot_claim(shop: Harness) -> None:
    bob = await join(shop, "bob")
    link = await gift_link(shop, bob)
    await shop.feed(shop.fake.leave(GROUP, bob))
    (refused,) = await open_link(shop, bob, link)
    assert refused.startswith("🧧 This gift is for members of Sunny Snacks")
    assert await shop.services.store.gifts.remaining(["SNACK-001", "SNACK-002"]) == 2


NEWCOMERS_ONLY = "This red envelope is a welcome gift for newcomers 🙂"
WEEK = 7 * 86400.0


def shared_link(harness: Harness, chat_id: int, user_id: int) -> str:
    """The link the welcome's button would make for this member, had they been let through."""
    signer = harness.services.signer
    assert signer is not None
    return signer.sign("gift", chat_id, user_id, pool_number("welcome"))


async def test_every_newcomer_of_a_wave_claims_from_the_welcome_they_share(
    tmp_path: Path,
) -> None:
    harness = await started(tmp_path, policy("welcome:\n  wave_window: 10s\n"))
    try:
        await join(harness, "ann")
        harness.clock.advance(2)
        ben, cat = await join(harness, "ben"), await join(harness, "cat")
        harness.clock.advance(8)
        await fire(harness, welcome_job_name(GROUP))
        assert "Ben" in welcomes(harness)[-1] and "Cat" in welcomes(harness)[-1]
        for newcomer, code in ((ben, "SNACK-001"), (cat, "SNACK-002")):
            (gift,) = await open_link(harness, newcomer, await gift_link(harness, newcomer))
            assert code in gift
    finally:
        await harness.stop()


async def test_an_old_member_cannot_take_a_newcomers_welcome_gift(shop: Harness) -> None:
    bob = await join(shop, "bob")
    oscar = shop.member("oscar")  # in the group before qunbot saw anyone join
    refused = await press(shop, oscar, "gft_")
    assert refused == {"text": NEWCOMERS_ONLY, "show_alert": True}
    (private,) = await open_link(shop, oscar, shared_link(shop, GROUP, oscar))
    assert private == NEWCOMERS_ONLY
    assert await shop.services.store.gifts.remaining(["SNACK-001", "SNACK-002"]) == 2
    (gift,) = await open_link(shop, bob, await gift_link(shop, bob))
    assert "SNACK-001" in gift


async def test_the_old_member_is_refused_in_the_groups_language(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: shop-zh\n" + GIFTS)
    try:
        await join(harness, "bob")
        oscar = harness.member("oscar")
        refused = await press(harness, oscar, "gft_")
        assert refused == {"text": "这个红包是送给新成员的见面礼哦 🙂", "show_alert": True}
        (private,) = await open_link(harness, oscar, shared_link(harness, GROUP, oscar))
        assert private == "这个红包是送给新成员的见面礼哦 🙂"
    finally:
        await harness.stop()


async def test_a_newcomer_of_another_group_is_no_newcomer_here(tmp_path: Path) -> None:
    config = make_config(tmp_path, policy=policy(), extra_groups=(OTHER_GROUP,))
    harness = await Harness.start(config)
    try:
        harness.fake.add_chat(OTHER_GROUP, "supergroup", "Other shop")
        harness.fake.bot_is_admin(OTHER_GROUP)
        await join(harness, "bob")
        carol = harness.member("carol")
        await harness.feed(harness.fake.join(OTHER_GROUP, carol))
        assert (await press(harness, carol, "gft_"))["text"] == NEWCOMERS_ONLY
        (here,) = await open_link(harness, carol, shared_link(harness, GROUP, carol))
        assert here == NEWCOMERS_ONLY
        (there,) = await open_link(harness, carol, shared_link(harness, OTHER_GROUP, carol))
        assert "SNACK-001" in there and "Other shop" in there
    finally:
        await harness.stop()


async def test_the_welcome_gift_waits_a_week_for_its_newcomer(shop: Harness) -> None:
    bob, carol = await join(shop, "bob"), await join(shop, "carol")
    shop.clock.advance(10)
    await fire(shop, welcome_job_name(GROUP))
    carols_link = await gift_link(shop, carol)
    shop.clock.advance(WEEK - 60)
    await join(shop, "dan")  # its welcome forgets last week's queue; the members' joins remain
    assert not await shop.services.store.welcome_queue.known(GROUP, bob)
    (gift,) = await open_link(shop, bob, await gift_link(shop, bob))
    assert "SNACK-001" in gift
    shop.clock.advance(120)
    (late,) = await open_link(shop, carol, carols_link)
    assert late == NEWCOMERS_ONLY
    assert (await press(shop, carol, "gft_"))["text"] == NEWCOMERS_ONLY
    assert await shop.services.store.gifts.remaining(["SNACK-001", "SNACK-002"]) == 1


async def test_a_spammer_removed_and_back_again_is_no_newcomer_for_the_gift(
    shop: Harness,
) -> None:
    dave = await join(shop, "dave")
    await shop.say(dave, "加我微信 vx：abc12345 领取内部优惠券")
    assert shop.fake.status_of(GROUP, dave) == "left"
    await join(shop, "dave")
    shop.clock.advance(60)
    await join(shop, "bob")  # his welcome's gift button is the one dave tries
    assert (await press(shop, dave, "gft_"))["text"] == NEWCOMERS_ONLY
    assert await shop.services.store.gifts.remaining(["SNACK-001", "SNACK-002"]) == 2


async def test_a_newcomer_whose_join_time_a_crash_lost_still_claims(shop: Harness) -> None:
    bob = await join(shop, "bob")
    members = shop.services.store.members
    members.forget_chat(GROUP)  # the unwritten join time, as a crash loses it
    await members.db.execute("UPDATE members SET joined_at = NULL")
    assert await members.joined_at(GROUP, bob) is None
    (gift,) = await open_link(shop, bob, await gift_link(shop, bob))
    assert "SNACK-001" in gift


async def test_a_shop_may_shorten_the_claim_window(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(gifts=GIFTS + "  welcome_claim_within: 2h\n"))
    try:
        bob = await join(harness, "bob")
        harness.clock.advance(2 * 3600 + 1)
        assert (await press(harness, bob, "gft_"))["text"] == NEWCOMERS_ONLY
    finally:
        await harness.stop()


async def test_a_reward_from_the_welcome_pool_stays_the_rewarded_members(
    tmp_path: Path,
) -> None:
    gifts = GIFTS.replace("{pool: review,", "{pool: welcome,")
    harness = await started(tmp_path, policy(gifts=gifts))
    try:
        oscar = harness.member("oscar")  # an old member, earning a reward
        await harness.say(oscar, "#review", photo=True)
        (gift,) = await open_link(harness, oscar, await gift_link(harness, oscar))
        assert "SNACK-001" in gift
    finally:
        await harness.stop()


# --------------------------------------------------------------- newcomer check


def restricted_calls(harness: Harness, user_id: int) -> list[dict[str, Any]]:
    calls = harness.fake.calls_to("restrictChatMember")
    return [call.params for call in calls if call.params["user_id"] == user_id and call.ok]


async def test_a_newcomer_who_presses_the_button_may_chat(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(CHECK))
    try:
        bob = await join(harness, "bob")
        assert harness.fake.status_of(GROUP, bob) == "restricted"
        (muted,) = restricted_calls(harness, bob)
        assert muted["use_independent_chat_permissions"] is True
        assert set(muted["permissions"].values()) == {False}
        assert len(muted["permissions"]) == 16
        welcome = harness.texts_in(GROUP)[-1]
        assert "within 2m" in welcome and "Bob" in welcome
        answer = await press(harness, bob, "nc_")
        assert answer["text"] == "Thanks! You can chat now."
        assert harness.fake.status_of(GROUP, bob) == "member"
        lifted = restricted_calls(harness, bob)[-1]
        assert set(lifted["permissions"].values()) == {True}
        assert len(lifted["permissions"]) == 16
        assert harness.app.job_queue is not None
        assert not harness.app.job_queue.get_jobs_by_name(check_job_name(GROUP, bob))
        await harness.say(bob, "Hello, happy to be here")
    finally:
        await harness.stop()


async def test_without_the_right_to_restrict_the_staff_are_told(tmp_path: Path) -> None:
    clock = TestClock()
    fake = make_world(clock)
    fake.set_bot_rights(GROUP, can_delete_messages=True, can_restrict_members=False)
    harness = await Harness.start(
        make_config(tmp_path, policy=policy(CHECK)), fake=fake, clock=clock
    )
    try:
        bob = await join(harness, "bob")
        assert harness.fake.status_of(GROUP, bob) == "member"
        assert any("Ban users" in text for text in harness.texts_in(STAFF))
        (welcome,) = harness.fake.bot_messages(GROUP)
        assert "within" not in welcome.text
    finally:
        await harness.stop()


async def test_a_newcomer_who_never_presses_is_removed(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(CHECK))
    try:
        bob = await join(harness, "bob")
        carol = harness.member("carol")
        assert (await press(harness, carol, "nc_")).get("text") is None
        assert harness.fake.status_of(GROUP, carol) == "member"
        harness.clock.advance(121)
        await fire(harness, check_job_name(GROUP, bob))
        assert harness.fake.status_of(GROUP, bob) == "left"
        audit = await harness.services.store.audit.recent(GROUP)
        assert audit[0].action == "newcomer-check-removed" and audit[0].target_id == bob
    finally:
        await harness.stop()


async def test_admins_and_newcomers_added_by_admins_are_exempt(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(CHECK))
    try:
        fake = harness.fake
        chat = fake.chats[GROUP]
        guest = harness.member("guest", joined=False)
        await harness.feed(fake.admit(chat, fake.users[guest], link=None, actor=fake.users[ADMIN]))
        helper = harness.member("helper", joined=False)
        old = Member(helper, "left")
        fake.make_admin(GROUP, helper)
        change = fake.member_change(chat, fake.users[OWNER], old, fake.users[helper].to_api())
        await harness.feed(fake.queue("chat_member", change))
        assert fake.calls_to("restrictChatMember") == []
        assert fake.status_of(GROUP, guest) == "member"
        assert "Guest" in welcomes(harness)[0]
    finally:
        await harness.stop()


async def test_a_newcomer_who_left_while_muted_is_checked_again_on_return(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(CHECK))
    try:
        bob = await join(harness, "bob")
        fake = harness.fake
        muted = fake.member(GROUP, bob)
        before = replace(muted)
        muted.is_member = False  # Telegram keeps a muted member's restriction when they leave
        leaving = fake.member_change(
            fake.chats[GROUP], fake.users[bob], before, fake.user_api(bob)
        )
        await harness.feed(fake.queue("chat_member", leaving))
        harness.clock.advance(121)
        await fire(harness, check_job_name(GROUP, bob))
        assert harness.fake.status_of(GROUP, bob) == "left"
        await harness.feed(harness.fake.join(GROUP, bob))
        assert harness.fake.status_of(GROUP, bob) == "restricted"
        assert harness.app.job_queue is not None
        assert harness.app.job_queue.get_jobs_by_name(check_job_name(GROUP, bob))
    finally:
        await harness.stop()


async def test_a_pending_check_survives_a_restart(tmp_path: Path) -> None:
    loaded = make_config(tmp_path, policy=policy(CHECK))
    clock = TestClock()
    first = await Harness.start(loaded, clock=clock)
    bob = await join(first, "bob")
    carol = await join(first, "carol")
    await first.stop()
    clock.advance(60)
    second = await Harness.start(loaded, fake=first.fake, clock=clock)
    try:
        assert second.app.job_queue is not None
        assert second.app.job_queue.get_jobs_by_name(check_job_name(GROUP, bob))
        await press(second, carol, "nc_")
        assert second.fake.status_of(GROUP, carol) == "member"
        clock.advance(61)
        await fire(second, check_job_name(GROUP, bob))
        assert second.fake.status_of(GROUP, bob) == "left"
    finally:
        await second.stop()


def test_a_missing_codes_file_is_an_error_for_a_pool_in_use(tmp_path: Path) -> None:
    gifts = GIFTS.replace("codes: [SNACK-001, SNACK-002]", "codes_file: coupons/missing.txt")
    gifts = gifts.replace(
        "    review:", "    spare:\n      codes_file: coupons/spare.txt\n    review:"
    )
    loaded = make_config(tmp_path, policy=policy(gifts=gifts))
    (error,) = errors_for(loaded)
    assert "gift pool 'welcome': no codes file" in error
    notes = warnings_for(loaded)
    assert any("gift pool 'spare': no codes file" in note for note in notes)
    assert not any("'welcome'" in note for note in notes)


async def test_a_wave_waiting_at_a_stop_is_welcomed_after_the_restart_once(
    tmp_path: Path,
) -> None:
    loaded = make_config(tmp_path, policy=policy(CHECK))
    clock = TestClock()
    first = await Harness.start(loaded, clock=clock)
    bob = await join(first, "bob")
    carol = await join(first, "carol")
    assert [text for text in welcomes(first) if "Carol" in text] == []
    await first.stop()
    clock.advance(300)  # longer than the check's timeout
    second = await Harness.start(loaded, fake=first.fake, clock=clock)
    try:
        await second.feed(list(second.fake.pending))
        named = welcomes(second)
        assert sum("Carol" in text for text in named) == 1
        assert sum("Bob" in text for text in named) == 1
        assert second.fake.status_of(GROUP, carol) == "restricted"
        assert second.app.job_queue is not None
        (job,) = second.app.job_queue.get_jobs_by_name(check_job_name(GROUP, carol))
        assert job.next_t is not None
        # Her deadline passed while the bot was down: she still gets a minute to press.
        assert (job.next_t - dt.datetime.now(dt.UTC)).total_seconds() > 50
        await press(second, carol, "nc_")
        assert second.fake.status_of(GROUP, carol) == "member"
        assert second.fake.status_of(GROUP, bob) == "restricted"
    finally:
        await second.stop()


async def test_two_welcomes_due_at_once_name_each_newcomer_once(shop: Harness) -> None:
    await join(shop, "bob")
    await join(shop, "carol")
    welcomer = shop.app.bot_data.welcome
    await asyncio.gather(welcomer.post(GROUP), welcomer.post(GROUP))
    await shop.settle()
    assert sum("Carol" in text for text in welcomes(shop)) == 1


@pytest.mark.parametrize(("mode", "status"), [("neutral", "left"), ("soft", "member")])
async def test_a_newcomer_caught_posting_an_ad_leaves_the_pending_welcome(
    tmp_path: Path, mode: str, status: str
) -> None:
    """Removed or only called out: no greeting and no gift button for them."""
    text = policy(f"welcome:\n  wave_window: 10s\nmoderation:\n  mode: {mode}\n")
    harness = await started(tmp_path, text)
    try:
        await join(harness, "ann")
        harness.clock.advance(2)
        await join(harness, "ben")
        spammer = await join(harness, "spammer")
        await harness.say(spammer, "加我微信 vx：abc12345 领取内部优惠券")
        assert harness.fake.status_of(GROUP, spammer) == status
        harness.clock.advance(8)
        await fire(harness, welcome_job_name(GROUP))
        shared = welcomes(harness)[1]
        assert "Ben" in shared and "Spammer" not in shared
    finally:
        await harness.stop()


async def test_the_welcome_of_a_newcomer_removed_for_an_ad_is_taken_down(
    tmp_path: Path,
) -> None:
    """A welcome naming only the spammer would keep greeting them, gift button and all."""
    harness = await started(tmp_path, policy("moderation:\n  mode: neutral\n"))
    try:
        spammer = await join(harness, "spammer")
        welcome = harness.fake.bot_messages(GROUP)[-1]
        assert "Spammer" in welcome.text
        await harness.say(spammer, "加我微信 vx：abc12345 领取内部优惠券")
        assert harness.fake.status_of(GROUP, spammer) == "left"
        assert harness.fake.is_deleted(GROUP, welcome.message_id)
        harness.clock.advance(60)
        await join(harness, "ann")
        assert harness.fake.status_of(GROUP, harness.member("ann")) == "member"
        assert "Ann" in harness.fake.bot_messages(GROUP)[-1].text
    finally:
        await harness.stop()


async def test_a_welcome_shared_with_others_stays_when_one_of_them_is_removed(
    tmp_path: Path,
) -> None:
    text = policy("welcome:\n  wave_window: 10s\nmoderation:\n  mode: neutral\n")
    harness = await started(tmp_path, text)
    try:
        await join(harness, "ann")
        harness.clock.advance(2)
        await join(harness, "ben")
        spammer = await join(harness, "spammer")
        harness.clock.advance(8)
        await fire(harness, welcome_job_name(GROUP))
        shared = harness.fake.bot_messages(GROUP)[-1]
        assert "Ben" in shared.text and "Spammer" in shared.text
        await harness.say(spammer, "加我微信 vx：abc12345 领取内部优惠券")
        assert harness.fake.status_of(GROUP, spammer) == "left"
        assert not harness.fake.is_deleted(GROUP, shared.message_id), "Ben's welcome too"
    finally:
        await harness.stop()


async def test_a_newcomer_judged_in_dry_run_keeps_the_welcome(tmp_path: Path) -> None:
    text = policy("welcome:\n  wave_window: 10s\nmoderation:\n  mode: hard\n")
    harness = await started(tmp_path, text)
    try:
        await harness.say(ADMIN, "/dryrun on")
        await join(harness, "ann")
        harness.clock.advance(2)
        newcomer = await join(harness, "mei")
        await harness.say(newcomer, "加我微信 vx：abc12345 领取内部优惠券")
        assert harness.fake.status_of(GROUP, newcomer) == "member"
        harness.clock.advance(8)
        await fire(harness, welcome_job_name(GROUP))
        assert "Mei" in welcomes(harness)[1], "dry-run touches nobody, the welcome included"
    finally:
        await harness.stop()

"""Ads through the real Application and the fake Telegram: real state, not mocks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import InlineKeyboardButton

from bot.core.config import LoadedConfig
from bot.core.policy_files import PolicyLibrary
from bot.fake import ScriptError
from bot.features.moderation import main_rule
from bot.telegram.staff import StaffNote
from policies.decide import FLOOD_RULE, CompiledPolicy, decide, is_flood
from policies.facts import MemberHistory, MessageFacts
from tests.harness import ADMIN, GROUP, OWNER, STAFF, Harness, TestClock, make_config, make_world

AD = "加我微信 vx：abc12345 领取内部优惠券"
HAM = "Does the cookie box ship to Shenzhen?"


def policy(mode: str = "neutral", ladder: str = "[soft, neutral, hard]", extra: str = "") -> str:
    return (
        "extends: default\n"
        "moderation:\n"
        f"  mode: {mode}\n"
        f"  ladder: {ladder}\n"
        "  callout_interval: 30s\n"
        "  detectors:\n"
        "    links:\n"
        "      allow: [sunnysnacks.shop]\n"
        f"{extra}"
    )


@pytest.fixture
async def neutral(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.start(make_config(tmp_path, policy=policy()))
    yield harness
    await harness.stop()


async def started(tmp_path: Path, text: str, *, staff: bool = True) -> Harness:
    return await Harness.start(make_config(tmp_path, policy=text, staff=staff))


async def test_ordinary_chat_and_the_shops_own_link_are_left_alone(neutral: Harness) -> None:
    bob = neutral.member("bob")
    first = await neutral.say(bob, HAM)
    second = await neutral.say(bob, "I bought it at https://sunnysnacks.shop/cookies, love it")
    assert not neutral.fake.is_deleted(GROUP, first)
    assert not neutral.fake.is_deleted(GROUP, second)
    assert neutral.fake.calls_to("deleteMessage") == []


async def test_neutral_mode_deletes_announces_removes_and_tells_staff(neutral: Harness) -> None:
    spammer = neutral.member("dave")
    ad = await neutral.say(spammer, AD)
    assert neutral.fake.is_deleted(GROUP, ad)
    assert neutral.fake.status_of(GROUP, spammer) == "left"
    unban = neutral.fake.calls_to("unbanChatMember")[0]
    assert unban.params["only_if_banned"] is True
    announcement = neutral.texts_in(GROUP)[-1]
    assert "Dave" in announcement and "removed" in announcement
    staff_message = neutral.fake.bot_messages(STAFF)[-1]
    assert "Re-invite now" in str(staff_message.data["reply_markup"])


async def test_removed_member_is_reinvited_only_after_the_cool_down(neutral: Harness) -> None:
    spammer = neutral.member("dave")
    await neutral.say(spammer, AD)
    neutral.fake.start_private(spammer)
    await neutral.feed(neutral.fake.private_message(spammer, "/start"))
    (how_to_appeal,) = neutral.texts_in(spammer)
    assert "come back in 6h" in how_to_appeal and "https://t.me/+" not in how_to_appeal
    assert neutral.fake.calls_to("createChatInviteLink") == []
    neutral.clock.advance(6 * 3600 + 1)
    await neutral.feed(neutral.fake.private_message(spammer, "/start"))
    _, apology = neutral.texts_in(spammer)
    link = neutral.fake.calls_to("createChatInviteLink")[0].params
    assert link["member_limit"] == 1
    assert link["expire_date"] > neutral.clock.now()
    assert "https://t.me/+" in apology
    await neutral.feed(neutral.fake.private_message(spammer, "hello?"))
    assert len(neutral.texts_in(spammer)) == 2


async def test_a_pending_reinvite_survives_a_restart(tmp_path: Path) -> None:
    loaded = make_config(tmp_path, policy=policy())
    clock = TestClock()
    first = await Harness.start(loaded, clock=clock)
    spammer = first.member("dave")
    await first.say(spammer, AD)
    await first.stop()
    clock.advance(7 * 3600)
    second = await Harness.start(loaded, fake=first.fake, clock=clock)
    try:
        first.fake.start_private(spammer)
        await second.feed(first.fake.private_message(spammer, "/start"))
        assert any("https://t.me/+" in text for text in second.texts_in(spammer))
    finally:
        await second.stop()


async def test_soft_mode_calls_out_without_removing(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(mode="soft"))
    try:
        erin = harness.member("erin")
        ad = await harness.say(erin, "帮我砍一刀！拼多多 pin duo duo 点 com 免费领")
        assert harness.fake.is_deleted(GROUP, ad)
        assert harness.fake.status_of(GROUP, erin) == "member"
        callout = harness.fake.bot_messages(GROUP)[-1]
        assert "Erin" in callout.text and "red envelope" in callout.text
        assert harness.fake.calls_to("banChatMember") == []
    finally:
        await harness.stop()


async def test_a_repeat_offender_climbs_the_ladder(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(mode="soft"))
    try:
        frank = harness.member("frank")
        await harness.say(frank, "Cheap followers, add my WeChat wx_fast888")
        assert harness.fake.status_of(GROUP, frank) == "member"
        harness.clock.advance(60)
        await harness.say(frank, "Last chance, add my WeChat wx_fast888")
        assert harness.fake.status_of(GROUP, frank) == "left"
        harness.clock.advance(60)
        harness.fake.add_member(GROUP, frank)
        await harness.say(frank, "I'm back, add my WeChat wx_fast888")
        assert harness.fake.status_of(GROUP, frank) == "kicked"
    finally:
        await harness.stop()


async def test_got_it_on_a_call_out_keeps_its_warning_the_next_ad_removes(
    tmp_path: Path,
) -> None:
    # The call-out says the next ad removes the poster: pressing its button must not turn
    # that into one more call-out.
    harness = await started(tmp_path, policy(mode="soft"))
    try:
        frank = harness.member("frank")
        await harness.say(frank, "Cheap followers, add my WeChat wx_fast888")
        callout = harness.fake.bot_messages(GROUP)[-1]
        assert "Next time the bot removes you" in callout.text
        rows = (callout.data.get("reply_markup") or {})["inline_keyboard"]
        got_it = next(b for row in rows for b in row if "Got it" in b["text"])
        await harness.feed(
            harness.fake.press_button(GROUP, callout.message_id, frank, got_it["callback_data"])
        )
        assert "Thanks" in harness.fake.bot_messages(GROUP)[-1].text
        harness.clock.advance(60)
        await harness.say(frank, "Last chance, add my WeChat wx_fast888")
        assert harness.fake.status_of(GROUP, frank) == "left"
    finally:
        await harness.stop()


async def test_a_call_out_waiting_for_its_interval_goes_out_at_a_graceful_stop(
    tmp_path: Path,
) -> None:
    harness = await started(tmp_path, policy(mode="soft"))
    stopped = False
    try:
        await harness.say(harness.member("frank"), "Cheap followers, add my WeChat wx_fast888")
        await harness.say(harness.member("gina"), "Cheap followers, add my WeChat wx_gina777")
        assert not any("Gina" in text for text in harness.texts_in(GROUP)), "it waits"
        await harness.stop()
        stopped = True
        assert any("Gina" in text for text in harness.texts_in(GROUP))
    finally:
        if not stopped:
            await harness.stop()


async def test_a_staff_backlog_goes_out_whole_at_a_graceful_stop(tmp_path: Path) -> None:
    # One interval sends a few messages; the rest would wait for a job queue that stopped.
    harness = await started(tmp_path, policy())
    for n in range(80):
        button = InlineKeyboardButton("Undo", callback_data=f"x{n}")
        harness.services.staff.add(StaffNote(f"note {n}", ((button,),)))
    await harness.stop()
    told = "\n".join(harness.texts_in(STAFF))
    assert len(harness.texts_in(STAFF)) > 3, "more than one interval's worth"
    assert all(f"note {n}\n" in told + "\n" for n in range(80)), told


async def test_offences_older_than_the_window_do_not_count(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(mode="soft", extra="  window: 1d\n"))
    try:
        frank = harness.member("frank")
        await harness.say(frank, "add my WeChat wx_fast888")
        harness.clock.advance(2 * 86400)
        await harness.say(frank, "add my WeChat wx_fast888")
        assert harness.fake.status_of(GROUP, frank) == "member"
    finally:
        await harness.stop()


async def test_mute_ladder_passes_an_absolute_until_date(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(mode="soft", ladder="[mute 1d, mute 7d, hard]"))
    try:
        gina = harness.member("gina")
        await harness.say(gina, "add my WeChat wx_fast888")
        (restrict,) = harness.fake.calls_to("restrictChatMember")
        until = restrict.params["until_date"]
        assert until == pytest.approx(harness.clock.now() + 86400, abs=2)
        assert harness.fake.status_of(GROUP, gina) == "restricted"
        assert "muted for 1d" in harness.texts_in(GROUP)[-1]
    finally:
        await harness.stop()


async def test_hard_mode_bans_and_reminds_about_refunds(tmp_path: Path) -> None:
    text = policy(mode="hard") + "  paid_group: true\n"
    harness = await started(tmp_path, text)
    try:
        hank = harness.member("hank")
        ad = await harness.say(hank, "💰日赚500 刷单兼职，加V信 abc778899")
        assert harness.fake.is_deleted(GROUP, ad)
        assert harness.fake.status_of(GROUP, hank) == "kicked"
        staff_texts = harness.texts_in(STAFF)
        assert any("Banned" in text for text in staff_texts)
        assert any("refund" in text for text in staff_texts)
    finally:
        await harness.stop()


async def test_a_message_edited_into_an_ad_is_caught(neutral: Harness) -> None:
    gina = neutral.member("gina")
    clean = await neutral.say(gina, "Hello everyone, happy to be here")
    assert not neutral.fake.is_deleted(GROUP, clean)
    await neutral.feed(
        neutral.fake.edit_message(GROUP, clean, "Free gifts 👉 t.me/+FreeGifts add QQ 88771234")
    )
    assert neutral.fake.is_deleted(GROUP, clean)


async def test_admins_and_anonymous_admins_are_exempt(neutral: Harness) -> None:
    by_admin = await neutral.say(ADMIN, AD)
    anonymous = await neutral.say(OWNER, AD, sender_chat=GROUP)
    assert not neutral.fake.is_deleted(GROUP, by_admin)
    assert not neutral.fake.is_deleted(GROUP, anonymous)


async def test_raid_call_outs_collapse_into_one_message(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(mode="soft"))
    try:
        spammers = [harness.member(f"spammer{n}") for n in range(5)]
        for index, spammer in enumerate(spammers):
            await harness.say(spammer, f"add my WeChat wx_promo{index}77 for deals")
        callouts = harness.texts_in(GROUP)
        assert len(callouts) == 1
        harness.clock.advance(31)
        assert harness.app.job_queue is not None
        (delayed,) = harness.app.job_queue.get_jobs_by_name(f"qunbot.PublicNotices.{GROUP}")
        await delayed.run(harness.app)
        collapsed = harness.texts_in(GROUP)[-1]
        assert all(f"Spammer{n}" in collapsed for n in range(1, 5))
        assert all(
            harness.fake.is_deleted(GROUP, m.message_id)
            for m in harness.fake.messages(GROUP, include_deleted=True)
            if m.sender_id in spammers
        )
    finally:
        await harness.stop()


async def test_missing_rights_alert_the_staff_once_per_problem(tmp_path: Path) -> None:
    clock = TestClock()
    fake = make_world(clock)
    fake.set_bot_rights(GROUP, can_delete_messages=False, can_restrict_members=False)
    loaded: LoadedConfig = make_config(tmp_path, policy=policy(mode="hard"))
    harness = await Harness.start(loaded, fake=fake, clock=clock)
    try:
        for name in ("a", "b", "c"):
            await harness.say(harness.member(name), AD)
        await harness.services.staff.flush(STAFF)
        staff_text = "\n".join(harness.texts_in(STAFF))
        assert staff_text.count("qunbot needs the Ban users right") == 1
        assert staff_text.count("qunbot needs the Delete messages right") == 1
        assert harness.fake.status_of(GROUP, harness.users["a"]) == "member"
    finally:
        await harness.stop()


async def test_group_state_follows_a_migration(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(mode="soft"))
    try:
        frank = harness.member("frank")
        await harness.say(frank, "add my WeChat wx_fast888")
        store = harness.services.store
        assert await store.offences.count_within(GROUP, frank, 0) == 1
        update = {
            "update_id": 999999,
            "message": {
                "message_id": 999,
                "date": int(harness.clock.now()),
                "chat": {"id": GROUP, "type": "group", "title": "Sunny Snacks"},
                "from": {"id": OWNER, "is_bot": False, "first_name": "Olga"},
                "migrate_to_chat_id": -1009999,
            },
        }
        await harness.feed(update)
        assert await store.offences.count_within(-1009999, frank, 0) == 1
    finally:
        await harness.stop()


async def test_a_neutral_removal_in_a_basic_group_removes_without_an_alarm(tmp_path: Path) -> None:
    """A basic group (type `group`) has no bans to lift: the removal is the whole of it."""
    clock = TestClock()
    fake = make_world(clock)
    fake.chats[GROUP].type = "group"
    harness = await Harness.start(
        make_config(tmp_path, policy=policy(mode="neutral")), fake=fake, clock=clock
    )
    try:
        dave = harness.member("dave")
        ad = await harness.say(dave, AD)
        await harness.settle()
        assert harness.fake.is_deleted(GROUP, ad)
        assert harness.fake.status_of(GROUP, dave) in ("kicked", "left")
        assert harness.fake.calls_to("banChatMember")
        await harness.services.staff.flush(STAFF)
        staff = "\n".join(harness.texts_in(STAFF))
        assert "Removed" in staff and "supergroup" not in staff.lower(), staff
    finally:
        await harness.stop()


async def test_a_thank_you_storm_is_one_short_mute_never_an_ad_or_a_kick(tmp_path: Path) -> None:
    harness = await started(tmp_path, policy(mode="soft"))
    try:
        tg, bob = harness.fake, harness.member("bob")
        harness.clock.advance(90 * 86400)  # a long-time customer
        said = 0
        with pytest.raises(ScriptError):  # muted: Telegram lets them post no more
            for _ in range(12):
                await harness.say(bob, "Thank you boss!")
                said += 1
        assert said == 8
        (mute,) = tg.calls_to("restrictChatMember")
        assert mute.params["user_id"] == bob
        assert tg.calls_to("banChatMember") == []
        assert tg.status_of(GROUP, bob) == "restricted"
        await harness.app.bot_data.moderation.enforcer.notices.flush(GROUP)
        (notice,) = harness.texts_in(GROUP)
        assert "Bob" in notice and "breather" in notice and "ad" not in notice.split()
        assert await harness.services.store.offences.count_within(GROUP, bob, 0.0) == 0
        await harness.services.staff.flush(STAFF)
        (note,) = [t for t in harness.texts_in(STAFF) if "Bob" in t]
        assert note.startswith("🐢") and "(#1, mute 5m)" in note, "slowed down, nothing deleted"
        harness.clock.advance(3600)
        tg.add_member(GROUP, bob)  # the mute is over
        ad = await harness.say(bob, AD)
        assert tg.is_deleted(GROUP, ad)
        assert tg.calls_to("banChatMember") == [], "the ad is bob's first offence: a call-out"
    finally:
        await harness.stop()


def test_an_ad_posted_in_a_burst_is_filed_under_the_ad_not_the_flood() -> None:
    """The flood's 1.0 outweighs each of the ad's hits; filed under the flood, the offence
    would fall off the ladder at the next reload."""
    policy = PolicyLibrary(None).load("shop-zh")
    burst = MemberHistory(recent_message_times=tuple(1000.0 - n for n in range(8)))
    text = "兼职日结 私聊我领取内部优惠券"
    facts = MessageFacts(chat_id=GROUP, message_id=1, user_id=5, date=1000.0, text=text)
    verdict = decide(facts, CompiledPolicy.compile(policy), burst, 1000.0)
    assert verdict.spam and not is_flood(verdict)
    assert any(hit.rule == FLOOD_RULE for hit in verdict.hits)
    assert main_rule(verdict) != FLOOD_RULE

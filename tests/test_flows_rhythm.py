"""Scheduled posts and countdowns through the real Application, under a test clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.harness import GROUP, OWNER, STAFF, Harness, TestClock, make_config

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY_8AM = dt.datetime(2026, 5, 11, 8, 0, tzinfo=ZONE).timestamp()

GREETING = """\
extends: default
rhythm:
  schedules:
    - id: morning
      at: "08:30"
      text: ["Good morning, {group}! ☀️ ({date})", "Morning, {group}! 🍵"]
"""

CAMPAIGN = """\
extends: default
rhythm:
  campaigns:
    - id: weekend
      name: Weekend flash sale
      starts_at: "2026-05-16 20:00"
      duration: 2h
      pin: [announce, start]
"""


def local(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, ZONE).strftime("%a %H:%M")


async def start(tmp_path: Path, policy: str, clock: TestClock) -> Harness:
    return await Harness.start(make_config(tmp_path, policy=policy), clock=clock)


async def run_until(harness: Harness, until: float) -> None:
    """Let time pass as if the bot ran throughout: a tick at every due post."""
    rhythm = harness.app.bot_data.rhythm
    while (due := await rhythm.next_due(harness.clock.now(), until)) is not None:
        harness.clock.value = due + 5
        await rhythm.tick()
    harness.clock.value = until
    await rhythm.tick()
    await harness.settle()


def greetings(harness: Harness) -> list[str]:
    return [text for text in harness.texts_in(GROUP) if "orning" in text]


async def test_a_scheduled_post_goes_out_once_at_its_time(tmp_path: Path) -> None:
    harness = await start(tmp_path, GREETING, TestClock(MONDAY_8AM))
    try:
        harness.fake.add_member(STAFF, OWNER)
        await harness.feed(harness.fake.user_message(STAFF, OWNER, "Morning, team"))
        assert greetings(harness) == []
        harness.clock.advance(30 * 60 + 10)
        await harness.app.bot_data.rhythm.tick()
        await harness.app.bot_data.rhythm.tick()
        (greeting,) = greetings(harness)
        assert "Sunny Snacks" in greeting
        assert not any("☀️" in text for text in harness.texts_in(STAFF)), "never the staff chat"
    finally:
        await harness.stop()


async def test_a_restart_posts_nothing_twice(tmp_path: Path) -> None:
    loaded = make_config(tmp_path, policy=GREETING)
    clock = TestClock(MONDAY_8AM)
    first = await Harness.start(loaded, clock=clock)
    clock.advance(30 * 60 + 5)
    await first.app.bot_data.rhythm.tick()
    assert len(greetings(first)) == 1
    await first.stop()
    clock.advance(60)
    second = await Harness.start(loaded, fake=first.fake, clock=clock)
    assert len(greetings(second)) == 1, "restarting right after a post does not repeat it"
    await second.stop()

    clock.value = MONDAY_8AM + 86400 + 30 * 60 + 10 * 60
    third = await Harness.start(loaded, fake=first.fake, clock=clock)
    assert len(greetings(third)) == 2, "missed by 10 minutes (less than the grace): sent once"
    await third.stop()
    fourth = await Harness.start(loaded, fake=first.fake, clock=clock)
    assert len(greetings(fourth)) == 2
    await fourth.stop()

    clock.value = MONDAY_8AM + 2 * 86400 + 30 * 60 + 40 * 60
    fifth = await Harness.start(loaded, fake=first.fake, clock=clock)
    try:
        assert len(greetings(fifth)) == 2, "missed by 40 minutes: skipped"
        decided = await fifth.services.store.rhythm.decided_since(MONDAY_8AM)
        assert len([key for _, key, _ in decided if key == "schedule:morning"]) == 3
    finally:
        await fifth.stop()


async def test_a_post_interrupted_mid_send_is_not_sent_again(tmp_path: Path) -> None:
    loaded = make_config(tmp_path, policy=GREETING)
    clock = TestClock(MONDAY_8AM)
    first = await Harness.start(loaded, clock=clock)
    due = MONDAY_8AM + 30 * 60
    await first.services.store.rhythm.claim(
        GROUP, "schedule:morning", due, promotional=False, now=due
    )
    await first.stop()
    clock.value = due + 60
    second = await Harness.start(loaded, fake=first.fake, clock=clock)
    try:
        assert greetings(second) == []
        async with second.services.store.db.execute("SELECT status FROM rhythm_posts") as cursor:
            assert [row[0] for row in await cursor.fetchall()] == ["interrupted"]
    finally:
        await second.stop()


async def test_the_countdown_timeline_with_pins(tmp_path: Path) -> None:
    harness = await start(tmp_path, CAMPAIGN, TestClock(MONDAY_8AM))
    try:
        await run_until(harness, MONDAY_8AM + 6 * 86400)
        posts = harness.fake.bot_messages(GROUP)
        timeline = [(local(message.data["date"]), message.text.split()[0]) for message in posts]
        assert timeline == [
            ("Wed 10:00", "📣"),
            ("Thu 10:00", "📣"),
            ("Fri 10:00", "🧧"),
            ("Sat 09:00", "☀️"),
            ("Sat 19:00", "⏰"),
            ("Sat 20:00", "🚀"),
            ("Sat 22:00", "🙏"),
        ]
        assert "starts in 3 days: 05-16 at 20:00" in posts[0].text
        pins = [call.params["message_id"] for call in harness.fake.calls_to("pinChatMessage")]
        unpins = [call.params["message_id"] for call in harness.fake.calls_to("unpinChatMessage")]
        announce_1, announce_2, start_post = posts[0], posts[1], posts[5]
        assert pins == [announce_1.message_id, announce_2.message_id, start_post.message_id]
        assert unpins == [announce_1.message_id, announce_2.message_id, start_post.message_id]
        assert not any(message.pinned for message in harness.fake.messages(GROUP))
    finally:
        await harness.stop()


async def test_the_staff_are_warned_when_promotions_would_break_the_cap(tmp_path: Path) -> None:
    crowded = CAMPAIGN + (
        "  schedules:\n"
        '    - {id: deal, at: "12:00", days: fri, promotional: true, text: "Friday deal"}\n'
    )
    harness = await start(tmp_path, crowded, TestClock(MONDAY_8AM))
    try:
        await harness.settle()
        (warning,) = [text for text in harness.texts_in(STAFF) if "will not go out" in text]
        assert "05-16 20:00 campaign 'weekend' (start)" in warning
        assert "cap: 5 in 3 days" in warning
        await run_until(harness, MONDAY_8AM + 6 * 86400)
        texts = harness.texts_in(GROUP)
        assert any("Friday deal" in text for text in texts)
        assert not any("has started" in text for text in texts), "the capped post is skipped"
        assert any("was not posted, to spare the members" in t for t in harness.texts_in(STAFF))
    finally:
        await harness.stop()


async def test_quiet_hours_hold_back_a_post(tmp_path: Path) -> None:
    quiet = GREETING.replace("rhythm:\n", 'rhythm:\n  quiet_hours: "22:30-08:45"\n')
    harness = await start(tmp_path, quiet, TestClock(MONDAY_8AM))
    try:
        await harness.settle()
        assert any("quiet hours" in text for text in harness.texts_in(STAFF))
        await run_until(harness, MONDAY_8AM + 3600)
        assert greetings(harness) == []
    finally:
        await harness.stop()


async def test_the_weekly_report_reaches_the_staff_with_a_chart(tmp_path: Path) -> None:
    harness = await start(tmp_path, "extends: default\n", TestClock(MONDAY_8AM - 86400))
    try:
        bob = harness.member("bob")
        await harness.say(bob, "Hello! Do you ship to Hangzhou?")
        await run_until(harness, MONDAY_8AM + 3600)
        (photo,) = harness.fake.calls_to("sendPhoto")
        assert photo.params["chat_id"] == STAFF
        caption = photo.params["caption"]
        assert "Weekly report for Sunny Snacks" in caption
        assert "Sun 05-10" in caption and "Mon 05-11" not in caption
        assert photo.params["photo"].content.startswith(b"\x89PNG")
        await harness.app.bot_data.rhythm.tick()
        assert len(harness.fake.calls_to("sendPhoto")) == 1
    finally:
        await harness.stop()


async def test_no_scheduled_post_goes_to_a_group_the_config_does_not_list(tmp_path: Path) -> None:
    stranger = -1001000000666
    harness = await start(tmp_path, GREETING, TestClock(MONDAY_8AM))
    try:
        harness.fake.add_chat(stranger, "supergroup", "Free coupons 4 all")
        harness.fake.bot_is_admin(stranger)
        await harness.services.store.groups.ensure(stranger, "Free coupons 4 all", MONDAY_8AM)
        await run_until(harness, MONDAY_8AM + 3600)
        assert len(greetings(harness)) == 1
        assert harness.texts_in(stranger) == []
    finally:
        await harness.stop()

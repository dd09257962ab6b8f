"""Daily counters, /stats with its chart, /inactive, size alerts, `qunbot stats` and check."""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli.check import rhythm_warnings
from bot.cli.main import main
from bot.fake.models import StoredMessage
from bot.features.charts import CHART_HEIGHT, CHART_WIDTH
from bot.features.stats import flush_stats
from tests.harness import ADMIN, GROUP, OWNER, STAFF, Harness, TestClock, make_config

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY_10AM = dt.datetime(2026, 5, 11, 10, 0, tzinfo=ZONE).timestamp()
DAY = 86400.0
AD = "加我微信 vx：abc12345 领取内部优惠券"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which must come first."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def started(tmp_path: Path, policy: str = "extends: default\n", **clock: Any) -> Harness:
    return await Harness.start(
        make_config(tmp_path, policy=policy), clock=TestClock(clock.get("start", MONDAY_10AM))
    )


async def play_a_week(harness: Harness) -> None:
    """Monday to Sunday in Sunny Snacks, with what each day should count."""
    bob, carol = harness.member("bob"), harness.member("carol")
    await harness.say(bob, "Morning! Is the matcha box back in stock?")
    await harness.say(bob, "I'd like two boxes")
    await harness.say(carol, "Me too!")
    await harness.feed(harness.fake.join(GROUP, harness.member("dave", joined=False)))
    harness.clock.advance(DAY)
    await harness.say(harness.member("eve"), AD)
    await harness.say(bob, "Thanks for cleaning that up")
    harness.clock.advance(DAY)
    await harness.feed(harness.fake.leave(GROUP, carol))
    harness.clock.advance(4 * DAY)
    await harness.say(ADMIN, "Have a nice Sunday everyone")
    await harness.say(OWNER, "Posting as the group", sender_chat=GROUP)
    harness.services.stats.count(GROUP, "gifts_claimed")
    harness.services.stats.count(GROUP, "complaints_opened", 2)


async def test_the_counters_after_a_scripted_week(tmp_path: Path) -> None:
    harness = await started(tmp_path)
    try:
        await play_a_week(harness)
        async with harness.services.store.db.execute("SELECT COUNT(*) FROM daily_stats") as cur:
            assert (await cur.fetchone())[0] == 0, "nothing is written per message"  # type: ignore[index]
        await flush_stats(harness.services)
        days = await harness.services.store.stats.by_day(GROUP, "2026-05-11", "2026-05-17")
        assert days == {
            "2026-05-11": {"messages": 3, "active": 2, "joins": 1},
            "2026-05-12": {"messages": 1, "active": 1, "ads_removed": 1},
            "2026-05-13": {"leaves": 1},
            "2026-05-17": {
                "messages": 2,
                "active": 1,
                "gifts_claimed": 1,
                "complaints_opened": 2,
            },
        }
        assert (
            await harness.services.store.stats.active_between(GROUP, "2026-05-11", "2026-05-17")
            == 3
        )
        with pytest.raises(ValueError, match="unknown counter"):
            harness.services.stats.count(GROUP, "likes")
    finally:
        await harness.stop()


async def test_stats_answers_with_a_table_and_a_png_chart(tmp_path: Path) -> None:
    harness = await started(tmp_path)
    try:
        await play_a_week(harness)
        await harness.say(ADMIN, "/stats 7d")
        (photo,) = harness.fake.calls_to("sendPhoto")
        assert photo.params["chat_id"] == GROUP
        assert png_size(photo.params["photo"].content) == (CHART_WIDTH, CHART_HEIGHT)
        caption = photo.params["caption"]
        assert "Sunny Snacks: the last 7 days" in caption
        rows = caption.split("<pre>")[1].split("</pre>")[0].splitlines()
        assert rows[0].split() == [
            "day",
            "msgs",
            "active",
            "joins",
            "left",
            "ads",
            "compl",
            "gifts",
        ]
        assert rows[1].split() == ["Mon", "05-11", "3", "2", "1", "0", "0", "0", "0"]
        assert rows[-1].split() == ["total", "7", "3", "1", "1", "1", "2", "1"]
    finally:
        await harness.stop()


async def test_stats_is_for_admins_and_explains_its_arguments(tmp_path: Path) -> None:
    harness = await started(tmp_path)
    try:
        await harness.say(harness.member("bob"), "/stats")
        await harness.say(ADMIN, "/stats week")
        await harness.say(ADMIN, "/stats 30d")
        texts = harness.texts_in(GROUP)
        assert "Only admins of this group can use this command." in texts
        assert any(text.startswith("Usage: /stats") for text in texts)
        (photo,) = harness.fake.calls_to("sendPhoto")
        rows = photo.params["caption"].split("<pre>")[1].split("</pre>")[0].splitlines()
        assert len(rows) == 1 + 5 + 1, "30 days are shown a week per row"
    finally:
        await harness.stop()


def newest_with_buttons(harness: Harness) -> StoredMessage:
    return [m for m in harness.fake.bot_messages(GROUP) if m.data.get("reply_markup")][-1]


def button(message: StoredMessage, label: str) -> str:
    rows = message.data["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if label in b["text"])


async def zombies(harness: Harness) -> dict[str, int]:
    """Bob and Carol go silent, as do an admin and a trusted member; Dave stays active."""
    people = {name: harness.member(name) for name in ("bob", "erin", "dave")}
    await harness.say(people["bob"], "hello")
    await harness.say(people["erin"], "hello")
    await harness.say(ADMIN, "hello")
    people["carol"] = harness.member("carol", joined=False)
    await harness.feed(harness.fake.join(GROUP, people["carol"]))
    await harness.services.store.members.set_trusted(GROUP, people["erin"], True, 0)
    harness.clock.advance(40 * DAY)
    await harness.say(people["dave"], "still here!")
    return people


async def test_inactive_lists_the_silent_but_never_admins_or_trusted(tmp_path: Path) -> None:
    harness = await started(tmp_path)
    try:
        await zombies(harness)
        await harness.say(ADMIN, "/inactive 30d")
        listing = harness.texts_in(GROUP)[-1]
        assert listing.startswith("2 member(s) silent for 30d")
        assert "Bob" in listing and "Carol" in listing
        assert not any(name in listing for name in ("Adam", "Erin", "Dave"))
        for wrong in ("/inactive", "/inactive 2h", "/inactive 30d now"):
            await harness.say(ADMIN, wrong)
            assert harness.texts_in(GROUP)[-1].startswith("Usage: /inactive")
        await harness.say(harness.users["bob"], "/inactive 30d")
        assert harness.texts_in(GROUP)[-1] == "Only admins of this group can use this command."
    finally:
        await harness.stop()


async def test_removal_needs_an_admins_confirmation(tmp_path: Path) -> None:
    harness = await started(tmp_path)
    try:
        people = await zombies(harness)
        await harness.say(ADMIN, "/inactive 30d remove")
        confirm = newest_with_buttons(harness)
        data = button(confirm, "Remove 2")
        await harness.feed(
            harness.fake.press_button(GROUP, confirm.message_id, people["dave"], data)
        )
        assert harness.fake.status_of(GROUP, people["bob"]) == "member", "a member cannot confirm"
        (refusal,) = harness.fake.callback_queries.values()
        assert refusal.answer is not None and "Only an admin" in refusal.answer["text"]

        await harness.feed(harness.fake.press_button(GROUP, confirm.message_id, ADMIN, data))
        assert harness.fake.status_of(GROUP, people["bob"]) == "left"
        assert harness.fake.status_of(GROUP, people["carol"]) == "left"
        assert harness.fake.status_of(GROUP, ADMIN) == "administrator"
        assert harness.fake.status_of(GROUP, people["erin"]) == "member"
        assert harness.fake.status_of(GROUP, people["dave"]) == "member"
        unbans = harness.fake.calls_to("unbanChatMember")
        assert [call.params["only_if_banned"] for call in unbans] == [True, True]
        assert "removed 2 member(s) silent for 30d" in harness.fake.messages(GROUP)[-1].text
        assert any("removed 2 member(s)" in text for text in harness.texts_in(STAFF))
        entries = await harness.services.store.audit.recent(GROUP)
        assert sum(entry.action == "inactive-removed" for entry in entries) == 2

        await harness.say(ADMIN, "/inactive 30d")
        assert harness.texts_in(GROUP)[-1] == "No member has been silent for 30d."
    finally:
        await harness.stop()


async def test_a_stale_confirmation_expires(tmp_path: Path) -> None:
    harness = await started(tmp_path)
    try:
        people = await zombies(harness)
        await harness.say(ADMIN, "/inactive 30d remove")
        confirm = newest_with_buttons(harness)
        harness.clock.advance(2 * 3600)
        await harness.feed(
            harness.fake.press_button(GROUP, confirm.message_id, ADMIN, button(confirm, "Remove"))
        )
        assert harness.fake.status_of(GROUP, people["bob"]) == "member"
        await harness.say(ADMIN, "/inactive 30d remove")
        again = newest_with_buttons(harness)
        await harness.feed(
            harness.fake.press_button(GROUP, again.message_id, ADMIN, button(again, "Cancel"))
        )
        assert harness.fake.status_of(GROUP, people["bob"]) == "member"
        assert harness.fake.messages(GROUP)[-1].text == "Cancelled: nobody was removed."
    finally:
        await harness.stop()


async def test_the_staff_hear_once_when_the_group_grows_past_a_size(tmp_path: Path) -> None:
    harness = await started(tmp_path, "extends: default\nstats:\n  size_alerts: [6]\n")
    try:

        async def join(name: str) -> None:
            harness.clock.advance(61)
            await harness.feed(harness.fake.join(GROUP, harness.member(name, joined=False)))

        def alerts() -> list[str]:
            return [text for text in harness.texts_in(STAFF) if "members: past" in text]

        for name in ("a", "b", "c"):
            await join(name)
        assert alerts() == [
            "👥 Sunny Snacks now has 6 members: past 6. 200-300 is a healthy size."
        ]
        await join("d")
        for name in ("a", "b", "c"):
            await harness.feed(harness.fake.leave(GROUP, harness.users[name]))
        await join("e")
        assert len(alerts()) == 1, "no second alert without falling below the size first"
        await join("f")
        assert len(alerts()) == 2, "grew past it again"
    finally:
        await harness.stop()


async def stats_after_a_week(tmp_path: Path, language: str, since: str) -> None:
    """`qunbot stats` over a week the bot played, up to 2026-05-17; exits 0."""
    harness = await started(tmp_path)
    await play_a_week(harness)
    await harness.stop()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"{language}database: qunbot.db\npolicies_dir: policies\ndefault_policy: shop\n"
        f"groups: [{{chat_id: {GROUP}, policy: shop}}]\n",
        encoding="utf-8",
    )
    arguments = ["stats", "--group", str(GROUP), "--since", since, "--until", "2026-05-17"]
    with pytest.raises(SystemExit) as exit_code:
        await asyncio.to_thread(main, [*arguments, str(config)])
    assert exit_code.value.code == 0


async def test_qunbot_stats_prints_the_same_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await stats_after_a_week(tmp_path, "", "7d")
    out = capsys.readouterr().out
    assert "Sunny Snacks: 2026-05-11 to 2026-05-17 (Asia/Shanghai)" in out
    lines = out.splitlines()
    assert lines[2].split() == ["Mon", "05-11", "3", "2", "1", "0", "0", "0", "0"]
    assert lines[-1].split() == ["total", "6", "3", "1", "1", "1", "2", "1"]


def test_qunbot_check_warns_about_posts_that_would_be_skipped(tmp_path: Path) -> None:
    policy = (
        "extends: default\nrhythm:\n"
        '  campaigns: [{id: weekend, name: Sale, starts_at: "2026-05-16 20:00"}]\n'
        '  schedules: [{id: deal, at: "12:00", days: fri, promotional: true, text: Deal}]\n'
    )
    loaded = make_config(tmp_path, policy=policy)
    notes = rhythm_warnings(loaded, MONDAY_10AM)
    assert notes == [
        "policy 'shop': would not post 05-16 20:00 campaign 'weekend' (start): already 5 "
        "promotional posts from 05-14 to 05-16 (cap: 5 in 3 days)"
    ]
    assert rhythm_warnings(loaded, MONDAY_10AM + 30 * DAY)[-1].endswith("started in the past")


async def test_qunbot_stats_dashes_the_days_before_qunbot_and_speaks_the_config_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await stats_after_a_week(tmp_path, "language: zh\n", "9d")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Sunny Snacks：2026-05-09 至 2026-05-17（Asia/Shanghai）"
    assert lines[2].split() == ["周六", "05-09", "–", "–", "–", "–", "–", "–", "–"]
    assert lines[3].split() == ["周日", "05-10", "–", "–", "–", "–", "–", "–", "–"]
    assert lines[4].split() == ["周一", "05-11", "3", "2", "1", "0", "0", "0", "0"]
    assert lines[-1].split()[1:] == ["6", "3", "1", "1", "1", "2", "1"]

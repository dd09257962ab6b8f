"""The door for effects: a group in dry-run is touched by no feature, by construction; and the
one membership predicate counts a muted member who left as gone."""

from __future__ import annotations

from pathlib import Path

from bot.fake.models import Member
from tests.harness import ADMIN, GROUP, STAFF, Harness, TestClock, make_config, make_world
from tests.test_flows_stats import button, newest_with_buttons, zombies
from tests.test_flows_welcome import CHECK, fire, join
from tests.test_flows_welcome import policy as welcome_policy

SISTER = -1001000000555
AD = "加我微信 vx：abc12345 领取内部优惠券"
MEMBER_EFFECTS = ("banChatMember", "unbanChatMember", "restrictChatMember", "banChatSenderChat")
"""What acts on a member; deleting members' messages is checked message by message."""


def effects_on(harness: Harness, chat_id: int) -> list[str]:
    return [
        call.method
        for call in harness.fake.calls
        if call.method in MEMBER_EFFECTS and call.params.get("chat_id") == chat_id
    ]


async def dry_run(harness: Harness) -> None:
    await harness.say(ADMIN, "/dryrun on")
    assert harness.texts_in(GROUP)[-1] == "Dry-run is on."


async def staff_text(harness: Harness) -> str:
    await harness.services.staff.flush(STAFF)
    return "\n".join(harness.texts_in(STAFF))


async def test_dry_run_mutes_and_removes_no_newcomer(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path, policy=welcome_policy(CHECK)))
    try:
        await dry_run(harness)
        bob = await join(harness, "bob")
        assert harness.fake.status_of(GROUP, bob) == "member"
        harness.clock.advance(121)
        await fire(harness, f"qunbot.newcomer.{GROUP}.{bob}")
        assert harness.fake.status_of(GROUP, bob) == "member"
        assert effects_on(harness, GROUP) == []
        assert f"would mute user {bob}" in await staff_text(harness)
    finally:
        await harness.stop()


async def test_dry_run_reports_remove_nothing(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        await dry_run(harness)
        author = harness.member("author")
        post = await harness.say(author, "nice group, check my profile")
        for name in ("r1", "r2", "r3"):
            await harness.say(harness.member(name), "/report", reply_to=post)
        assert not harness.fake.is_deleted(GROUP, post)
        assert harness.fake.status_of(GROUP, author) == "member"
        assert effects_on(harness, GROUP) == []
    finally:
        await harness.stop()


async def test_dry_run_inactive_clean_up_removes_nobody(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path), clock=TestClock())
    try:
        people = await zombies(harness)
        await dry_run(harness)
        await harness.say(ADMIN, "/inactive 30d remove")
        confirm = newest_with_buttons(harness)
        data = button(confirm, "Remove 2")
        await harness.feed(harness.fake.press_button(GROUP, confirm.message_id, ADMIN, data))
        assert harness.fake.status_of(GROUP, people["bob"]) == "member"
        assert effects_on(harness, GROUP) == []
    finally:
        await harness.stop()


async def test_dry_run_manual_actions_and_undo_touch_nobody(tmp_path: Path) -> None:
    harness = await Harness.start(
        make_config(tmp_path, policy="extends: default\nmoderation:\n  mode: hard\n")
    )
    try:
        dave = harness.member("dave")
        await harness.say(dave, AD)
        assert harness.fake.status_of(GROUP, dave) == "kicked"
        before = len(effects_on(harness, GROUP))
        await dry_run(harness)
        carol = harness.member("carol")
        for text in (f"/mute {carol} 1h", f"/kick {carol}", f"/ban {carol}", f"/unban {dave}"):
            await harness.say(ADMIN, text)
        entry = await harness.services.store.audit.last_automatic(GROUP, dave)
        assert entry is not None
        await harness.app.bot_data.actions.undo(entry, ADMIN)
        assert effects_on(harness, GROUP)[before:] == []
        assert harness.fake.status_of(GROUP, carol) == "member"
        assert harness.fake.status_of(GROUP, dave) == "kicked"
    finally:
        await harness.stop()


async def test_a_network_ban_spares_a_sister_group_in_dry_run(tmp_path: Path) -> None:
    clock = TestClock()
    fake = make_world(clock)
    fake.add_chat(SISTER, "supergroup", "Sunny Snacks VIP")
    fake.bot_is_admin(SISTER)
    fake.make_admin(SISTER, ADMIN)
    network = {"name": "Sunny", "groups": [GROUP, SISTER]}
    loaded = make_config(
        tmp_path, policy="extends: default\nmoderation:\n  mode: hard\n", networks=(network,)
    )
    harness = await Harness.start(loaded, fake=fake, clock=clock)
    try:
        fake.start_private(ADMIN)
        await harness.feed(fake.private_message(ADMIN, f"/dryrun {SISTER} on"))
        dave = harness.member("dave")
        fake.add_member(SISTER, dave)
        await harness.say(dave, AD)
        assert fake.status_of(GROUP, dave) == "kicked"
        assert fake.status_of(SISTER, dave) == "member"
        assert effects_on(harness, SISTER) == []
    finally:
        await harness.stop()


async def test_a_muted_member_who_leaves_is_marked_as_left(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path))
    try:
        bob = harness.member("bob")
        await harness.say(bob, "hello")
        fake = harness.fake
        chat, user = fake.chats[GROUP], fake.users[bob]
        muted = Member(bob, "restricted", is_member=True)
        chat.members[bob] = Member(bob, "restricted", is_member=False)
        change = fake.member_change(chat, user, muted, user.to_api())
        await harness.feed({"update_id": 777001, "chat_member": change})
        members = harness.services.store.members
        still_in = await members.silent_since(GROUP, harness.clock.now() + 1, limit=10)
        assert bob not in [member.user_id for member in still_in]
    finally:
        await harness.stop()

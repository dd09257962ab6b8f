"""Admin control through the real Application and the fake: commands, audit buttons, dry-run,
reports and networks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.fake.models import StoredMessage
from handlers.admin import WHY_EXPLAINED
from tests.harness import (
    ADMIN,
    GROUP,
    OWNER,
    STAFF,
    Harness,
    TestClock,
    command,
    flush_staff,
    make_config,
    make_world,
)

AD = "加我微信 vx：abc12345 领取内部优惠券"
SISTER = -1001000000002


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.start(make_config(tmp_path))
    yield harness
    await harness.stop()


@pytest.mark.parametrize(
    "text",
    ["/mode hard", "/set moderation.mode hard", "/ban 1001", "/dryrun on", "/reload", "/why 1"],
)
async def test_members_are_refused_every_admin_command(shop: Harness, text: str) -> None:
    bob = shop.member("bob")
    assert await command(shop, bob, text) == "Only admins of this group can use this command."
    assert shop.fake.status_of(GROUP, OWNER) == "creator"


async def test_anonymous_admins_may_steer(shop: Harness) -> None:
    answer = await command(shop, OWNER, "/mode soft", sender_chat=GROUP)
    assert answer == "Mode is now soft."
    assert (await shop.services.policies.policy_for(GROUP)).policy.moderation.mode.value == "soft"


async def test_set_is_validated_by_the_schema_and_shown_by_policy(shop: Harness) -> None:
    refused = await command(shop, ADMIN, "/set moderation.reinvite_after soon")
    assert refused.startswith("Not changed: moderation.reinvite_after")
    assert await command(shop, ADMIN, "/set moderation.reinvite_after 12h") == (
        "moderation.reinvite_after = 12h"
    )
    shown = await command(shop, ADMIN, "/policy")
    assert "re-invite after 12h" in shown and "Overrides: moderation.reinvite_after = 12h" in shown


async def test_wrong_arguments_get_a_usage_line(shop: Harness) -> None:
    assert await command(shop, ADMIN, "/mode loud") == (
        "loud is not a mode: choose soft, neutral, hard."
    )
    assert (await command(shop, ADMIN, "/mode")).startswith("Mode is neutral. Usage: /mode")
    assert (await command(shop, ADMIN, "/mute")).startswith("Whom? Usage: /mute")


async def test_reload_with_broken_yaml_keeps_the_old_policy(tmp_path: Path) -> None:
    loaded = make_config(tmp_path, policy="extends: default\nmoderation:\n  mode: soft\n")
    harness = await Harness.start(loaded)
    try:
        (tmp_path / "policies" / "shop.yaml").write_text(
            "extends: default\nmoderation:\n  mood: x\n"
        )
        answer = await command(harness, ADMIN, "/reload")
        assert "Kept the old policies" in answer and "shop.yaml:3:3: moderation.mood" in answer
        assert (
            await harness.services.policies.policy_for(GROUP)
        ).policy.moderation.mode.value == "soft"
        (tmp_path / "policies" / "shop.yaml").write_text(
            "extends: default\nmoderation:\n  mode: hard\n"
        )
        assert (await command(harness, ADMIN, "/reload")).startswith("Reloaded")
        assert (
            await harness.services.policies.policy_for(GROUP)
        ).policy.moderation.mode.value == "hard"
    finally:
        await harness.stop()


async def test_a_member_trying_admin_commands_is_told_once_then_quietly_ignored(
    shop: Harness,
) -> None:
    bob = shop.member("bob")
    tries = [await shop.say(bob, "/mode hard") for _ in range(5)]
    refusals = [t for t in shop.texts_in(GROUP) if t.startswith("Only admins")]
    assert len(refusals) == 1
    assert not shop.fake.is_deleted(GROUP, tries[0]), "the refusal answers the first try"
    assert all(shop.fake.is_deleted(GROUP, later) for later in tries[1:])
    shop.clock.advance(601)
    await shop.say(bob, "/mode hard")
    assert len([t for t in shop.texts_in(GROUP) if t.startswith("Only admins")]) == 2


async def test_undo_from_the_staff_chat_restores_the_member(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode hard")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    assert shop.fake.status_of(GROUP, dave) == "kicked"
    await flush_staff(shop)
    note = shop.fake.bot_messages(STAFF)[-1]
    undo = note.data["reply_markup"]["inline_keyboard"][0][0]
    stranger = shop.member("mallory")
    await shop.feed(
        shop.fake.press_button(STAFF, note.message_id, stranger, undo["callback_data"])
    )
    assert shop.fake.status_of(GROUP, dave) == "kicked"
    await shop.feed(shop.fake.press_button(STAFF, note.message_id, ADMIN, undo["callback_data"]))
    assert shop.fake.status_of(GROUP, dave) == "left"
    assert await shop.services.store.offences.count_within(GROUP, dave, 0) == 0
    shop.fake.start_private(dave)
    await shop.feed(shop.fake.private_message(dave, "/start"))
    assert any("https://t.me/+" in text for text in shop.texts_in(dave))


async def banned_with_its_note(shop: Harness) -> tuple[int, StoredMessage, dict[str, Any]]:
    """Dave banned for an ad (hard mode): his id, the staff note and its Undo button."""
    await command(shop, ADMIN, "/mode hard")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    await flush_staff(shop)
    note = shop.fake.bot_messages(STAFF)[-1]
    return dave, note, note.data["reply_markup"]["inline_keyboard"][0][0]


async def test_an_undo_telegram_refuses_keeps_its_button_for_another_try(shop: Harness) -> None:
    dave, note, undo = await banned_with_its_note(shop)
    shop.fake.fail_next("unbanChatMember", status=400, description="Bad Request: try later")
    await shop.feed(shop.fake.press_button(STAFF, note.message_id, ADMIN, undo["callback_data"]))
    assert shop.fake.status_of(GROUP, dave) == "kicked"
    assert "could not undo" in note.text
    assert note.data["reply_markup"]["inline_keyboard"][0][0] == undo, "the button stays"
    await shop.feed(shop.fake.press_button(STAFF, note.message_id, ADMIN, undo["callback_data"]))
    assert shop.fake.status_of(GROUP, dave) == "left"
    assert "reply_markup" not in note.data or not note.data["reply_markup"]


async def test_an_undo_gives_the_staff_an_invite_for_a_member_the_bot_cannot_write_to(
    shop: Harness,
) -> None:
    _, note, undo = await banned_with_its_note(shop)
    await shop.feed(shop.fake.press_button(STAFF, note.message_id, ADMIN, undo["callback_data"]))
    assert "https://t.me/+" in note.text, "the staff can pass the invite on themselves"
    assert not any("https://t.me/+" in text for text in shop.texts_in(GROUP))


async def test_notspam_in_the_group_never_posts_an_invite_there(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode hard")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    await command(shop, ADMIN, f"/notspam {dave}")
    assert not any("https://t.me/+" in text for text in shop.texts_in(GROUP))


async def test_a_forged_callback_is_refused(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode hard")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    await flush_staff(shop)
    note = shop.fake.bot_messages(STAFF)[-1]
    genuine = note.data["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    forged = genuine[:-4] + ("0000" if not genuine.endswith("0000") else "1111")
    note.data["reply_markup"]["inline_keyboard"][0][0]["callback_data"] = forged
    await shop.feed(shop.fake.press_button(STAFF, note.message_id, ADMIN, forged))
    assert shop.fake.status_of(GROUP, dave) == "kicked"
    answers = shop.fake.calls_to("answerCallbackQuery")
    assert answers[-1].params["text"] == "This button is not valid."


async def test_dry_run_decides_but_touches_nothing(shop: Harness) -> None:
    await command(shop, ADMIN, "/dryrun on")
    dave = shop.member("dave")
    ad = await shop.say(dave, AD)
    assert not shop.fake.is_deleted(GROUP, ad)
    assert shop.fake.status_of(GROUP, dave) == "member"
    assert "dry-run" in await flush_staff(shop)
    entry = await shop.services.store.audit.for_message(GROUP, ad)
    assert entry is not None and entry.action.startswith("dry-run")
    assert await shop.services.store.offences.count_within(GROUP, dave, 0) == 0


async def test_nothing_judged_in_dry_run_reaches_the_group_after_it_ends(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode soft")
    await command(shop, ADMIN, "/dryrun on")
    dave = shop.member("dave")
    ad = await shop.say(dave, AD)
    await command(shop, ADMIN, "/dryrun off")
    await shop.app.bot_data.moderation.enforcer.notices.flush(GROUP)
    assert not [text for text in shop.texts_in(GROUP) if "Dave" in text]
    assert not shop.fake.is_deleted(GROUP, ad)


async def test_a_live_call_out_still_goes_out_when_dry_run_starts(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode soft")
    dave = shop.member("dave")
    erin = shop.member("erin")
    await shop.say(dave, AD)
    await shop.say(erin, AD)  # waits for the call-out interval
    await command(shop, ADMIN, "/dryrun on")
    await shop.app.bot_data.moderation.enforcer.notices.flush(GROUP)
    assert any("Erin" in text for text in shop.texts_in(GROUP))


async def test_a_group_served_for_the_first_time_may_start_in_dry_run(tmp_path: Path) -> None:
    loaded = make_config(tmp_path)
    loaded.config = loaded.config.model_copy(update={"start_in_dry_run": True})
    harness = await Harness.start(loaded)
    try:
        dave = harness.member("dave")
        ad = await harness.say(dave, AD)
        assert not harness.fake.is_deleted(GROUP, ad)
        assert "dry-run" in await flush_staff(harness)
        await command(harness, ADMIN, "/dryrun off")
    finally:
        await harness.stop()
    again = await Harness.start(loaded, fake=harness.fake, clock=harness.clock)
    try:
        erin = again.member("erin")
        assert again.fake.is_deleted(GROUP, await again.say(erin, AD)), "off stays off"
    finally:
        await again.stop()


async def test_why_explains_a_removal(shop: Harness) -> None:
    dave = shop.member("dave")
    await shop.say(dave, AD)
    answer = await command(shop, ADMIN, "/why 1")
    assert answer.startswith("#1 neutral: rules contact.")
    assert "WeChat" in answer


async def test_why_in_the_group_keeps_the_evidence_out_of_it(shop: Harness) -> None:
    dave = shop.member("dave")
    await shop.say(dave, AD)
    answer = await command(shop, ADMIN, "/why 1")
    assert "abc12345" not in answer and "The evidence is in the staff chat." in answer
    assert all("abc12345" not in text for text in shop.texts_in(GROUP))
    assert "abc12345" in await flush_staff(shop)
    shop.fake.start_private(ADMIN)
    await shop.feed(shop.fake.private_message(ADMIN, f"/why {GROUP} 1"))
    assert "abc12345" in shop.texts_in(ADMIN)[-1]


async def test_why_on_a_notice_naming_several_explains_each_by_the_staff_chats_ids(
    shop: Harness,
) -> None:
    await shop.say(shop.member("dave"), AD)  # named at once; the next wait for the interval
    await shop.say(shop.member("erin"), "加我微信 vx：xyz98765 领取内部优惠券")
    await shop.say(shop.member("finn"), "加我微信 vx：fff11111 领取内部优惠券")
    shop.clock.advance(120)
    await shop.app.bot_data.moderation.enforcer.notices.flush(GROUP)
    notice = shop.fake.bot_messages(GROUP)[-1]
    assert "Erin" in notice.text and "Finn" in notice.text, notice.text
    staff = await flush_staff(shop)
    removals = [line for line in staff.splitlines() if line.startswith("👋 Removed")]
    ids = {line.split(" ")[2]: line.split("(#")[1].split(",")[0] for line in removals}
    answer = await command(shop, ADMIN, "/why", reply_to=notice.message_id)
    lines = answer.splitlines()
    assert [line.split(" ")[0] for line in lines] == [f"#{ids['Erin']}", f"#{ids['Finn']}"], (
        lines,
        ids,
    )
    assert all(" neutral: rules " in line for line in lines), lines


async def test_why_on_an_older_notice_explains_the_actions_it_announced(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode soft")
    await shop.say(shop.member("dave"), AD)
    erin = shop.member("erin")
    await shop.say(erin, "加我微信 vx：xyz98765 领取内部优惠券")
    await shop.say(shop.member("finn"), "加我微信 vx：fff11111 领取内部优惠券")
    shop.clock.advance(120)
    await shop.app.bot_data.moderation.enforcer.notices.flush(GROUP)
    notice = shop.fake.bot_messages(GROUP)[-1]
    first = await shop.services.store.audit.last_automatic(GROUP, erin)
    shop.clock.advance(600)
    await shop.say(erin, "加我微信 vx：xyz98765 再送一张券")
    later = await shop.services.store.audit.last_automatic(GROUP, erin)
    assert first is not None and later is not None and later.id != first.id
    answer = await command(shop, ADMIN, "/why", reply_to=notice.message_id)
    shown = [line.split(" ")[0] for line in answer.splitlines()]
    assert f"#{first.id}" in shown and f"#{later.id}" not in shown, (shown, first.id, later.id)


async def test_why_on_a_raid_notice_explains_the_first_members_and_lists_the_rest(
    shop: Harness,
) -> None:
    for number in range(30):
        await shop.say(
            shop.member(f"spammer{number}"), f"加我微信 vx：ad{number:05d} 领取内部优惠券"
        )
    shop.clock.advance(120)
    await shop.app.bot_data.moderation.enforcer.notices.flush(GROUP)
    notice = shop.fake.bot_messages(GROUP)[-1]
    answer = await command(shop, ADMIN, "/why", reply_to=notice.message_id)
    lines = answer.splitlines()
    assert len([line for line in lines if line.startswith("#")]) == WHY_EXPLAINED, lines
    assert lines[-1].startswith(f"{30 - 1 - WHY_EXPLAINED} more: #"), lines[-1]
    rest = lines[-1].split(": ", 1)[1].split(" (")[0].split(", ")
    assert len(rest) == 30 - 1 - WHY_EXPLAINED and all(name.startswith("#") for name in rest)


async def test_member_actions_by_reply_and_by_id(shop: Harness) -> None:
    bob = shop.member("bob")
    hello = await shop.say(bob, "hello")
    await command(shop, ADMIN, "/mute 1d", reply_to=hello)
    assert shop.fake.status_of(GROUP, bob) == "restricted"
    await command(shop, ADMIN, f"/unmute {bob}")
    member = shop.fake.member(GROUP, bob)
    assert member.status == "member"
    await command(shop, ADMIN, f"/kick {bob}")
    assert shop.fake.status_of(GROUP, bob) == "left"
    await command(shop, ADMIN, f"/ban {bob}")
    assert shop.fake.status_of(GROUP, bob) == "kicked"
    await command(shop, ADMIN, f"/unban {bob}")
    assert shop.fake.status_of(GROUP, bob) == "left"


async def test_trust_exempts_and_warn_climbs(shop: Harness) -> None:
    carol = shop.member("carol")
    await command(shop, ADMIN, f"/trust {carol}")
    trusted_ad = await shop.say(carol, AD)
    assert not shop.fake.is_deleted(GROUP, trusted_ad)
    await command(shop, ADMIN, f"/untrust {carol}")
    await command(shop, ADMIN, f"/warn {carol} no links please")
    assert "an admin warned you: no links please. Next time: hard" in shop.texts_in(GROUP)[-1]
    await command(shop, ADMIN, f"/pardon {carol}")
    assert await shop.services.store.offences.count_within(GROUP, carol, 0) == 0


async def test_spam_removes_applies_the_ladder_and_learns(shop: Harness) -> None:
    erin = shop.member("erin")
    odd = await shop.say(erin, "limited offer ping me for the secret menu")
    assert not shop.fake.is_deleted(GROUP, odd)
    await command(shop, ADMIN, "/spam", reply_to=odd)
    assert shop.fake.is_deleted(GROUP, odd)
    assert shop.fake.status_of(GROUP, erin) == "left"
    assert (await shop.services.store.learned.all())[-1] == (
        "limited offer ping me for the secret menu",
        True,
    )
    frank = shop.member("frank")
    again = await shop.say(frank, "limited offer ping me for the secret menu")
    assert shop.fake.is_deleted(GROUP, again), "the scorer learned the admin's mark"


async def test_notspam_undoes_the_automatic_action(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode hard")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    assert shop.fake.status_of(GROUP, dave) == "kicked"
    answer = await command(shop, ADMIN, f"/notspam {dave}")
    assert "Undone #" in answer
    assert shop.fake.status_of(GROUP, dave) == "left"


async def test_notspam_as_a_reply_to_the_notice_undoes_and_learns_the_removed_message(
    shop: Harness,
) -> None:
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    removed = "订单号：4401 物流有问题 加我微信 vx：abc12345 帮你查"
    await shop.say(dave, removed)
    assert shop.fake.status_of(GROUP, dave) == "left"
    notice = shop.fake.bot_messages(GROUP)[-1]
    answer = await command(shop, ADMIN, "/notspam", reply_to=notice.message_id)
    assert "Undone #" in answer, answer
    assert (await shop.services.store.learned.all())[-1] == (removed, False)
    assert await shop.services.store.offences.count_within(GROUP, dave, 0.0) == 0
    trusted = await command(shop, ADMIN, "/trust", reply_to=notice.message_id)
    assert trusted.startswith("Dave is trusted"), trusted


async def test_undo_invites_back_only_a_member_who_is_not_back_already(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    shop.fake.start_private(dave)
    await shop.say(dave, AD)
    assert shop.fake.status_of(GROUP, dave) == "left"
    await shop.feed(shop.fake.join(GROUP, dave))
    answer = await command(shop, ADMIN, f"/notspam {dave}")
    assert "back in the group already" in answer, answer
    assert not [text for text in shop.texts_in(dave) if "t.me/" in text], shop.texts_in(dave)


async def test_undo_of_a_call_out_forgives_and_invites_no_one(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode soft")
    erin = shop.member("erin")
    shop.fake.start_private(erin)
    await shop.say(erin, AD)
    assert await shop.services.store.offences.count_within(GROUP, erin, 0.0) == 1
    answer = await command(shop, ADMIN, f"/notspam {erin}")
    assert "call-out taken back" in answer, answer
    assert await shop.services.store.offences.count_within(GROUP, erin, 0.0) == 0
    assert shop.texts_in(erin) == [] and shop.fake.calls_to("unbanChatMember") == []


async def newcomer(harness: Harness, name: str) -> int:
    """A member whose join qunbot saw: on probation."""
    user = harness.member(name, joined=False)
    await harness.feed(harness.fake.join(GROUP, user))
    return user


async def test_reports_reach_staff_and_enough_of_them_remove(shop: Harness) -> None:
    spammer = await newcomer(shop, "spammer")
    post = await shop.say(spammer, "nice group, check my profile")
    reporters = [shop.member(f"r{n}") for n in range(3)]
    assert await command(shop, reporters[0], "/report", reply_to=post) == (
        "Thanks! The shop's staff have been told. 🙏"
    )
    assert "again in" in await command(shop, reporters[0], "/report", reply_to=post)
    assert not shop.fake.is_deleted(GROUP, post)
    for reporter in reporters[1:]:
        await command(shop, reporter, "/report", reply_to=post)
    assert shop.fake.is_deleted(GROUP, post)
    assert "reported" in await flush_staff(shop)


async def test_reports_never_remove_an_admin(shop: Harness) -> None:
    sale = await shop.say(ADMIN, "今晚8点限时特价，全场五折！")
    for n in range(3):
        await command(shop, shop.member(f"r{n}"), "/report", reply_to=sale)
    assert not shop.fake.is_deleted(GROUP, sale)
    assert shop.fake.status_of(GROUP, ADMIN) == "administrator"
    staff = await flush_staff(shop)
    assert "reports never remove them" in staff
    assert all("Adam" not in text for text in shop.texts_in(GROUP))


async def test_a_reported_established_member_goes_to_the_staff(shop: Harness) -> None:
    regular = shop.member("regular")
    post = await shop.say(regular, "anyone selling the old cookie tins?")
    for n in range(3):
        await command(shop, shop.member(f"r{n}"), "/report", reply_to=post)
    assert not shop.fake.is_deleted(GROUP, post)
    assert shop.fake.status_of(GROUP, regular) == "member"
    await flush_staff(shop)
    card = next(m for m in shop.fake.bot_messages(STAFF) if "remove the message" in m.text)
    button = card.data["reply_markup"]["inline_keyboard"][0][0]
    assert button["text"] == "🗑 Remove as an ad"
    await shop.feed(
        shop.fake.press_button(STAFF, card.message_id, regular, button["callback_data"])
    )
    assert not shop.fake.is_deleted(GROUP, post)
    await shop.feed(shop.fake.press_button(STAFF, card.message_id, ADMIN, button["callback_data"]))
    assert shop.fake.is_deleted(GROUP, post)


async def test_newcomers_do_not_count_as_reporters(shop: Harness) -> None:
    spammer = await newcomer(shop, "spammer")
    post = await shop.say(spammer, "nice group, check my profile")
    for n in range(3):
        await command(shop, await newcomer(shop, f"sock{n}"), "/report", reply_to=post)
    assert not shop.fake.is_deleted(GROUP, post)
    assert "a newcomer: not counted" in await flush_staff(shop)


async def test_a_ban_reaches_every_group_of_the_network(tmp_path: Path) -> None:
    clock = TestClock()
    fake = make_world(clock)
    fake.add_chat(SISTER, "supergroup", "Sunny Snacks VIP")
    fake.bot_is_admin(SISTER)
    network = {"name": "Sunny", "groups": [GROUP, SISTER]}
    loaded = make_config(
        tmp_path, policy="extends: default\nmoderation:\n  mode: hard\n", networks=(network,)
    )
    harness = await Harness.start(loaded, fake=fake, clock=clock)
    try:
        dave = harness.member("dave")
        fake.add_member(SISTER, dave)
        await harness.say(dave, AD)
        assert fake.status_of(GROUP, dave) == "kicked"
        assert fake.status_of(SISTER, dave) == "kicked"
    finally:
        await harness.stop()


async def network_shop(tmp_path: Path, mode: str = "neutral") -> Harness:
    clock = TestClock()
    fake = make_world(clock)
    fake.add_chat(SISTER, "supergroup", "Sunny Snacks VIP")
    fake.bot_is_admin(SISTER)
    network = {"name": "Sunny", "groups": [GROUP, SISTER]}
    policy = f"extends: default\nmoderation:\n  mode: {mode}\n"
    loaded = make_config(tmp_path, policy=policy, networks=(network,))
    return await Harness.start(loaded, fake=fake, clock=clock)


async def test_unban_lifts_the_ban_everywhere_it_reached(tmp_path: Path) -> None:
    harness = await network_shop(tmp_path)
    try:
        dave = harness.member("dave")
        harness.fake.add_member(SISTER, dave)
        await command(harness, ADMIN, f"/ban {dave}")
        assert harness.fake.status_of(SISTER, dave) == "kicked"
        await command(harness, ADMIN, f"/unban {dave}")
        assert harness.fake.status_of(GROUP, dave) == "left"
        assert harness.fake.status_of(SISTER, dave) == "left"
    finally:
        await harness.stop()


async def test_ban_everywhere_bans_in_the_current_group_too(tmp_path: Path) -> None:
    harness = await network_shop(tmp_path)
    try:
        dave = harness.member("dave")
        harness.fake.add_member(SISTER, dave)
        await harness.say(dave, AD)
        assert harness.fake.status_of(GROUP, dave) == "left"
        await flush_staff(harness)
        note = harness.fake.bot_messages(STAFF)[-1]
        (everywhere,) = [
            button
            for row in note.data["reply_markup"]["inline_keyboard"]
            for button in row
            if button["text"].startswith("🌐 Ban everywhere #")
        ]
        press = harness.fake.press_button(
            STAFF, note.message_id, ADMIN, everywhere["callback_data"]
        )
        await harness.feed(press)
        assert harness.fake.status_of(GROUP, dave) == "kicked"
        assert harness.fake.status_of(SISTER, dave) == "kicked"
    finally:
        await harness.stop()


async def test_undoing_a_removal_touches_no_other_group(tmp_path: Path) -> None:
    harness = await network_shop(tmp_path)
    try:
        eve = harness.member("eve")
        harness.fake.add_member(SISTER, eve)
        await harness.services.door.ban(SISTER, eve)  # by the VIP group's own admins
        await harness.say(eve, AD)
        assert harness.fake.status_of(GROUP, eve) == "left"
        entry = await harness.services.store.audit.last_automatic(GROUP, eve)
        assert entry is not None
        await harness.app.bot_data.actions.undo(entry, ADMIN)
        assert harness.fake.status_of(SISTER, eve) == "kicked"
    finally:
        await harness.stop()


async def test_admins_can_act_from_the_private_chat(shop: Harness) -> None:
    bob = shop.member("bob")
    shop.fake.start_private(ADMIN)
    await shop.feed(shop.fake.private_message(ADMIN, f"/mute {GROUP} {bob} 1h"))
    assert shop.fake.status_of(GROUP, bob) == "restricted"
    shop.fake.start_private(bob)
    await shop.feed(shop.fake.private_message(bob, f"/ban {GROUP} {ADMIN}"))
    assert shop.fake.status_of(GROUP, ADMIN) == "administrator"
    assert shop.texts_in(bob)[-1] == "Only an admin of that group can do this."


async def test_status_names_missing_rights(tmp_path: Path) -> None:
    clock = TestClock()
    fake = make_world(clock)
    fake.set_bot_rights(GROUP, can_delete_messages=True, can_restrict_members=False)
    harness = await Harness.start(make_config(tmp_path), fake=fake, clock=clock)
    try:
        answer = await command(harness, ADMIN, "/status")
        assert "I need Ban users and Invite users via link" in answer
    finally:
        await harness.stop()


async def test_help_lists_only_what_the_caller_may_use(shop: Harness) -> None:
    bob = shop.member("bob")
    member_help = await command(shop, bob, "/help")
    admin_help = await command(shop, ADMIN, "/help")
    assert "/report" in member_help and "/ban" not in member_help
    assert "/ban" in admin_help and "/mode" in admin_help


async def test_command_menus_are_scoped(shop: Harness) -> None:
    scopes = {
        call.params["scope"]["type"]: call.params["commands"]
        for call in shop.fake.calls_to("setMyCommands")
    }
    assert set(scopes) == {"default", "all_chat_administrators"}
    assert len(scopes["all_chat_administrators"]) > len(scopes["default"])


async def test_without_a_staff_chat_the_bot_reports_its_rights_in_the_group(
    tmp_path: Path,
) -> None:
    branch = -1001000000077
    network = {"name": "Sunny", "groups": [GROUP, branch]}
    harness = await Harness.start(make_config(tmp_path, staff=False, networks=(network,)))
    try:
        harness.fake.add_chat(branch, "supergroup", "New branch")
        await harness.feed(harness.fake.bot_added_to_chat(branch, OWNER, admin=False))
        (report,) = harness.texts_in(branch)
        assert report.startswith("I need Delete messages and Ban users and Invite users via link")
        assert "privacy mode" in report
        await harness.feed(harness.fake.bot_added_to_chat(branch, OWNER, admin=True))
        assert harness.texts_in(branch)[-1].startswith("I have every right I need")
    finally:
        await harness.stop()


STRANGER_GROUP = -1001000000666


async def test_an_unknown_group_gets_nothing_and_the_staff_hear_of_it(shop: Harness) -> None:
    fake = shop.fake
    fake.add_chat(STRANGER_GROUP, "supergroup", "Free coupons 4 all", bot_status="left")
    fake.add_user(7777, "Stranger")
    fake.add_member(STRANGER_GROUP, 7777, status="creator")
    await shop.feed(fake.bot_added_to_chat(STRANGER_GROUP, 7777, admin=True))
    assert fake.status_of(STRANGER_GROUP, fake.bot.id) == "left"
    assert shop.texts_in(STRANGER_GROUP) == []
    note = await flush_staff(shop)
    assert "Stranger" in note and "Free coupons 4 all" in note
    assert f"chat_id: {STRANGER_GROUP}" in note and "policy: shop" in note
    assert "left it" in note


async def test_an_idle_unknown_group_answers_only_id(tmp_path: Path) -> None:
    loaded = make_config(tmp_path)
    loaded.config = loaded.config.model_copy(update={"unknown_groups": "idle"})
    harness = await Harness.start(loaded)
    fake = harness.fake
    try:
        fake.add_chat(STRANGER_GROUP, "supergroup", "Free coupons 4 all", bot_status="left")
        fake.add_user(7777, "Stranger")
        fake.add_member(STRANGER_GROUP, 7777, status="creator")
        await harness.feed(fake.bot_added_to_chat(STRANGER_GROUP, 7777, admin=True))
        assert fake.status_of(STRANGER_GROUP, fake.bot.id) == "administrator"
        assert "stays there, idle" in await flush_staff(harness)
        fake.add_user(7778, "Friend")
        await harness.feed(fake.join(STRANGER_GROUP, 7778))
        await harness.feed(fake.user_message(STRANGER_GROUP, 7778, AD))
        await harness.feed(fake.user_message(STRANGER_GROUP, 7777, "/mode soft"))
        assert harness.texts_in(STRANGER_GROUP) == []
        assert fake.calls_to("deleteMessage") == [] and fake.calls_to("deleteMessages") == []
        await harness.feed(fake.user_message(STRANGER_GROUP, 7777, "/id"))
        assert harness.texts_in(STRANGER_GROUP) == [
            f"Chat id of Free coupons 4 all: {STRANGER_GROUP}"
        ]
        fake.start_private(OWNER)
        await harness.feed(fake.private_message(OWNER, "/id"))
        assert harness.texts_in(OWNER)[-1] == f"Chat id of Olga: {OWNER}"
    finally:
        await harness.stop()


async def test_a_demoted_bot_keeps_the_state_and_stops_acting(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, "hello")
    await shop.feed(shop.fake.bot_added_to_chat(GROUP, OWNER, admin=False))
    dave = shop.member("dave")
    ad = await shop.say(dave, AD)
    assert not shop.fake.is_deleted(GROUP, ad)
    assert shop.fake.calls_to("deleteMessage") == []
    assert (await shop.services.store.members.state(GROUP, bob, 0)).message_count == 1
    await shop.feed(shop.fake.bot_added_to_chat(GROUP, OWNER, admin=True))
    again = await shop.say(dave, AD)
    assert shop.fake.is_deleted(GROUP, again)


async def test_a_member_cannot_flood_the_bot_with_commands(shop: Harness) -> None:
    bob = shop.member("bob")
    for _ in range(20):
        shop.clock.advance(2)
        await shop.say(bob, "/help")
    answers = shop.texts_in(GROUP)
    slow_down = "You are going too fast: I will answer you again in a minute. 🙏"
    assert answers.count(slow_down) == 1, "told once, not once per message"
    assert len(answers) == 13
    shop.clock.advance(61)
    await shop.say(bob, "/help")
    assert len(shop.texts_in(GROUP)) == 14


async def test_a_member_over_the_limit_in_two_chats_is_told_in_each(shop: Harness) -> None:
    bob = shop.member("bob")
    shop.fake.start_private(bob)
    for _ in range(14):
        shop.clock.advance(2)
        await shop.say(bob, "/help")
    for _ in range(14):
        shop.clock.advance(1)
        await shop.feed(shop.fake.private_message(bob, "/help"))
    slow_down = "You are going too fast: I will answer you again in a minute. 🙏"
    assert shop.texts_in(GROUP).count(slow_down) == 1
    assert shop.texts_in(bob).count(slow_down) == 1, shop.texts_in(bob)


async def test_a_member_flooding_commands_costs_one_admin_question_a_minute(
    shop: Harness,
) -> None:
    bob = shop.member("bob")
    for _ in range(12):
        shop.clock.advance(2)
        await shop.say(bob, "/help")
    asked_before = len(shop.fake.calls_to("getChatMember"))
    for _ in range(8):
        shop.clock.advance(2)
        await shop.say(bob, "/help")
    assert len(shop.fake.calls_to("getChatMember")) - asked_before == 1


async def test_an_admin_setting_the_bot_up_is_not_throttled(shop: Harness) -> None:
    for _ in range(20):
        shop.clock.advance(2)
        await shop.say(ADMIN, "/help")
    answers = shop.texts_in(GROUP)
    assert len(answers) == 20 and not any("going too fast" in text for text in answers)


async def test_an_admin_busy_in_the_group_is_still_answered_in_private(shop: Harness) -> None:
    for _ in range(20):
        shop.clock.advance(2)
        await shop.say(ADMIN, "/help")
    shop.fake.start_private(ADMIN)
    await shop.feed(shop.fake.private_message(ADMIN, f"/mute {GROUP} {shop.member('bob')} 1h"))
    answer = shop.texts_in(ADMIN)[-1]
    assert "muted for 1h" in answer and "going too fast" not in answer, answer


async def test_block_overrides_the_presets_entry_for_the_same_word(shop: Harness) -> None:
    bob = shop.member("bob")
    first = await shop.say(bob, "谁要刷单")
    assert not shop.fake.is_deleted(GROUP, first)
    assert await command(shop, ADMIN, "/block 刷单") == "Blocked: 刷单"
    again = await shop.say(bob, "谁要刷单")
    assert shop.fake.is_deleted(GROUP, again)


async def test_allow_clears_the_shops_own_contact_and_a_blocked_link(tmp_path: Path) -> None:
    policy = (
        "extends: default\nmoderation:\n  detectors:\n    links:\n      block: [mysnacks.com]\n"
    )
    harness = await Harness.start(make_config(tmp_path, policy=policy))
    try:
        bob = harness.member("bob")
        offer = "我加了客服微信 sunny_cs01 还没通过"
        assert harness.fake.is_deleted(GROUP, await harness.say(bob, offer))
        assert await command(harness, ADMIN, "/allow sunny_cs01") == (
            "Allowed (contact): sunny_cs01"
        )
        assert await command(harness, ADMIN, "/allow mysnacks.com") == (
            "Allowed (link): mysnacks.com"
        )
        carol = harness.member("carol")
        assert not harness.fake.is_deleted(GROUP, await harness.say(carol, offer))
        link = await harness.say(carol, "see https://mysnacks.com/cookies")
        assert not harness.fake.is_deleted(GROUP, link)
    finally:
        await harness.stop()


async def test_every_manual_action_reaches_the_staff_chat_with_undo(shop: Harness) -> None:
    bob, carol, dave, erin = (shop.member(name) for name in ("bob", "carol", "dave", "erin"))
    await command(shop, ADMIN, f"/mute {bob} 1h")
    await command(shop, ADMIN, f"/kick {carol}")
    await command(shop, ADMIN, f"/warn {erin} spamming stickers")
    await command(shop, ADMIN, f"/ban {dave}")
    await command(shop, ADMIN, "/mode soft")
    staff = await flush_staff(shop)
    for action in ("mute 1h", "kick", "ban", "warning", "set mode (moderation.mode)"):
        assert f"{action} " in staff, action
    assert "spamming stickers" in staff
    assert staff.count("👮 Adam: ") == 4 and "⚙️ Adam in Sunny Snacks" in staff
    ban_id = int(staff.split("ban Dave in ")[1].split("(#")[1].split(")")[0])
    undo_buttons = [
        (note, button)
        for note in shop.fake.bot_messages(STAFF)
        for row in note.data.get("reply_markup", {}).get("inline_keyboard", [])
        for button in row
        if button["text"].startswith("↩️ Undo #")
    ]
    assert len(undo_buttons) == 4, "mute, kick, warn and ban can be undone"
    note, undo = next(
        (note, button)
        for note, button in undo_buttons
        if shop.services.signer.verify(button["callback_data"], "undo") == [ban_id]
    )
    await shop.feed(shop.fake.press_button(STAFF, note.message_id, ADMIN, undo["callback_data"]))
    assert shop.fake.status_of(GROUP, dave) == "left"


async def test_a_reply_elsewhere_never_names_a_member_from_a_notice(shop: Harness) -> None:
    # Message ids count per chat: a bot message in the admin's private chat may carry the id
    # of a notice in the group. Only a notice in the group itself names its member.
    await command(shop, ADMIN, "/mode neutral")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    notice = shop.fake.bot_messages(GROUP)[-1].message_id
    shop.fake.private_chat(shop.fake.users[ADMIN])
    private: list[int] = []
    while not private or private[-1] < notice:
        shop.clock.advance(6)
        await shop.feed(shop.fake.user_message(ADMIN, ADMIN, "/help"))
        private = [m.message_id for m in shop.fake.bot_messages(ADMIN)]
    assert notice in private, "the private chat holds a bot message with the notice's id"
    shop.clock.advance(6)
    reply = shop.fake.user_message(ADMIN, ADMIN, f"/mute {GROUP} 1d", reply_to=notice)
    await shop.feed(reply)
    assert shop.fake.status_of(GROUP, dave) == "left", "the kicked member stays as the notice left"
    assert "Whom?" in shop.fake.bot_messages(ADMIN)[-1].text


async def test_notspam_with_nothing_to_learn_or_undo_says_so(shop: Harness) -> None:
    dave = shop.member("dave")
    await shop.say(dave, "hello")
    assert await command(shop, ADMIN, f"/notspam {dave}") == ("Nothing to learn or undo for Dave.")
    assert await shop.services.store.learned.all() == []


async def test_notspam_on_a_channels_post_learns_its_text(shop: Harness) -> None:
    # Telegram marks a post made as a channel with a bot sender; it is not qunbot's notice.
    channel = -1002003004005
    shop.fake.add_chat(channel, "channel", "Deals daily", "deals_daily")
    dave = shop.member("dave")
    post = await shop.say(dave, "今天的特价清单在频道里", sender_chat=channel)
    await command(shop, ADMIN, "/notspam", reply_to=post)
    assert (await shop.services.store.learned.all())[-1] == ("今天的特价清单在频道里", False)


async def test_why_in_the_staff_chat_explains_an_action_by_its_id(shop: Harness) -> None:
    await command(shop, ADMIN, "/mode hard")
    dave = shop.member("dave")
    await shop.say(dave, AD)
    entry = (await shop.services.store.audit.recent(GROUP))[0]
    shop.fake.add_member(STAFF, ADMIN)
    shop.clock.advance(6)
    await shop.feed(shop.fake.user_message(STAFF, ADMIN, f"/why {entry.id}"))
    answer = shop.fake.bot_messages(STAFF)[-1].text
    assert answer.startswith(f"#{entry.id} ") and "abc12345" in answer, answer
    shop.clock.advance(6)
    await shop.feed(shop.fake.user_message(STAFF, ADMIN, "/why 99999"))
    assert shop.fake.bot_messages(STAFF)[-1].text.startswith("Nothing recorded for that.")


async def test_an_anonymous_admin_is_named_as_one_in_staff_notes(shop: Harness) -> None:
    await shop.feed(shop.fake.user_message(GROUP, ADMIN, "/mode soft", sender_chat=GROUP))
    note = await flush_staff(shop)
    assert "⚙️ An anonymous admin in Sunny Snacks:" in note, note
    shop.fake.make_admin(GROUP, ADMIN, custom_title="Night shift")
    await shop.feed(shop.fake.user_message(GROUP, ADMIN, "/mode hard", sender_chat=GROUP))
    note = await flush_staff(shop)
    assert "⚙️ Night shift (anonymous admin) in Sunny Snacks:" in note, note


async def test_an_anonymous_admin_reads_as_one_in_chinese(tmp_path: Path) -> None:
    harness = await Harness.start(make_config(tmp_path, language="zh"))
    try:
        sent_as_group = harness.fake.user_message(GROUP, ADMIN, "/mode soft", sender_chat=GROUP)
        await harness.feed(sent_as_group)
        note = await flush_staff(harness)
        assert note.startswith("⚙️ 匿名管理员"), note
        assert "-100" not in note and "…" not in note, note
    finally:
        await harness.stop()


async def test_help_in_private_asks_telegram_about_a_stranger_once_in_a_while(
    shop: Harness,
) -> None:
    stranger = shop.member("stranger", joined=False)
    shop.fake.start_private(stranger)
    asked = len(shop.fake.calls_to("getChatMember"))
    for _ in range(3):
        shop.clock.advance(30)
        await shop.feed(shop.fake.private_message(stranger, "/help"))
    assert len(shop.fake.calls_to("getChatMember")) - asked == 1
    assert all("/mode" not in text for text in shop.texts_in(stranger))

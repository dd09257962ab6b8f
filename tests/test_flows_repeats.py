"""Actions that must happen once however they are repeated or interrupted: an Undo pressed
twice, a re-invite after a later ban, removals owed when a group became a supergroup."""

from __future__ import annotations

from pathlib import Path

from tests.harness import ADMIN, GROUP, STAFF, Harness, make_config

AD = "加我微信 vx：abc12345 领取内部优惠券"
SECOND_AD = "加我微信 vx：xyz67890 领取内部优惠券"
OLD_GROUP, NEW_GROUP = -4001, -1004001


def policy(mode: str, ladder: str) -> str:
    return (
        f"extends: default\nmoderation:\n  mode: {mode}\n  ladder: {ladder}\n"
        "  reinvite_after: 1h\n"
    )


async def started(tmp_path: Path, mode: str, ladder: str = "[soft, neutral, hard]") -> Harness:
    config = make_config(tmp_path, policy=policy(mode, ladder), extra_groups=(OLD_GROUP,))
    return await Harness.start(config)


async def invites_sent(harness: Harness, user: int) -> int:
    harness.fake.start_private(user)
    await harness.feed(harness.fake.private_message(user, "/start"))
    return sum("https://t.me/+" in text for text in harness.texts_in(user))


async def test_undo_pressed_twice_unbans_once_and_makes_one_invite(tmp_path: Path) -> None:
    shop = await started(tmp_path, "hard")
    try:
        dave = shop.member("dave")
        await shop.say(dave, AD)
        await shop.services.staff.flush(STAFF)
        note = shop.fake.bot_messages(STAFF)[-1]
        undo = note.data["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        first = shop.fake.press_button(STAFF, note.message_id, ADMIN, undo)
        second = shop.fake.press_button(STAFF, note.message_id, ADMIN, undo)
        await shop.feed([first, second])
        answers = [
            shop.fake.callback_queries[u["callback_query"]["id"]].answer for u in (first, second)
        ]
        assert "Undone" in str(answers[0]) and "undone already" in str(answers[1])
        assert len(shop.fake.calls_to("unbanChatMember")) == 1
        assert await invites_sent(shop, dave) == 1
    finally:
        await shop.stop()


async def test_a_ban_after_a_neutral_step_cancels_the_pending_reinvite(tmp_path: Path) -> None:
    shop = await started(tmp_path, "neutral", "[neutral, hard]")
    try:
        dave = shop.member("dave")
        await shop.say(dave, AD)
        assert shop.fake.status_of(GROUP, dave) == "left"
        assert await shop.services.store.reinvites.pending_for(dave)
        await shop.feed(shop.fake.join(GROUP, dave))
        await shop.say(dave, SECOND_AD)
        assert shop.fake.status_of(GROUP, dave) == "kicked"
        shop.clock.advance(2 * 3600)
        assert await shop.services.store.reinvites.pending_for(dave) == []
        assert await invites_sent(shop, dave) == 0
    finally:
        await shop.stop()


async def test_a_spammer_who_posted_just_before_a_migration_is_removed_in_the_supergroup(
    tmp_path: Path,
) -> None:
    shop = await started(tmp_path, "hard")
    try:
        shop.fake.add_chat(OLD_GROUP, "group", "Old Snacks")
        shop.fake.bot_is_admin(OLD_GROUP)
        dave = shop.member("dave", joined=False)
        shop.fake.add_member(OLD_GROUP, dave)
        ad = shop.fake.user_message(OLD_GROUP, dave, AD)
        migration = shop.fake.migrate_to_supergroup(OLD_GROUP, NEW_GROUP)
        await shop.feed(ad)
        assert shop.fake.status_of(NEW_GROUP, dave) == "kicked"
        await shop.feed(migration)
        store = shop.services.store
        assert await store.offences.count_within(NEW_GROUP, dave, 0) == 1
        # The ad's message id belongs to the old chat's numbering: nothing claims it anew.
        message_id = int(ad["message"]["message_id"])
        assert await store.enforced.audit_id_for(NEW_GROUP, message_id) is None
        assert await store.enforced.deletes_pending(0.0) == []
    finally:
        await shop.stop()


async def test_newcomers_waiting_at_a_migration_are_welcomed_in_the_supergroup(
    tmp_path: Path,
) -> None:
    shop = await Harness.start(make_config(tmp_path, extra_groups=(OLD_GROUP,)))
    try:
        shop.fake.add_chat(OLD_GROUP, "group", "Old Snacks")
        shop.fake.bot_is_admin(OLD_GROUP)
        bob, carol = shop.member("bob", joined=False), shop.member("carol", joined=False)
        await shop.feed(shop.fake.join(OLD_GROUP, bob))
        await shop.feed(shop.fake.join(OLD_GROUP, carol))  # waits for the next wave
        await shop.feed(shop.fake.migrate_to_supergroup(OLD_GROUP, NEW_GROUP))
        welcomed_there = [m.text for m in shop.fake.bot_messages(NEW_GROUP)]
        assert sum("Carol" in text for text in welcomed_there) == 1
        assert not any("Bob" in text for text in welcomed_there)
    finally:
        await shop.stop()

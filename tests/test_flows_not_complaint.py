"""Staff mark a ticket as no complaint: it closes quietly, qunbot's reply in the group goes, the
card says who decided, and the complaint model learns the message, across restarts too."""

from __future__ import annotations

from pathlib import Path

from bot.features.tickets import REMINDER_JOB
from bot.store import LearnedKind, Store, TicketStatus
from bot.store.database import connect, schema_version
from bot.store.migrations import LATEST_VERSION
from tests.harness import ADMIN, GROUP, STAFF, Harness, make_config
from tests.test_flows_complaints import COMPLAINT, SARA, buttons, card_of, press, started

HAPPY = "waited two weeks and it finally arrived, so happy"
"""Cheerful news the shipped complaint model takes for a complaint, with no complaint cue."""
HAPPY_AGAIN = "Waited two weeks and it finally arrived, so so happy"
CAT = "我家猫把快递盒子当床了，东西都压扁了哈哈"
"""Banter the shipped complaint model takes for a complaint, with no complaint cue."""
CAT_AGAIN = "哈哈我家猫又把快递盒子当床了，东西都压扁了"


async def tickets_opened(harness: Harness) -> int:
    async with harness.services.store.db.execute("SELECT COUNT(*) FROM tickets") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def heard_nothing(harness: Harness, user_id: int) -> bool:
    """Whether the bot never wrote to this user's private chat."""
    return user_id not in harness.fake.chats or harness.texts_in(user_id) == []


async def test_the_button_closes_quietly_takes_the_reply_back_and_teaches_the_model(
    tmp_path: Path,
) -> None:
    shop = await started(tmp_path)
    try:
        bob = shop.member("bob")
        said = await shop.say(bob, HAPPY)
        reply = shop.fake.bot_messages(GROUP)[-1].message_id
        assert "Sorry to hear that" in shop.texts_in(GROUP)[-1]
        card = card_of(shop)
        staff_before = len(shop.texts_in(STAFF))
        answer = await press(shop, STAFF, card, SARA, "Not a complaint")
        assert answer == (
            "Ticket #1: not a complaint. Closed quietly; the complaint model learned it."
        )
        ticket = await shop.services.store.tickets.get(1)
        assert ticket is not None and ticket.status is TicketStatus.CLOSED
        assert ticket.closed_by == SARA
        assert shop.fake.is_deleted(GROUP, reply), "qunbot's mistaken reply is taken back"
        assert not shop.fake.is_deleted(GROUP, said), "the member's own message stays"
        assert heard_nothing(shop, bob) and not await shop.services.store.tickets.holds_for(bob)
        assert not shop.app.job_queue.get_jobs_by_name(REMINDER_JOB.format(1))  # type: ignore[union-attr]
        edited = shop.fake.chat(STAFF).messages[card]
        assert "was no complaint, marked by Sara" in edited.text
        assert "the complaint model learned it" in edited.text and HAPPY in edited.text
        assert buttons(shop, STAFF, card) == []
        assert len(shop.texts_in(STAFF)) == staff_before, "the card says it; no extra note"
        (entry,) = [
            e
            for e in await shop.services.store.audit.recent(GROUP)
            if e.action == "ticket #1 not a complaint"
        ]
        assert (entry.actor_id, entry.target_id, entry.text) == (SARA, bob, HAPPY)
        await shop.feed(shop.fake.private_message(bob, "hi, do you sell gift cards?"))
        assert not any("#1" in text for text in shop.texts_in(bob)), "no ticket to reopen"
        assert (await shop.services.store.tickets.get(1)).status is TicketStatus.CLOSED  # type: ignore[union-attr]
        learned = await shop.services.store.learned.all(LearnedKind.COMPLAINTS)
        assert learned == [(HAPPY, False)]
        assert await shop.services.store.learned.all(LearnedKind.ADS) == []
    finally:
        await shop.stop()


async def test_after_marking_the_same_message_from_someone_else_opens_no_ticket(
    tmp_path: Path,
) -> None:
    shop = await started(tmp_path)
    try:
        bob, carol, dave = shop.member("bob"), shop.member("carol"), shop.member("dave")
        await shop.say(bob, HAPPY)
        await press(shop, STAFF, card_of(shop), SARA, "Not a complaint")
        replies = len(shop.texts_in(GROUP))
        await shop.say(carol, HAPPY)
        await shop.say(dave, HAPPY_AGAIN)
        assert len(shop.texts_in(GROUP)) == replies
        assert await tickets_opened(shop) == 1
        assert await shop.services.store.tickets.active() == []
        await shop.say(carol, COMPLAINT)
        assert await tickets_opened(shop) == 2, "a real complaint still opens a ticket"
    finally:
        await shop.stop()


async def test_the_mark_survives_a_restart(tmp_path: Path) -> None:
    loaded = make_config(tmp_path, policy="extends: shop-zh\n", language="zh")
    first = await Harness.start(loaded)
    first.fake.add_user(SARA, "Sara")
    first.fake.add_member(STAFF, SARA)
    wangwu = first.member("wangwu")
    await first.say(wangwu, CAT)
    card = next(m.message_id for m in first.fake.bot_messages(STAFF) if "#1" in m.text)
    assert "不是投诉" in await press(first, STAFF, card, SARA, "不是投诉")
    assert "不是投诉，由" in first.fake.chat(STAFF).messages[card].text
    await first.stop()
    second = await Harness.start(loaded, fake=first.fake, clock=first.clock)
    try:
        zhaoliu = second.member("zhaoliu")
        await second.say(zhaoliu, CAT)
        await second.say(zhaoliu, CAT_AGAIN)
        assert await second.services.store.tickets.active() == []
        assert await tickets_opened(second) == 1
    finally:
        await second.stop()


async def test_a_member_cannot_mark_a_ticket_as_no_complaint(tmp_path: Path) -> None:
    shop = await started(tmp_path)
    try:
        bob, mallory = shop.member("bob"), shop.member("mallory")
        await shop.say(bob, HAPPY)
        card = card_of(shop)
        answer = await press(shop, STAFF, card, mallory, "Not a complaint")
        assert answer == "Only the shop's staff can do this."
        await shop.say(mallory, "/notcomplaint 1")
        assert shop.texts_in(GROUP)[-1] == "Only admins of this group can use this command."
        ticket = await shop.services.store.tickets.get(1)
        assert ticket is not None and ticket.status is TicketStatus.OPEN
        assert await shop.services.store.learned.all(LearnedKind.COMPLAINTS) == []
        assert any("Not a complaint" in b["text"] for b in buttons(shop, STAFF, card))
    finally:
        await shop.stop()


async def test_the_command_marks_by_id_in_the_group_and_by_chinese_word_in_the_staff_chat(
    tmp_path: Path,
) -> None:
    shop = await started(tmp_path)
    try:
        bob, carol = shop.member("bob"), shop.member("carol")
        await shop.say(bob, HAPPY)
        await shop.say(ADMIN, "/notcomplaint 1")
        assert shop.texts_in(GROUP)[-1].startswith("Ticket #1: not a complaint.")
        await shop.say(ADMIN, "/notcomplaint 1")
        assert shop.texts_in(GROUP)[-1] == "Ticket #1 is already closed."
        await shop.feed(shop.fake.user_message(STAFF, SARA, "/不是投诉 1"))
        assert "/notcomplaint" in shop.texts_in(STAFF)[-1]
        assert len(await shop.services.store.learned.all(LearnedKind.COMPLAINTS)) == 1
        await shop.say(carol, COMPLAINT)
        card = card_of(shop, 2)
        await shop.feed(shop.fake.user_message(STAFF, SARA, "/notcomplaint", reply_to=card))
        assert "Ticket #2: not a complaint." in shop.texts_in(STAFF)[-1]
        assert "marked by Sara" in shop.fake.chat(STAFF).messages[card].text
    finally:
        await shop.stop()


async def test_samples_learned_before_the_kind_column_stay_ads(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = await connect(path, up_to=LATEST_VERSION - 1)
    await old.execute(
        "INSERT INTO learned_samples (chat_id, at, actor_id, spam, text)"
        " VALUES (-5, 1.0, 7, 1, 'an old ad'), (-5, 2.0, 7, 0, 'old ordinary chat')"
    )
    await old.commit()
    await old.close()
    store = await Store.open(path)
    try:
        assert await schema_version(store.db) == LATEST_VERSION
        assert await store.learned.all(LearnedKind.ADS) == [
            ("an old ad", True),
            ("old ordinary chat", False),
        ]
        assert await store.learned.all(LearnedKind.COMPLAINTS) == []
    finally:
        await store.close()


async def test_every_policy_reads_the_taught_model_unless_its_scorer_is_off(
    tmp_path: Path,
) -> None:
    shop = await started(tmp_path)
    try:
        compiled = await shop.services.policies.policy_for(GROUP)
        assert compiled.complaints.model is shop.services.complaint_model
    finally:
        await shop.stop()
    (tmp_path / "off").mkdir()
    off = await started(tmp_path / "off", "  scorer: {enabled: false}\n")
    try:
        assert (await off.services.policies.policy_for(GROUP)).complaints.model is None
        bob, carol = off.member("bob"), off.member("carol")
        await off.say(bob, COMPLAINT)
        await press(off, STAFF, card_of(off), SARA, "Not a complaint")
        await off.say(carol, COMPLAINT)
        assert await tickets_opened(off) == 2, "the policy's cues alone still open tickets"
    finally:
        await off.stop()

"""Complaint tickets through the real Application and the fake Telegram: the public reply, the
private chat, the relay both ways, staff actions, reminders and restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from bot.core.config import Config, GroupConfig, LoadedConfig, loaded_from
from bot.fake.state import CallbackQuery
from bot.features.tickets import REMINDER_JOB
from bot.features.welcome import RULES_KIND
from bot.store import Ticket, TicketStatus
from policies.yamlsource import Located
from tests.harness import ADMIN, GROUP, STAFF, Harness, make_config

COMPLAINT = "My cookie box arrived broken and nobody answers my messages!!!"
SARA = 3001
"""A member of the staff chat."""


def policy(extra: str = "") -> str:
    return "extends: default\n" + (f"complaints:\n{extra}" if extra else "")


async def started(
    tmp_path: Path,
    extra: str = "",
    *,
    staff: bool = True,
    language: str = "en",
    simulated_waits: bool = False,
) -> Harness:
    loaded = make_config(tmp_path, policy=policy(extra), staff=staff, language=language)
    harness = await Harness.start(loaded, simulated_waits=simulated_waits)
    harness.fake.add_user(SARA, "Sara")
    harness.fake.add_member(STAFF, SARA)
    return harness


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await started(tmp_path)
    yield harness
    await harness.stop()


def buttons(harness: Harness, chat_id: int, message_id: int) -> list[dict[str, Any]]:
    message = harness.fake.chat(chat_id).messages[message_id]
    rows = (message.data.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def newest_deep_link(harness: Harness) -> str:
    """The payload of the newest deep-link button the bot posted in the group."""
    for message in reversed(harness.fake.bot_messages(GROUP)):
        for button in buttons(harness, GROUP, message.message_id):
            if "url" in button and "start=" in button["url"]:
                return parse_qs(urlparse(button["url"]).query)["start"][0]
    raise AssertionError("no deep-link button in the group")


async def open_ticket(harness: Harness, user_id: int) -> None:
    update = harness.fake.start_private(user_id, newest_deep_link(harness))
    assert update is not None
    await harness.feed(update)


async def press(harness: Harness, chat_id: int, message_id: int, user_id: int, label: str) -> str:
    """Press the button whose label contains `label`; returns the bot's answer text."""
    data = next(
        b["callback_data"] for b in buttons(harness, chat_id, message_id) if label in b["text"]
    )
    await harness.feed(harness.fake.press_button(chat_id, message_id, user_id, data))
    return str(harness.fake.calls_to("answerCallbackQuery")[-1].params.get("text", ""))


async def staff_reply(harness: Harness, user_id: int, text: str) -> None:
    """A staff member replies to the newest bot message in the staff chat."""
    newest = harness.fake.bot_messages(STAFF)[-1].message_id
    await harness.feed(harness.fake.user_message(STAFF, user_id, text, reply_to=newest))


async def only_ticket(harness: Harness) -> Ticket:
    (ticket,) = await harness.services.store.tickets.active()
    return ticket


async def test_a_complaint_gets_a_polite_reply_a_deep_link_and_a_staff_card(shop: Harness) -> None:
    bob = shop.member("bob")
    complaint = await shop.say(bob, COMPLAINT)
    reply = shop.fake.bot_messages(GROUP)[-1]
    assert "Sorry to hear that" in reply.text and "Bob" in reply.text
    assert reply.data["reply_to_message"]["message_id"] == complaint
    (button,) = buttons(shop, GROUP, reply.message_id)
    assert button["url"].startswith("https://t.me/qunbot_demo_bot?start=tkt_")
    assert not shop.fake.is_deleted(GROUP, complaint)
    card = shop.fake.bot_messages(STAFF)[-1]
    assert "New ticket #1" in card.text and "broken" in card.text and "Sunny Snacks" in card.text
    assert [b["text"] for b in buttons(shop, STAFF, card.message_id)] == [
        "🙋 Take",
        "✅ Close",
        "🚫 Not a complaint",
    ]
    ticket = await only_ticket(shop)
    assert (ticket.user_id, ticket.text, ticket.status) == (bob, COMPLAINT, TicketStatus.OPEN)


async def test_the_relay_works_in_both_directions(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    await open_ticket(shop, bob)
    (greeting,) = shop.texts_in(bob)
    assert "ticket #1" in greeting and "order number" in greeting and "broken" in greeting
    assert "opened the private chat" in shop.texts_in(STAFF)[-1]
    await shop.feed(shop.fake.private_message(bob, "Order <A-1023>, photo coming"))
    relayed = shop.texts_in(STAFF)[-1]
    assert relayed == "💬 #1 Bob: Order <A-1023>, photo coming"
    await staff_reply(shop, SARA, "So sorry! A new box ships today.")
    answer = shop.texts_in(bob)[-1]
    assert "Shop staff (ticket #1)" in answer and "A new box ships today." in answer
    ticket = await only_ticket(shop)
    assert (ticket.status, ticket.staff_id) == (TicketStatus.IN_PROGRESS, SARA)
    said = [(m.source, m.text) for m in await shop.services.store.tickets.messages(ticket.id)]
    assert said == [
        ("group", COMPLAINT),
        ("member", "Order <A-1023>, photo coming"),
        ("staff", "So sorry! A new box ships today."),
    ]


async def test_a_photo_from_the_member_is_copied_to_the_staff(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    await open_ticket(shop, bob)
    await shop.feed(shop.fake.user_message(bob, bob, "", photo=True, caption="the crack"))
    header, copy = shop.fake.bot_messages(STAFF)[-2:]
    assert header.text == "💬 #1 Bob: the crack"
    assert (
        "photo" in copy.data and copy.data["reply_to_message"]["message_id"] == header.message_id
    )
    await shop.feed(
        shop.fake.user_message(STAFF, SARA, "Thanks, refund on its way", reply_to=copy.message_id)
    )
    assert "refund on its way" in shop.texts_in(bob)[-1]


async def test_the_deep_link_is_the_only_route_to_a_member_who_never_started_the_bot(
    shop: Harness,
) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    assert [c for c in shop.fake.calls_to("sendMessage") if c.params["chat_id"] == bob] == []
    await staff_reply(shop, SARA, "Hello Bob, can you send your order number?")
    forbidden = [c for c in shop.fake.calls_to("sendMessage") if c.params["chat_id"] == bob]
    assert [c.status for c in forbidden] == [403]
    assert "will be delivered as soon as they open it" in shop.texts_in(STAFF)[-2]
    await open_ticket(shop, bob)
    assert "ticket #1" in shop.texts_in(bob)[0]


def card_of(harness: Harness, ticket: int = 1) -> int:
    return next(
        m.message_id for m in harness.fake.bot_messages(STAFF) if f"New ticket #{ticket}" in m.text
    )


async def test_replies_before_the_member_opens_the_chat_are_held_and_delivered_in_order(
    shop: Harness,
) -> None:
    wangwu = shop.member("wangwu")
    await shop.say(wangwu, "等了十天还没收到货，订单一直显示待发货，太慢了！！！")
    card = card_of(shop)
    await shop.feed(
        shop.fake.user_message(STAFF, SARA, "您好，仓库说今天补发，请稍等", reply_to=card)
    )
    note = shop.fake.bot_messages(STAFF)[-2]
    assert "has not opened the private chat" in note.text
    assert "will be delivered as soon as they open it" in note.text
    assert "nothing reached them" not in note.text
    await shop.feed(
        shop.fake.user_message(STAFF, SARA, "", photo=True, caption="快递单照片", reply_to=card)
    )
    assert "will be delivered" in shop.texts_in(STAFF)[-1]
    assert wangwu not in shop.fake.chats, "nothing reached the member yet"
    await open_ticket(shop, wangwu)
    greeting, answer, photo = shop.fake.bot_messages(wangwu)
    assert "ticket #1" in greeting.text
    assert "仓库说今天补发" in answer.text and "Shop staff (ticket #1)" in answer.text
    assert "photo" in photo.data and photo.data.get("caption") == "快递单照片"
    assert "the 2 held messages were delivered" in shop.texts_in(STAFF)[-1]
    await open_ticket(shop, wangwu)
    assert len(shop.fake.bot_messages(wangwu)) == 4, "only a new greeting: nothing twice"
    said = await shop.services.store.tickets.messages(1)
    assert [m.source for m in said] == ["group", "staff", "staff"]


async def test_a_plain_start_also_delivers_what_was_held(shop: Harness) -> None:
    wangwu = shop.member("wangwu")
    await shop.say(wangwu, "买的坚果全是坏的，太差劲了，我要退款！！")
    await staff_reply(shop, SARA, "非常抱歉，已为您安排退款")
    shop.fake.start_private(wangwu)
    await shop.feed(shop.fake.user_message(wangwu, wangwu, "/start"))
    assert "已为您安排退款" in shop.texts_in(wangwu)[-1]
    assert "the held message was delivered" in shop.texts_in(STAFF)[-1]


async def test_held_replies_arrive_whichever_way_the_member_reaches_the_bot(
    shop: Harness,
) -> None:
    """The welcome's rules link opens the chat too; a later reply never queues behind one
    that could be delivered; and writing to the bot is reaching it."""
    wangwu = shop.member("wangwu")
    await shop.say(wangwu, "买的坚果全是坏的，太差劲了，我要退款！！")
    await staff_reply(shop, SARA, "非常抱歉，已为您安排退款")
    shop.fake.start_private(wangwu)
    await shop.feed(shop.fake.user_message(wangwu, wangwu, f"/start {RULES_KIND}_x"))
    assert any("已为您安排退款" in text for text in shop.texts_in(wangwu))
    await shop.feed(
        shop.fake.user_message(STAFF, SARA, "退款已经到账了吗？", reply_to=card_of(shop))
    )
    assert "退款已经到账了吗" in shop.texts_in(wangwu)[-1], "sent at once, not held"
    bob = shop.member("bob")
    await shop.say(bob, "收到的杯子是裂的，要求退货！！")
    await shop.feed(
        shop.fake.user_message(STAFF, SARA, "请拍照给我们看看", reply_to=card_of(shop, 2))
    )
    shop.fake.start_private(bob)
    await shop.feed(shop.fake.private_message(bob, "在吗"))
    assert any("请拍照给我们看看" in text for text in shop.texts_in(bob))


async def test_the_closing_text_is_held_too_and_still_asks_for_a_rating(shop: Harness) -> None:
    wangwu = shop.member("wangwu")
    await shop.say(wangwu, "收到的饼干碎成渣了，这怎么吃？退钱！！！")
    payload = newest_deep_link(shop)
    await staff_reply(shop, SARA, "抱歉，补发一盒给您")
    assert await press(shop, STAFF, card_of(shop), SARA, "Close") == "Ticket #1 closed."
    assert any("will be delivered" in text for text in shop.texts_in(STAFF)[-3:])
    update = shop.fake.start_private(wangwu, payload)
    assert update is not None
    await shop.feed(update)
    answer, closing = shop.fake.bot_messages(wangwu)
    assert "补发一盒给您" in answer.text
    assert "Ticket #1 is closed" in closing.text
    assert "not valid" not in " ".join(shop.texts_in(wangwu))
    await press(shop, wangwu, closing.message_id, wangwu, "👍")
    ticket = await shop.services.store.tickets.get(1)
    assert ticket is not None and ticket.rating == 1


async def complained(
    tmp_path: Path, name: str, complaint: str, *replies: str
) -> tuple[Harness, int, str]:
    """A member complains and Sara replies: the harness (to restart from its fake, clock and
    config), the member and the link to their ticket's private chat."""
    first = await started(tmp_path)
    member = first.member(name)
    await first.say(member, complaint)
    payload = newest_deep_link(first)
    for reply in replies:
        await staff_reply(first, SARA, reply)
    return first, member, payload


async def restarted(first: Harness) -> Harness:
    await first.stop()
    return await Harness.start(first.loaded, fake=first.fake, clock=first.clock)


async def test_held_replies_survive_a_restart(tmp_path: Path) -> None:
    first, wangwu, payload = await complained(
        tmp_path,
        "wangwu",
        "我的订单到现在都没发货，客服也不回，太过分了！！！",
        "抱歉久等，今天一定发出",
    )
    second = await restarted(first)
    try:
        update = second.fake.start_private(wangwu, payload)
        assert update is not None
        await second.feed(update)
        assert "今天一定发出" in second.texts_in(wangwu)[-1]
    finally:
        await second.stop()


async def test_a_delivery_cut_short_by_a_crash_is_reported_and_never_sent_twice(
    tmp_path: Path,
) -> None:
    first, wangwu, payload = await complained(
        tmp_path,
        "wangwu",
        "东西少发了两袋，找谁都没人理，差评！！！",
        "少发的两袋马上补上",
        "补发单号稍后发您",
    )
    store = first.services.store.tickets
    held = await store.held_for(wangwu)
    assert await store.claim_held(held[0].id, first.clock.now()), "the crash hits after the claim"
    second = await restarted(first)
    try:
        assert "may not have arrived" in second.texts_in(STAFF)[-1]
        update = second.fake.start_private(wangwu, payload)
        assert update is not None
        await second.feed(update)
        texts = second.texts_in(wangwu)
        assert not any("马上补上" in text for text in texts), "not sent again"
        assert "补发单号稍后发您" in texts[-1]
    finally:
        await second.stop()


async def test_a_further_complaint_attaches_to_the_open_ticket(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    replies = len(shop.texts_in(GROUP))
    second = await shop.say(bob, "Still no answer, I want a refund!!!")
    assert len(shop.texts_in(GROUP)) == replies
    assert "wrote again" in shop.texts_in(STAFF)[-1]
    ticket = await only_ticket(shop)
    said = await shop.services.store.tickets.messages(ticket.id)
    assert [m.message_id for m in said if m.source == "group"][-1] == second


async def test_an_open_ticket_survives_a_restart(tmp_path: Path) -> None:
    first, bob, payload = await complained(tmp_path, "bob", COMPLAINT)
    second = await restarted(first)
    try:
        jobs = second.app.job_queue.get_jobs_by_name(REMINDER_JOB.format(1))  # type: ignore[union-attr]
        assert len(jobs) == 1
        update = second.fake.start_private(bob, payload)
        assert update is not None
        await second.feed(update)
        assert "ticket #1" in second.texts_in(bob)[-1]
        assert not second.app.job_queue.get_jobs_by_name(REMINDER_JOB.format(1))  # type: ignore[union-attr]
        card = next(m for m in second.fake.bot_messages(STAFF) if "New ticket #1" in m.text)
        await second.feed(
            second.fake.user_message(STAFF, SARA, "Refund sent", reply_to=card.message_id)
        )
        assert "Refund sent" in second.texts_in(bob)[-1]
    finally:
        await second.stop()


async def test_someone_who_is_not_staff_cannot_close_or_take_tickets(shop: Harness) -> None:
    bob, mallory = shop.member("bob"), shop.member("mallory")
    await shop.say(bob, COMPLAINT)
    card = shop.fake.bot_messages(STAFF)[-1].message_id
    assert await press(shop, STAFF, card, mallory, "Close") == "Only the shop's staff can do this."
    assert await press(shop, STAFF, card, mallory, "Take") == "Only the shop's staff can do this."
    await shop.say(mallory, "/close 1")
    assert shop.texts_in(GROUP)[-1] == "Only admins of this group can use this command."
    assert (await only_ticket(shop)).status is TicketStatus.OPEN
    shop.fake.add_member(STAFF, mallory, status="left")
    assert await press(shop, STAFF, card, SARA, "Take") == "You took ticket #1."
    assert [b["text"] for b in buttons(shop, STAFF, card)] == ["✅ Close", "🚫 Not a complaint"]


async def test_a_forged_callback_is_refused(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    card = shop.fake.bot_messages(STAFF)[-1]
    genuine = buttons(shop, STAFF, card.message_id)[1]["callback_data"]
    forged = genuine[:-1] + ("0" if genuine[-1] != "0" else "1")
    query_id = str(len(shop.fake.callback_queries) + 1)
    shop.fake.callback_queries[query_id] = CallbackQuery(SARA, STAFF, card.message_id, forged)
    query = {
        "id": query_id,
        "from": shop.fake.user(SARA).to_api(),
        "message": card.data,
        "chat_instance": "fake",
        "data": forged,
    }
    await shop.feed(shop.fake.queue("callback_query", query))
    answer = shop.fake.calls_to("answerCallbackQuery")[-1].params
    assert answer["text"] == "This button is not valid." and answer["show_alert"] is True
    assert (await only_ticket(shop)).status is TicketStatus.OPEN


async def test_closing_sends_the_closing_text_and_records_satisfaction(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    await open_ticket(shop, bob)
    card = next(m for m in shop.fake.bot_messages(STAFF) if "New ticket" in m.text).message_id
    assert await press(shop, STAFF, card, SARA, "Close") == "Ticket #1 closed."
    closing = shop.fake.bot_messages(bob)[-1]
    assert "Ticket #1 is closed" in closing.text
    assert buttons(shop, STAFF, card) == []
    assert "closed by" in shop.texts_in(STAFF)[-1]
    stranger = shop.member("mallory")
    assert (
        await press(shop, bob, closing.message_id, stranger, "👍") == "This button is not for you."
    )
    await press(shop, bob, closing.message_id, bob, "👍")
    assert "Thanks for your feedback" in shop.texts_in(bob)[-1]
    assert buttons(shop, bob, closing.message_id) == []
    ticket = await shop.services.store.tickets.get(1)
    assert ticket is not None and (ticket.status, ticket.rating) == (TicketStatus.CLOSED, 1)
    assert "rated the help 👍" in shop.texts_in(STAFF)[-1]
    await shop.feed(shop.fake.private_message(bob, "one more thing"))
    assert "wrote again after it was closed" in shop.texts_in(STAFF)[-2]
    assert "one more thing" in shop.texts_in(STAFF)[-1]


async def test_close_command_as_a_reply_in_the_staff_chat_and_by_id_in_the_group(
    shop: Harness,
) -> None:
    bob, carol = shop.member("bob"), shop.member("carol")
    await shop.say(bob, COMPLAINT)
    await staff_reply(shop, SARA, "/close")
    assert "closed by" in shop.texts_in(STAFF)[-1]
    await shop.say(carol, "My order never arrived")
    await shop.say(ADMIN, "/close 2")
    assert shop.texts_in(GROUP)[-1] == "Ticket #2 is closed."
    await shop.say(ADMIN, "/close 2")
    assert shop.texts_in(GROUP)[-1] == "Ticket #2 is already closed."
    assert await shop.services.store.tickets.active() == []


async def test_tickets_lists_open_tickets_for_admins_and_for_staff(shop: Harness) -> None:
    bob, carol = shop.member("bob"), shop.member("carol")
    await shop.say(bob, COMPLAINT)
    shop.clock.advance(600)
    await shop.say(carol, "快递还没到，差评")
    await shop.say(ADMIN, "/tickets")
    listing = shop.texts_in(GROUP)[-1]
    assert listing.startswith("Open tickets (2):")
    assert "#1 open: Bob, 10m ago" in listing and "#2 open: Carol" in listing
    assert "快递还没到" not in listing, "every member reads the group: no complaint text there"
    await shop.feed(shop.fake.user_message(STAFF, SARA, "/tickets"))
    assert "Bob in Sunny Snacks" in shop.texts_in(STAFF)[-1]
    assert "快递还没到" in shop.texts_in(STAFF)[-1]
    await shop.say(bob, "/tickets")
    assert shop.texts_in(GROUP)[-1] == "Only admins of this group can use this command."


async def test_one_reminder_if_the_member_never_opens_the_chat(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    reply = shop.fake.bot_messages(GROUP)[-1].message_id
    queue = shop.app.job_queue
    assert queue is not None
    (job,) = queue.get_jobs_by_name(REMINDER_JOB.format(1))
    await job.run(shop.app)
    assert len(shop.fake.bot_messages(GROUP)) == 1, "not due yet"
    shop.clock.advance(30 * 60)
    await job.run(shop.app)
    reminder = shop.fake.bot_messages(GROUP)[-1]
    assert "we haven't heard from you yet" in reminder.text
    assert reminder.data["reply_to_message"]["message_id"] == reply
    assert "start=tkt_" in buttons(shop, GROUP, reminder.message_id)[0]["url"]
    await job.run(shop.app)
    assert len(shop.fake.bot_messages(GROUP)) == 2, "only one reminder"


async def test_opening_the_chat_cancels_the_reminder(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    await open_ticket(shop, bob)
    queue = shop.app.job_queue
    assert queue is not None
    assert not [job for job in queue.jobs() if job.name == REMINDER_JOB.format(1) and job.enabled]
    shop.clock.advance(3600)
    assert not await shop.services.store.tickets.claim_reminder(1, shop.clock.now())


async def test_without_a_staff_chat_the_link_gives_the_contact_text_and_nothing_is_relayed(
    tmp_path: Path,
) -> None:
    harness = await started(tmp_path, staff=False)
    try:
        bob = harness.member("bob")
        await harness.say(bob, COMPLAINT)
        await open_ticket(harness, bob)
        (contact,) = harness.texts_in(bob)
        assert "call the number in the group description" in contact
        sent = len(harness.fake.calls_to("sendMessage"))
        await harness.feed(harness.fake.private_message(bob, "Order A-1023"))
        assert len(harness.fake.calls_to("sendMessage")) == sent
        assert harness.texts_in(STAFF) == []
    finally:
        await harness.stop()


async def test_questions_open_tickets_only_when_the_policy_says_so(tmp_path: Path) -> None:
    harness = await started(tmp_path)
    try:
        bob = harness.member("bob")
        await harness.say(bob, "How do I return an item?")
        assert harness.texts_in(GROUP) == []
    finally:
        await harness.stop()
    (tmp_path / "routing").mkdir()
    routing = await started(tmp_path / "routing", "  route_questions: true\n")
    try:
        bob = routing.member("bob")
        await routing.say(bob, "How do I return an item?")
        assert "Sorry to hear that" in routing.texts_in(GROUP)[-1]
    finally:
        await routing.stop()


async def test_admins_and_the_staff_chat_never_open_tickets(shop: Harness) -> None:
    await shop.say(ADMIN, "If your order never arrived, we refund it!!!")
    await shop.feed(
        shop.fake.user_message(STAFF, SARA, "that refund never arrived, worst service")
    )
    assert await shop.services.store.tickets.active() == []


async def test_an_ad_dressed_as_a_complaint_is_moderated_not_ticketed(shop: Harness) -> None:
    dave = shop.member("dave")
    ad = await shop.say(dave, "Refund scam!!! 加我微信 vx：abc12345 领取赔偿")
    assert shop.fake.is_deleted(GROUP, ad)
    assert await shop.services.store.tickets.active() == []


async def test_someone_elses_link_is_refused(shop: Harness) -> None:
    bob, mallory = shop.member("bob"), shop.member("mallory")
    await shop.say(bob, COMPLAINT)
    update = shop.fake.start_private(mallory, newest_deep_link(shop))
    assert update is not None
    await shop.feed(update)
    (answer,) = shop.texts_in(mallory)
    assert "This button is for the member who wrote that message in Sunny Snacks" in answer
    assert "write your own question in the group" in answer
    assert "not valid" not in answer
    assert (await only_ticket(shop)).opened_at is None


def two_language_config(workdir: Path) -> LoadedConfig:
    """The group speaks Chinese (shop-zh), while the config's default policy speaks English."""
    policies = workdir / "policies"
    policies.mkdir()
    (policies / "intl.yaml").write_text("extends: default\n", encoding="utf-8")
    (policies / "shop.yaml").write_text("extends: shop-zh\n", encoding="utf-8")
    config = Config(
        database=str(workdir / "qunbot.db"),
        policies_dir=str(policies),
        default_policy="intl",
        groups=(GroupConfig(chat_id=GROUP, policy="shop"),),
        staff_chat=STAFF,
    )
    return loaded_from(Located(config.model_dump(mode="json"), {}, {}, "(test)"), workdir)


async def test_someone_elses_link_is_explained_in_the_language_of_the_tickets_group(
    tmp_path: Path,
) -> None:
    harness = await Harness.start(two_language_config(tmp_path))
    try:
        wangwu, lisi = harness.member("wangwu"), harness.member("lisi")
        await harness.say(wangwu, "等了一个星期还没发货，到底什么时候发？")
        update = harness.fake.start_private(lisi, newest_deep_link(harness))
        assert update is not None
        await harness.feed(update)
        (answer,) = harness.texts_in(lisi)
        assert "这个按钮是留给在 Sunny Snacks 反馈问题的那位顾客的" in answer
        assert "请在群里写下您自己的问题" in answer
        assert (await only_ticket(harness)).opened_at is None
        forged = harness.fake.start_private(lisi, "tkt_1_9_0000000000000000")
        assert forged is not None
        await harness.feed(forged)
        assert "This link is not valid any more" in harness.texts_in(lisi)[-1]
    finally:
        await harness.stop()


async def test_a_closed_tickets_own_link_says_so_in_the_groups_language(tmp_path: Path) -> None:
    harness = await Harness.start(two_language_config(tmp_path))
    try:
        harness.fake.add_user(SARA, "Sara")
        harness.fake.add_member(STAFF, SARA)
        wangwu = harness.member("wangwu")
        await harness.say(wangwu, "收到的果冻全漏了，盒子都湿透了，要求退款！！")
        payload = newest_deep_link(harness)
        await open_ticket(harness, wangwu)
        assert await harness.app.bot_data.tickets.close(1, SARA, "Sara")
        update = harness.fake.start_private(wangwu, payload)
        assert update is not None
        await harness.feed(update)
        assert harness.texts_in(wangwu)[-1].startswith("这个链接已失效")
    finally:
        await harness.stop()


@pytest.mark.parametrize("original", ["delete", "delete_when_opened"])
async def test_the_policy_can_remove_the_complaint_from_the_group(
    tmp_path: Path, original: str
) -> None:
    harness = await started(tmp_path, f"  original: {original}\n")
    try:
        bob = harness.member("bob")
        complaint = await harness.say(bob, COMPLAINT)
        assert harness.fake.is_deleted(GROUP, complaint) is (original == "delete")
        await open_ticket(harness, bob)
        await harness.settle()
        assert harness.fake.is_deleted(GROUP, complaint)
        assert "Sorry to hear that" in harness.texts_in(GROUP)[-1]
    finally:
        await harness.stop()


async def test_why_explains_a_ticket_from_the_public_reply(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    reply = shop.fake.bot_messages(GROUP)[-1].message_id
    await shop.say(ADMIN, "/why", reply_to=reply)
    explanation = shop.texts_in(GROUP)[-1]
    assert "ticket #1" in explanation and "complaint.broken" in explanation


async def test_a_burst_of_photos_inside_a_ticket_is_relayed_whole(tmp_path: Path) -> None:
    # Each photo is a header and a copy in the staff group: past its 20 sends a minute, so the
    # relay waits its turn (on the test clock) rather than dropping any.
    shop = await started(tmp_path, simulated_waits=True)
    try:
        bob = shop.member("bob")
        await shop.say(bob, COMPLAINT)
        await open_ticket(shop, bob)
        for n in range(15):
            shop.clock.advance(1)
            await shop.feed(shop.fake.user_message(bob, bob, "", photo=True, caption=f"crack {n}"))
        headers = [text for text in shop.texts_in(STAFF) if text.startswith("💬 #1 Bob: crack")]
        assert len(headers) == 15
        said = await shop.services.store.tickets.messages((await only_ticket(shop)).id)
        assert len([m for m in said if m.source == "member"]) == 15
        assert shop.clock.waited >= 30, "the relay kept within the staff group's budget"
    finally:
        await shop.stop()


async def test_a_photo_without_a_caption_is_named_in_the_staffs_language(tmp_path: Path) -> None:
    harness = await started(tmp_path, language="zh")
    try:
        bob = harness.member("bob")
        await harness.say(bob, COMPLAINT)
        await open_ticket(harness, bob)
        await harness.feed(harness.fake.user_message(bob, bob, "", photo=True))
        header = harness.fake.bot_messages(STAFF)[-2]
        assert header.text.endswith("Bob: [图片]"), header.text
    finally:
        await harness.stop()


async def test_a_private_message_outside_a_ticket_hears_how_to_get_help_once_an_hour(
    shop: Harness,
) -> None:
    bob = shop.member("bob")
    shop.fake.private_chat(shop.fake.users[bob])
    await shop.feed(shop.fake.user_message(bob, bob, "hello, are you there?"))
    greeting = shop.fake.bot_messages(bob)
    assert len(greeting) == 1 and "Qunbot" in greeting[0].text, [m.text for m in greeting]
    shop.clock.advance(60)
    await shop.feed(shop.fake.user_message(bob, bob, "hello?"))
    assert len(shop.fake.bot_messages(bob)) == 1, "not a reply to every message"
    shop.clock.advance(3600)
    await shop.feed(shop.fake.user_message(bob, bob, "anyone?"))
    assert len(shop.fake.bot_messages(bob)) == 2


async def test_a_private_message_in_a_ticket_is_relayed_not_greeted(shop: Harness) -> None:
    bob = shop.member("bob")
    await shop.say(bob, COMPLAINT)
    await open_ticket(shop, bob)
    before = len(shop.fake.bot_messages(bob))
    await shop.feed(shop.fake.user_message(bob, bob, "the box was crushed too"))
    assert len(shop.fake.bot_messages(bob)) == before
    assert "the box was crushed too" in shop.texts_in(STAFF)[-1]


async def test_the_reminder_goes_to_the_complaints_topic_even_if_its_messages_are_gone(
    shop: Harness,
) -> None:
    shop.fake.chat(GROUP).is_forum = True
    bob = shop.member("bob")
    opened = shop.fake.create_topic(GROUP, bob, "Orders")
    await shop.feed(opened)
    topic = int(opened["message"]["message_id"])
    complaint = await shop.say(bob, COMPLAINT, thread=topic)
    reply = shop.fake.bot_messages(GROUP)[-1]
    assert reply.data["message_thread_id"] == topic
    for gone in (complaint, reply.message_id):
        shop.fake.chat(GROUP).messages[gone].deleted = True
    shop.clock.advance(30 * 60)
    assert await shop.app.bot_data.tickets.remind(1)
    reminder = shop.fake.bot_messages(GROUP)[-1]
    assert "we haven't heard from you yet" in reminder.text
    assert reminder.data.get("message_thread_id") == topic, "not in General"


async def closed_after_talking(harness: Harness, text: str) -> int:
    """A member complains, opens the chat, and staff close the ticket; returns the member."""
    wangwu = harness.member("wangwu")
    await harness.say(wangwu, text)
    await open_ticket(harness, wangwu)
    assert await harness.app.bot_data.tickets.close(1, SARA, "Sara")
    return wangwu


async def test_a_message_soon_after_closing_reopens_the_ticket(shop: Harness) -> None:
    wangwu = await closed_after_talking(shop, "快递员把箱子摔坏了，里面的罐子全碎了！！")
    shop.clock.advance(2 * 86400)
    await shop.feed(shop.fake.private_message(wangwu, "补发的那箱还是碎的"))
    assert "Ticket #1 is open again" in shop.texts_in(wangwu)[-1]
    reopened, relayed = shop.texts_in(STAFF)[-2:]
    assert "#1: Wangwu wrote again after it was closed" in reopened
    assert relayed == "💬 #1 Wangwu: 补发的那箱还是碎的"
    ticket = await only_ticket(shop)
    assert (ticket.id, ticket.status) == (1, TicketStatus.OPEN)
    assert [b["text"] for b in buttons(shop, STAFF, card_of(shop))] == [
        "🙋 Take",
        "✅ Close",
        "🚫 Not a complaint",
    ]
    await staff_reply(shop, SARA, "抱歉，这次给您退款")
    assert "这次给您退款" in shop.texts_in(wangwu)[-1]


async def test_a_message_long_after_closing_says_how_to_reach_the_staff(tmp_path: Path) -> None:
    harness = await Harness.start(two_language_config(tmp_path))
    try:
        harness.fake.add_user(SARA, "Sara")
        harness.fake.add_member(STAFF, SARA)
        wangwu = await closed_after_talking(harness, "订的月饼过期了，这也能卖？退钱！！")
        harness.clock.advance(8 * 86400)
        staff_before = harness.texts_in(STAFF)
        await harness.feed(harness.fake.private_message(wangwu, "又有问题了"))
        assert harness.texts_in(wangwu)[-1] == (
            "工单 #1 已结单。如还需要帮助，请在 Sunny Snacks 留言，我们会为您新开工单。"
        )
        assert harness.texts_in(STAFF) == staff_before
        assert await harness.services.store.tickets.active() == []
    finally:
        await harness.stop()


async def test_a_policy_can_turn_reopening_off(tmp_path: Path) -> None:
    harness = await started(tmp_path, "  reopen_within: 0s\n")
    try:
        wangwu = await closed_after_talking(harness, "衣服洗一次就掉色，质量太差了，退货！！")
        await harness.feed(harness.fake.private_message(wangwu, "还在吗"))
        assert "If you need help again, write in Sunny Snacks" in harness.texts_in(wangwu)[-1]
        assert await harness.services.store.tickets.active() == []
    finally:
        await harness.stop()


async def test_a_held_photo_deleted_meanwhile_is_reported_and_the_rest_still_arrives(
    shop: Harness,
) -> None:
    wangwu = shop.member("wangwu")
    await shop.say(wangwu, "收到的杯子裂了一条缝，漏水，要换货！！")
    card = card_of(shop)
    await shop.feed(
        shop.fake.user_message(STAFF, SARA, "", photo=True, caption="换货流程图", reply_to=card)
    )
    (staff_photo,) = [m for m in shop.fake.messages(STAFF) if m.sender_id == SARA]
    staff_photo.deleted = True
    await shop.feed(shop.fake.user_message(STAFF, SARA, "新杯子明天发出", reply_to=card))
    await open_ticket(shop, wangwu)
    assert "新杯子明天发出" in shop.texts_in(wangwu)[-1]
    assert not any("photo" in m.data for m in shop.fake.bot_messages(wangwu))
    problem, delivered = shop.texts_in(STAFF)[-2:]
    assert "could not message Wangwu: Message to copy not found" in problem
    assert "the held message was delivered" in delivered
    await open_ticket(shop, wangwu)
    assert "copy not found" not in shop.texts_in(STAFF)[-1], "not tried again"


async def test_a_held_reply_still_refused_stays_held_for_the_next_open(shop: Harness) -> None:
    wangwu = shop.member("wangwu")
    await shop.say(wangwu, "寄来的鞋子左右脚不是一个码，太离谱了，要退货！！")
    payload = newest_deep_link(shop)
    await staff_reply(shop, SARA, "抱歉发错了，我们重新寄一双")
    update = shop.fake.start_private(wangwu, payload)
    assert update is not None
    shop.fake.block_bot(wangwu)
    await shop.feed(update)
    assert shop.fake.bot_messages(wangwu) == []
    assert "delivered" not in shop.texts_in(STAFF)[-1]
    again = shop.fake.start_private(wangwu, payload)
    assert again is not None
    await shop.feed(again)
    assert "我们重新寄一双" in shop.texts_in(wangwu)[-1]
    assert "the held message was delivered" in shop.texts_in(STAFF)[-1]

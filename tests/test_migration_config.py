"""Groups that become supergroups: their configured policy, network and staff role follow the new
id (now and after a restart), the staff are told, and `qunbot check` names the stale ids."""

from __future__ import annotations

from pathlib import Path

from bot.cli.check import warnings_for
from bot.core.config import Config, GroupConfig, LoadedConfig, NetworkConfig, loaded_from
from bot.fake import FakeTelegram
from bot.features.membership import UNKNOWN_GROUP_JOB
from policies.yamlsource import Located
from tests.harness import Harness, TestClock

SHOP = -4000000001
PEER = -1001000000002
STAFF = -4000000999
NEW_SHOP, NEW_STAFF = -1004000000001, -1004000000999
OWNER, BUYER = 1001, 1003
AD = "加我微信 vx：abc12345 领取内部优惠券"
LENIENT = (
    "extends: default\nmoderation:\n"
    "  detectors:\n    spam_threshold: 1000\n  probation:\n    spam_threshold: 1000\n"
)
"""What an unconfigured group gets: nothing is an ad, so losing the configured policy shows."""


def config(workdir: Path) -> LoadedConfig:
    policies = workdir / "policies"
    policies.mkdir(exist_ok=True)
    (policies / "shop.yaml").write_text("extends: default\n", encoding="utf-8")
    (policies / "lenient.yaml").write_text(LENIENT, encoding="utf-8")
    raw = Config(
        database=str(workdir / "qunbot.db"),
        policies_dir=str(policies),
        default_policy="lenient",
        groups=(GroupConfig(chat_id=SHOP, policy="shop"),),
        networks=(NetworkConfig(name="shops", groups=(SHOP, PEER)),),
        staff_chat=STAFF,
    )
    return loaded_from(Located(raw.model_dump(mode="json"), {}, {}, "config.yaml"), workdir)


def world(clock: TestClock) -> FakeTelegram:
    tg = FakeTelegram(clock=clock.now)
    tg.add_user(OWNER, "Olga")
    tg.add_user(BUYER, "Mei")
    for chat_id, kind, title in ((SHOP, "group", "Shop"), (PEER, "supergroup", "Shop 2")):
        tg.add_chat(chat_id, kind, title)
        tg.add_member(chat_id, OWNER, "creator")
        tg.add_member(chat_id, BUYER)
        tg.bot_is_admin(chat_id)
    tg.add_chat(STAFF, "group", "Staff")
    tg.add_member(STAFF, OWNER, "creator")
    tg.bot_is_admin(STAFF)
    return tg


async def flush_staff(harness: Harness) -> None:
    await harness.services.staff.flush(harness.services.staff.staff_chat or 0)


async def test_a_migrated_group_keeps_its_policy_and_network_and_the_staff_are_told(
    tmp_path: Path,
) -> None:
    clock = TestClock()
    loaded = config(tmp_path)
    first = await Harness.start(loaded, fake=world(clock), clock=clock)
    tg = first.fake
    try:
        old = tg.migrate_to_supergroup(SHOP, NEW_SHOP)
        await first.feed(old, tg.updates[tg.updates.index(old) + 1])
        await flush_staff(first)
        (notice,) = [m.text for m in tg.bot_messages(STAFF) if "became" in m.text]
        assert str(SHOP) in notice and str(NEW_SHOP) in notice and "config.yaml" in notice
        await first.feed(tg.user_message(NEW_SHOP, BUYER, AD))
        assert tg.calls_to("deleteMessage") or tg.calls_to("deleteMessages")
        assert first.services.loaded.config.network_peers(NEW_SHOP) == (PEER,)
    finally:
        await first.stop()

    restarted = await Harness.start(config(tmp_path), fake=tg, clock=clock)
    try:
        services = restarted.services
        assert services.loaded.config.policy_for(NEW_SHOP) == "shop"
        assert services.loaded.config.network_peers(PEER) == (NEW_SHOP,)
    finally:
        await restarted.stop()
    warnings = "\n".join(warnings_for(config(tmp_path)))
    assert f"groups[0].chat_id: {SHOP} → {NEW_SHOP}" in warnings
    assert f"networks[0].groups[0]: {SHOP} → {NEW_SHOP}" in warnings
    assert "staff_chat" not in warnings


async def test_a_migrated_staff_chat_keeps_getting_the_notices(tmp_path: Path) -> None:
    clock = TestClock()
    loaded = config(tmp_path)
    harness = await Harness.start(loaded, fake=world(clock), clock=clock)
    tg = harness.fake
    try:
        tg.migrate_to_supergroup(STAFF, NEW_STAFF)
        tg.pending.clear()  # the bot misses the service message: only the send tells it
        await harness.feed(tg.user_message(SHOP, BUYER, AD))
        await flush_staff(harness)
        assert harness.services.staff.staff_chat == NEW_STAFF
        texts = [m.text for m in tg.bot_messages(NEW_STAFF)]
        assert any("Mei" in text for text in texts)
        assert any(str(NEW_STAFF) in text and "became" in text for text in texts)
    finally:
        await harness.stop()
    warnings = "\n".join(warnings_for(config(tmp_path)))
    assert f"staff_chat: {STAFF} → {NEW_STAFF}" in warnings


async def test_the_bots_own_join_to_the_new_supergroup_does_not_make_it_leave(
    tmp_path: Path,
) -> None:
    """Telegram tells the bot it joined the supergroup before it says which group that was:
    for a moment the new id is in no config. Leaving "an unknown group" then would leave the
    shop's own group."""
    clock = TestClock()
    harness = await Harness.start(config(tmp_path), fake=world(clock), clock=clock)
    tg = harness.fake
    try:
        first = len(tg.updates)
        tg.migrate_to_supergroup(SHOP, NEW_SHOP)
        assert "my_chat_member" in tg.updates[first], "the join comes first"
        await harness.feed(tg.updates[first:])
        assert harness.app.job_queue is not None
        (decision,) = harness.app.job_queue.get_jobs_by_name(UNKNOWN_GROUP_JOB.format(NEW_SHOP))
        await decision.run(harness.app)
        assert tg.calls_to("leaveChat") == []
        await flush_staff(harness)
        staff = "\n".join(m.text for m in tg.bot_messages(STAFF))
        assert "does not list" not in staff, staff
        await harness.feed(tg.user_message(NEW_SHOP, BUYER, AD))
        assert tg.calls_to("deleteMessage") or tg.calls_to("deleteMessages")
    finally:
        await harness.stop()


async def test_a_strangers_supergroup_is_left_after_the_grace_while_a_basic_group_is_served(
    tmp_path: Path,
) -> None:
    clock = TestClock()
    harness = await Harness.start(config(tmp_path), fake=world(clock), clock=clock)
    tg = harness.fake
    stranger_group, stranger = -1001000000666, 7777
    try:
        tg.add_user(stranger, "Stranger")
        tg.add_chat(stranger_group, "supergroup", "Free coupons", bot_status="left")
        tg.add_member(stranger_group, stranger, status="creator")
        await harness.feed(tg.bot_added_to_chat(stranger_group, stranger))
        assert tg.calls_to("leaveChat") == [], "it may be the shop's group coming back"
        assert harness.app.job_queue is not None
        job = UNKNOWN_GROUP_JOB.format(stranger_group)
        (decision,) = harness.app.job_queue.get_jobs_by_name(job)
        await decision.run(harness.app)
        assert tg.status_of(stranger_group, tg.bot.id) == "left"
        await flush_staff(harness)
        assert any("Free coupons" in m.text for m in tg.bot_messages(STAFF))
    finally:
        await harness.stop()

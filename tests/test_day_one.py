"""Safe on day one: `qunbot run` as a real process against the HTTP fake, in a shop's group
with customers from before qunbot, a newcomer posting an ad, and a stranger adding the bot to
their own group."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.fake import FakeTelegramServer
from tests.harness import GROUP, STAFF, make_world
from tests.test_crash_safety import WallClock, start_bot, tail, until

CUSTOMER, NEWCOMER, STRANGER, FRIEND = 700_001, 700_002, 700_003, 700_004
STRANGER_GROUP = -1001000000666
CUSTOMER_TEXT = "我电话 13912345678，快递员打不通，麻烦客服联系我"
AD = "加我微信 vx：abc12345 领取内部优惠券"
EVIDENCE = ("abc12345", "vx", "加我", "13912345678")


def write_config(workdir: Path) -> Path:
    policies = workdir / "policies"
    policies.mkdir()
    (policies / "shop.yaml").write_text("extends: shop-zh\n", encoding="utf-8")
    config = workdir / "config.yaml"
    config.write_text(
        "database: ./qunbot.db\npolicies_dir: ./policies\ndefault_policy: shop\n"
        f"groups: [{{chat_id: {GROUP}, policy: shop}}]\nstaff_chat: {STAFF}\n",
        encoding="utf-8",
    )
    return config


async def test_a_shop_can_add_qunbot_to_its_real_group(tmp_path: Path) -> None:
    config, log = write_config(tmp_path), tmp_path / "bot.log"
    fake = make_world(WallClock())
    fake.add_user(CUSTOMER, "Lin")
    fake.add_member(GROUP, CUSTOMER)
    for user, name in ((NEWCOMER, "Spammy"), (STRANGER, "Stranger"), (FRIEND, "Friend")):
        fake.add_user(user, name)
    fake.add_chat(STRANGER_GROUP, "supergroup", "Free coupons 4 all", bot_status="left")
    fake.add_member(STRANGER_GROUP, STRANGER, status="creator")
    async with FakeTelegramServer(fake) as server:
        bot = start_bot(config, server, log)
        try:
            await until(lambda: fake.pollers_waiting > 0, "the first poll", log)
            fake.bot_added_to_chat(STRANGER_GROUP, STRANGER)
            await until(
                lambda: any(str(STRANGER_GROUP) in m.text for m in fake.bot_messages(STAFF)),
                "the staff hearing of the stranger's group",
                log,
            )
            fake.join(STRANGER_GROUP, FRIEND)
            customer_post = int(
                fake.user_message(GROUP, CUSTOMER, CUSTOMER_TEXT)["message"]["message_id"]
            )
            fake.join(GROUP, NEWCOMER)
            ad = int(fake.user_message(GROUP, NEWCOMER, AD)["message"]["message_id"])
            await until(lambda: fake.is_deleted(GROUP, ad), "the ad removed", log)
            await until(lambda: fake.pollers_waiting > 0 and not fake.pending, "a quiet bot", log)
            await asyncio.sleep(0.5)
        finally:
            bot.send_signal(signal.SIGKILL)  # the test is about what it did, not how it stops
            bot.wait(10)
            await asyncio.sleep(0.3)  # let the server see the bot's connections close
    assert not fake.is_deleted(GROUP, customer_post), tail(log)
    assert fake.status_of(GROUP, CUSTOMER) == "member"
    public = [m.text for m in fake.bot_messages(GROUP)]
    assert public, "the ad was announced"
    assert not any(str(CUSTOMER) in str(m.data) for m in fake.bot_messages(GROUP))
    for text in public:
        assert not any(evidence in text for evidence in EVIDENCE), text
    assert fake.status_of(STRANGER_GROUP, fake.bot.id) == "left"
    assert fake.bot_messages(STRANGER_GROUP) == []
    note = next(m.text for m in fake.bot_messages(STAFF) if str(STRANGER_GROUP) in m.text)
    assert "Stranger" in note and f"chat_id: {STRANGER_GROUP}" in note

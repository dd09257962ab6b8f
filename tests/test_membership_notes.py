"""qunbot's own standing in a served group (removed, demoted, added, promoted) reaches the staff
chat in the staff's language; the customers in the group hear nothing of it. (Without a staff
chat the group's admins read the rights report in the group: see test_flows_admin.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import GROUP, OWNER, STAFF, Harness, make_config

BRANCH = -1001000000077
ENGLISH_SHOP = "extends: default\nlanguage: en\n"


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await Harness.start(make_config(tmp_path, extra_groups=(BRANCH,)))
    harness.fake.add_chat(BRANCH, "supergroup", "New branch", bot_status="left")
    yield harness
    await harness.stop()


async def staff_notes(harness: Harness) -> str:
    await harness.services.staff.flush(STAFF)
    return "\n".join(harness.texts_in(STAFF))


async def test_removed_from_a_served_group_the_staff_hear_of_it(shop: Harness) -> None:
    await shop.feed(shop.fake.bot_removed_from_chat(GROUP, OWNER))
    note = await staff_notes(shop)
    assert "🚫 Olga removed qunbot from Sunny Snacks: nobody moderates it now." in note, note


async def test_demoted_and_promoted_again_the_staff_hear_what_it_lacks(shop: Harness) -> None:
    demoted = shop.fake.bot_rights_changed(
        GROUP, OWNER, can_delete_messages=False, can_restrict_members=False
    )
    await shop.feed(demoted)
    note = await staff_notes(shop)
    assert "⚠️ Olga took rights from qunbot in Sunny Snacks" in note, note
    assert "it now lacks Delete messages and Ban users," in note, note
    await shop.feed(shop.fake.bot_rights_changed(GROUP, OWNER))
    assert "✅ Olga gave qunbot the rights it needs in Sunny Snacks" in await staff_notes(shop)
    assert shop.texts_in(GROUP) == [], "the customers hear nothing of it"


async def test_a_right_qunbot_does_not_use_tells_nobody(shop: Harness) -> None:
    await shop.feed(shop.fake.bot_rights_changed(GROUP, OWNER, can_pin_messages=False))
    assert await staff_notes(shop) == ""


async def test_added_without_rights_the_staff_are_told_in_their_language(tmp_path: Path) -> None:
    loaded = make_config(tmp_path, policy=ENGLISH_SHOP, language="zh", extra_groups=(BRANCH,))
    harness = await Harness.start(loaded)
    try:
        harness.fake.add_chat(BRANCH, "supergroup", "New branch", bot_status="left")
        await harness.feed(harness.fake.bot_added_to_chat(BRANCH, OWNER, admin=False))
        note = await staff_notes(harness)
        assert (
            "⚠️ Olga 把 qunbot 拉进了 New branch，但它缺少删除消息、封禁用户、通过链接邀请用户权限"
            in note
        )
        assert "隐私模式" in note, "a member in privacy mode does not see ordinary messages"
        await harness.feed(harness.fake.bot_added_to_chat(BRANCH, OWNER, admin=True))
        assert "✅ Olga 给了 qunbot 在 New branch 需要的全部权限" in await staff_notes(harness)
        assert harness.texts_in(BRANCH) == [], "the customers hear nothing of it"
    finally:
        await harness.stop()

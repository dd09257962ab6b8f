"""Red-envelope gifts: the claim button, the deep link it opens, and private delivery.

A button in the group is signed for the group and the pool (and, for a reward, the member).
Pressing it answers with a deep link signed for the group, the pool and the presser (and
whether the button was personal), so a forwarded link is worthless to anyone else. The
welcome's shared button serves newcomers only, checked at the press and again at the link.
The claim itself is settled by SQLite: one claim per member, group and pool, and each listed
code handed out once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from loguru import logger
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    User,
)
from telegram.error import TelegramError
from telegram.helpers import create_deep_linked_url

from bot.core.config import resolve_path
from bot.core.services import Services
from bot.core.signing import Signer
from bot.store import GiftOutcome
from bot.telegram.callbacks import answer_button
from bot.telegram.extract import display_name
from bot.telegram.permissions import is_present
from policies.gifts import (
    GiftPool,
    GiftsConfig,
    matching_reward,
    may_claim,
    parse_codes,
    pool_number,
)
from policies.schema import Policy
from policies.texts import mention, render

BUTTON_KIND = "gft"
LINK_KIND = "gift"
REWARD_PROMPT_COOLDOWN = 3600.0
"""A member who keeps posting tagged photos is prompted once an hour, not every time."""
PROMPTS_KEPT = 10_000
PERSONAL_MARK = 1
"""A link made from a personal button (a reward) ends in this mark; one made from the welcome's
shared button, which only newcomers may use, ends at the pool."""


@dataclass(frozen=True, slots=True)
class GiftLink:
    """What a genuine deep link names: where, for whom, which pool, and from which button."""

    chat_id: int
    user_id: int
    pool_number: int
    personal: bool

    def token(self, signer: Signer) -> str:
        mark = (PERSONAL_MARK,) if self.personal else ()
        return signer.sign(LINK_KIND, self.chat_id, self.user_id, self.pool_number, *mark)

    @classmethod
    def read(cls, signer: Signer, payload: str) -> GiftLink | None:
        parts = signer.verify(payload, LINK_KIND)
        if parts is None or len(parts) not in (3, 4) or parts[3:] not in ([], [PERSONAL_MARK]):
            return None
        return cls(parts[0], parts[1], parts[2], personal=len(parts) == 4)


@dataclass(frozen=True, slots=True)
class ClaimResult:
    status: GiftOutcome
    code: str | None = None


def gift_button(
    signer: Signer, chat_id: int, pool: str, label: str, *, for_user: int = 0
) -> InlineKeyboardButton:
    """A red-envelope button for a pool; `for_user` 0 lets any member press it."""
    data = signer.sign(BUTTON_KIND, chat_id, pool_number(pool), for_user)
    return InlineKeyboardButton(label, callback_data=data)


class GiftDesk:
    """Serves gift buttons, gift links and reward prompts for every group."""

    def __init__(self, runtime: Services, bot: Bot) -> None:
        self.runtime, self.bot = runtime, bot
        self.prompted: dict[tuple[int, int, str], float] = {}

    @property
    def signer(self) -> Signer:
        return self.runtime.signer

    async def open_envelope(self, query: CallbackQuery) -> None:
        """A gift button was pressed: answer with the presser's own deep link."""
        parts = self.signer.verify(query.data or "", BUTTON_KIND)
        home = query.message.chat.id if query.message else 0
        gifts = (await self._policy(parts[0] if parts else home)).gifts
        templates = gifts.templates
        if parts is None or len(parts) != 3:
            await answer_button(query, render(templates.link_invalid, {}), show_alert=True)
            return
        chat_id, number, for_user = parts
        if for_user and for_user != query.from_user.id:
            await answer_button(query, render(templates.not_yours, {}), show_alert=True)
            return
        link = GiftLink(chat_id, query.from_user.id, number, personal=bool(for_user))
        if not await self._may_claim(link, gifts):
            await answer_button(query, render(templates.newcomers_only, {}), show_alert=True)
            return
        url = create_deep_linked_url(self.bot.username, link.token(self.signer))
        await answer_button(query, url=url)

    async def serve_link(self, user: User, payload: str) -> None:
        """`/start gift_...` in the private chat: check the link and the member, then claim."""
        link = GiftLink.read(self.signer, payload)
        if link is None or link.user_id != user.id:
            policy = await self._policy(link.chat_id if link else None)
            await self._send(user.id, render(policy.gifts.templates.link_invalid, {}))
            return
        chat_id = link.chat_id
        policy = await self._policy(chat_id)
        found = policy.gifts.pool_by_number(link.pool_number)
        if found is None:
            await self._send(user.id, render(policy.gifts.templates.link_invalid, {}))
            return
        title = (await self.runtime.chat_info.get(self.bot, chat_id)).title or str(chat_id)
        if not await self._is_member(chat_id, user.id):
            await self._send(user.id, render(policy.gifts.templates.not_member, {"group": title}))
            return
        if not await self._may_claim(link, policy.gifts):
            await self._send(user.id, render(policy.gifts.templates.newcomers_only, {}))
            return
        await self._deliver(user, chat_id, title, found[0], policy)

    async def _may_claim(self, link: GiftLink, gifts: GiftsConfig) -> bool:
        """Whether the link's member may claim through its button: the welcome's shared one is
        for newcomers of the link's group."""
        store = self.runtime.store
        right = may_claim(
            gifts,
            personal=link.personal,
            joined_at=await self._joined_at(link.chat_id, link.user_id),
            now=self.runtime.now(),
            offences=await store.offences.count_within(link.chat_id, link.user_id, 0.0),
        )
        if not right.allowed:
            logger.info("gift refused to {} in {}: {}", link.user_id, link.chat_id, right.reason)
        return right.allowed

    async def _joined_at(self, chat_id: int, user_id: int) -> float | None:
        """The member's latest join qunbot saw: the welcome queue holds it from the moment of
        the join (a crash may cost the members' last seconds), the members' rows for longer."""
        store = self.runtime.store
        seen = (
            await store.welcome_queue.joined_at(chat_id, user_id),
            await store.members.joined_at(chat_id, user_id),
        )
        return max((at for at in seen if at is not None), default=None)

    async def _deliver(
        self, user: User, chat_id: int, title: str, pool_name: str, policy: Policy
    ) -> None:
        user_id, templates = user.id, policy.gifts.templates
        pool = policy.gifts.pools[pool_name]
        try:
            result = await self.claim(chat_id, user_id, pool_name, pool)
        except OSError as error:
            await self._send(user_id, render(templates.pool_empty, {"group": title}))
            problem = self.runtime.staff.messages.tp(
                "cannot read the codes file of gift pool {pool}: {error}",
                pool=repr(pool_name),
                error=error,
            )
            await self.runtime.staff.alarm(chat_id, problem, title=title)
            return
        if result.status is GiftOutcome.EMPTY:
            await self._send(user_id, render(templates.pool_empty, {"group": title}))
            problem = self.runtime.staff.messages.tp(
                "gift pool {pool} is empty: add codes so members can claim again",
                pool=repr(pool_name),
            )
            await self.runtime.staff.alarm(chat_id, problem, title=title)
            return
        values = {"group": title, "code": result.code or "…"}
        if result.status is GiftOutcome.ALREADY:
            await self._send(user_id, render(templates.already_claimed, values))
            return
        name = display_name(user.first_name, user.last_name)
        await self._send(user_id, render(templates.delivered, values | {"user": name}))

    async def claim(
        self, chat_id: int, user_id: int, pool_name: str, pool: GiftPool
    ) -> ClaimResult:
        """The member's one claim on a pool: a new code, the code they already have, or none.
        One transaction: a crash never leaves the claim without its code."""
        earlier = await self.runtime.store.gifts.claim_of(chat_id, user_id, pool_name)
        if earlier is not None and earlier.code is not None:
            return ClaimResult(GiftOutcome.ALREADY, earlier.code)
        candidates = () if pool.shared_code else await self._codes(pool)
        outcome, code = await self.runtime.store.gifts.claim(
            chat_id,
            user_id,
            pool_name,
            candidates=candidates,
            shared_code=pool.shared_code,
            now=self.runtime.now(),
        )
        if outcome is GiftOutcome.GIVEN:
            self.runtime.stats.count(chat_id, "gifts_claimed")
        return ClaimResult(outcome, code)

    async def _codes(self, pool: GiftPool) -> tuple[str, ...]:
        if pool.codes_file is None:
            return pool.codes
        path = resolve_path(self.runtime.loaded.base_dir, pool.codes_file)
        return parse_codes(await asyncio.to_thread(path.read_text, encoding="utf-8"))

    async def reward(self, message: Message) -> None:
        """Prompt a member whose message earns a reward (a buyer's photo with #review)."""
        user = message.from_user
        text = message.caption or message.text or ""
        if user is None or user.is_bot or message.sender_chat is not None or "#" not in text:
            return
        policy = await self._policy(message.chat_id)
        reward = matching_reward(policy.gifts.rewards, text, has_photo=bool(message.photo))
        if reward is None or not await self._may_prompt(message.chat_id, user.id, reward.pool):
            return
        templates = policy.gifts.templates
        name = mention(user.id, display_name(user.first_name, user.last_name))
        prompt = render(templates.reward_prompt, {"user": name, "group": message.chat.title or ""})
        button = gift_button(
            self.signer, message.chat_id, reward.pool, templates.claim_button, for_user=user.id
        )
        try:
            await self.runtime.door.post(
                message.chat_id,
                prompt,
                markup=InlineKeyboardMarkup([[button]]),
                reply_to=message.message_id,
                thread_id=message.message_thread_id if message.is_topic_message else None,
            )
        except TelegramError as error:
            logger.warning("reward prompt in {} failed: {}", message.chat_id, error.message)

    async def _may_prompt(self, chat_id: int, user_id: int, pool: str) -> bool:
        now, key = self.runtime.now(), (chat_id, user_id, pool)
        if now - self.prompted.get(key, float("-inf")) < REWARD_PROMPT_COOLDOWN:
            return False
        if await self.runtime.store.gifts.claim_of(chat_id, user_id, pool) is not None:
            return False
        if len(self.prompted) >= PROMPTS_KEPT:
            self.prompted.clear()
        self.prompted[key] = now
        return True

    async def _policy(self, chat_id: int | None) -> Policy:
        """The group's policy; the default one when a link names no genuine group."""
        if chat_id is None:
            default = self.runtime.loaded.config.default_policy
            return self.runtime.loaded.policies.get(default) or self.runtime.loaded.library.load(
                default
            )
        return (await self.runtime.policies.policy_for(chat_id)).policy

    async def _is_member(self, chat_id: int, user_id: int) -> bool:
        """Asked of Telegram at the moment of the claim: someone who left cannot claim."""
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramError as error:
            logger.warning("cannot check member {} of {}: {}", user_id, chat_id, error.message)
            return False
        return is_present(member)

    async def _send(self, user_id: int, text: str) -> None:
        try:
            await self.runtime.door.post(user_id, text)
        except TelegramError as error:
            logger.warning("cannot message {} about a gift: {}", user_id, error.message)

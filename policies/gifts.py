"""Red-envelope gifts (`gifts:`): the shop's pools of coupon codes, the behaviour a pool
rewards, and the texts of a claim.

A gift is claimed through a deep link and delivered in the member's private chat, once per
member, group and pool. Pure: the shell reads code files, talks to Telegram and keeps the
claims in SQLite.
"""

from __future__ import annotations

import re
import zlib
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from policies.base import Invalid, Names, StrictModel, check_placeholders

__all__ = [
    "GIFT_PLACEHOLDERS",
    "GiftPool",
    "GiftReward",
    "GiftTemplates",
    "GiftsConfig",
    "hashtags_in",
    "matching_reward",
    "parse_codes",
    "pool_number",
]

POOL_NUMBERS = 100_000
"""Pools travel in buttons and deep links as a short number derived from their name."""
MAX_CODE_LENGTH = 64

_CODE = re.compile(rf"^\S{{1,{MAX_CODE_LENGTH}}}$")
_HASHTAG = re.compile(r"#\w+")

PoolName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]

GIFT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "claim_button": frozenset(),
    "reward_prompt": frozenset({"user", "group"}),
    "delivered": frozenset({"user", "group", "code"}),
    "already_claimed": frozenset({"group", "code"}),
    "pool_empty": frozenset({"group"}),
    "not_member": frozenset({"group"}),
    "link_invalid": frozenset(),
    "not_yours": frozenset(),
}


def pool_number(name: str) -> int:
    """A pool's number in signed tokens: stable when pools are added, removed or reordered."""
    return zlib.crc32(name.encode()) % POOL_NUMBERS


def parse_codes(text: str) -> tuple[str, ...]:
    """The codes of a codes file: one per line; blank lines and `#` comments are skipped."""
    codes: dict[str, None] = {}
    for line in text.splitlines():
        code = line.split("#", 1)[0].strip()
        if code:
            codes[code] = None
    return tuple(codes)


def _check_code(code: str) -> str:
    if not _CODE.match(code):
        raise Invalid(
            "{code!r} is not a code: 1-{longest} characters without spaces",
            code=code,
            longest=MAX_CODE_LENGTH,
        )
    return code


def hashtags_in(text: str) -> frozenset[str]:
    """The text's hashtags, case-folded: `#Review` and `#review` are one tag."""
    return frozenset(tag.casefold() for tag in _HASHTAG.findall(text))


class GiftPool(StrictModel):
    """Where a pool's gifts come from: exactly one of `codes`, `codes_file` or `shared_code`."""

    codes: tuple[str, ...] = Field((), description="Single-use codes, each handed out once")
    codes_file: str | None = Field(
        None,
        description="A file of single-use codes, one per line, relative to the config file",
    )
    shared_code: str | None = Field(None, description="One code that every member may claim once")

    @field_validator("codes")
    @classmethod
    def _codes_are_words(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        for code in codes:
            _check_code(code)
        if len(set(codes)) != len(codes):
            raise Invalid("a code is listed twice; each code is handed out once")
        return codes

    @field_validator("shared_code")
    @classmethod
    def _shared_code_is_a_word(cls, code: str | None) -> str | None:
        return code if code is None else _check_code(code)

    @model_validator(mode="after")
    def _one_source(self) -> GiftPool:
        sources = [bool(self.codes), self.codes_file is not None, self.shared_code is not None]
        if sum(sources) != 1:
            raise Invalid("give exactly one of codes, codes_file or shared_code")
        return self


class GiftReward(StrictModel):
    """A gift prompt for behaviour the shop wants, such as a buyer's photo with `#review`."""

    pool: PoolName = Field(description="The pool the rewarded member claims from")
    hashtags: tuple[str, ...] = Field(
        min_length=1, description="Any of these tags in the text or caption earns the prompt"
    )
    photo: bool = Field(True, description="Only a photo with the tag in its caption counts")

    @field_validator("hashtags")
    @classmethod
    def _are_hashtags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        for tag in tags:
            if not re.fullmatch(r"#\w+", tag):
                raise Invalid("{tag!r} is not a hashtag like #review or #晒单", tag=tag)
        return tuple(tag.casefold() for tag in tags)


class GiftTemplates(StrictModel):
    """Texts of a gift claim. HTML templates, except `link_invalid` and `not_yours`, which
    also appear as button pop-ups and must be plain text. No defaults in code."""

    claim_button: str = Field(description="The button under a reward prompt")
    reward_prompt: str = Field(description="In the group, to a member who earned a reward")
    delivered: str = Field(description="In private: the gift's code")
    already_claimed: str = Field(description="In private: a second claim, with the first code")
    pool_empty: str = Field(description="In private: every code has been handed out")
    not_member: str = Field(description="In private: only members of the group may claim")
    link_invalid: str = Field(description="A forged or foreign gift link (plain text)")
    not_yours: str = Field(description="Pop-up: the button was meant for someone else")

    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, template: str, info: ValidationInfo) -> str:
        name = info.field_name or ""
        return check_placeholders(name, template, GIFT_PLACEHOLDERS.get(name, frozenset()))


class GiftsConfig(StrictModel):
    """Red-envelope gifts (`gifts:`): coupon pools, the welcome gift and rewards."""

    pools: dict[PoolName, GiftPool] = Field(default_factory=dict, description="Gift pools by name")
    welcome_pool: PoolName | None = Field(
        None, description="The pool behind the welcome's gift button; none hides the button"
    )
    rewards: tuple[GiftReward, ...] = Field((), description="Behaviour that earns a gift prompt")
    templates: GiftTemplates

    @model_validator(mode="after")
    def _pools_exist(self) -> GiftsConfig:
        named = [self.welcome_pool] if self.welcome_pool else []
        named += [reward.pool for reward in self.rewards]
        for name in named:
            if name not in self.pools:
                if not self.pools:
                    raise Invalid("unknown gift pool {name!r} (pools: none yet)", name=name)
                raise Invalid(
                    "unknown gift pool {name!r} (pools: {known})",
                    name=name,
                    known=Names(sorted(self.pools)),
                )
        numbers = {pool_number(name) for name in self.pools}
        if len(numbers) != len(self.pools):
            raise Invalid("two pool names share a number; rename one of them")
        return self

    def pool_by_number(self, number: int) -> tuple[str, GiftPool] | None:
        """The pool a token names, if the policy still has it."""
        return next(
            ((name, pool) for name, pool in self.pools.items() if pool_number(name) == number),
            None,
        )


def matching_reward(
    rewards: tuple[GiftReward, ...] | list[GiftReward], text: str, *, has_photo: bool
) -> GiftReward | None:
    """The first reward a message earns, if any."""
    tags = hashtags_in(text)
    if not tags:
        return None
    for reward in rewards:
        if (has_photo or not reward.photo) and tags & set(reward.hashtags):
            return reward
    return None

"""Red-envelope gifts (`gifts:`): the shop's pools of coupon codes, the behaviour a pool
rewards, and the texts of a claim.

A gift is claimed through a deep link and delivered in the member's private chat, once per
member, group and pool. The welcome's gift is for newcomers only: a member whose join qunbot
saw within `welcome_claim_within`, so old members cannot farm it through the welcome's button.
Pure: the shell reads code files, talks to Telegram and keeps the claims in SQLite.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from policies.base import Invalid, Names, StrictModel, check_placeholders, worded
from policies.durations import FOREVER, Duration, format_duration, parse_duration

__all__ = [
    "GIFT_PLACEHOLDERS",
    "ClaimRight",
    "GiftPool",
    "GiftReward",
    "GiftTemplates",
    "GiftsConfig",
    "hashtags_in",
    "matching_reward",
    "may_claim",
    "parse_codes",
    "pool_number",
]

POOL_NUMBERS = 100_000
"""Pools travel in buttons and deep links as a short number derived from their name."""
MAX_CODE_LENGTH = 64
SHORTEST_CLAIM_WINDOW = 3600.0
"""A newcomer may be muted by the newcomer check, or wait for a raid's welcome, for a while."""
LONGEST_CLAIM_WINDOW = 90 * 86400.0
"""Past three months a member is no newcomer, whatever the shop means by one."""

_CODE = re.compile(rf"^\S{{1,{MAX_CODE_LENGTH}}}$")
_HASHTAG = re.compile(r"#\w+")

POOL_NAME = worded(
    r"^[a-z\u4e00-\u9fff][a-z0-9_\u4e00-\u9fff]{0,31}$",
    Invalid(
        "use only Chinese characters, lowercase English letters, digits and underscores (_), "
        "at most 32, starting with a letter or a Chinese character, like {example}",
        example="welcome",
    ),
)
"""Chinese is safe here: a pool's name is a key and a label; buttons and links carry its
number (`pool_number`), never the name."""
PoolName = Annotated[str, Field(pattern=POOL_NAME)]

GIFT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "claim_button": frozenset(),
    "reward_prompt": frozenset({"user", "group"}),
    "delivered": frozenset({"user", "group", "code"}),
    "already_claimed": frozenset({"group", "code"}),
    "pool_empty": frozenset({"group"}),
    "not_member": frozenset({"group"}),
    "link_invalid": frozenset(),
    "not_yours": frozenset(),
    "newcomers_only": frozenset(),
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
    """Texts of a gift claim. HTML templates, except `link_invalid`, `not_yours` and
    `newcomers_only`, which also appear as button pop-ups and must be plain text. No defaults
    in code."""

    claim_button: str = Field(description="The button under a reward prompt")
    reward_prompt: str = Field(description="In the group, to a member who earned a reward")
    delivered: str = Field(description="In private: the gift's code")
    already_claimed: str = Field(description="In private: a second claim, with the first code")
    pool_empty: str = Field(description="In private: every code has been handed out")
    not_member: str = Field(description="In private: only members of the group may claim")
    link_invalid: str = Field(description="A forged or foreign gift link (plain text)")
    not_yours: str = Field(description="Pop-up: the button was meant for someone else")
    newcomers_only: str = Field(
        description="Pop-up, and in private: the welcome's gift is for newcomers (plain text)"
    )

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
    welcome_claim_within: Duration = Field(
        parse_duration("7d"),
        description="Only members whose join qunbot saw within this long may claim the "
        "welcome's gift; between 1h and 90d",
    )
    rewards: tuple[GiftReward, ...] = Field((), description="Behaviour that earns a gift prompt")
    templates: GiftTemplates

    @field_validator("welcome_claim_within")
    @classmethod
    def _sensible_claim_window(cls, value: float) -> float:
        if value == FOREVER or not SHORTEST_CLAIM_WINDOW <= value <= LONGEST_CLAIM_WINDOW:
            raise Invalid("must be between 1h and 90d")
        return value

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


@dataclass(frozen=True, slots=True)
class ClaimRight:
    """Whether a member may claim from a pool, and the rule that decided it."""

    allowed: bool
    reason: str


def may_claim(
    gifts: GiftsConfig,
    *,
    personal: bool,
    joined_at: float | None,
    now: float,
    offences: int = 0,
) -> ClaimRight:
    """The welcome's gift button is shared by everyone its welcome greets, and any member can
    press it: so its gift goes to newcomers only, members whose join qunbot saw in this group
    within `welcome_claim_within` and who have no offence on record here (a spammer removed and
    re-invited joins again, but is no new customer). A personal button (a reward) was earned by
    its member, whatever pool it draws from."""
    if personal:
        return ClaimRight(True, "a personal button: the member earned this gift")
    if offences:
        return ClaimRight(False, "the member has offences on record in this group: no newcomer")
    window = format_duration(gifts.welcome_claim_within)
    if joined_at is None:
        return ClaimRight(False, "qunbot never saw this member join the group: not a newcomer")
    if now - joined_at > gifts.welcome_claim_within:
        return ClaimRight(False, f"joined more than {window} ago: no longer a newcomer")
    return ClaimRight(True, f"joined within {window}: a newcomer")

"""The policy schema: what an operator may write in a policy YAML, with defaults and limits.

Every model forbids unknown keys, so a misspelt key is an error with a suggestion, never a
silently ignored setting.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from policies.base import Invalid, unknown_placeholder, worded

# Re-exported: sections and the config import them from here.
from policies.base import StrictModel as StrictModel
from policies.base import placeholders_in as placeholders_in
from policies.complaints import ComplaintsConfig
from policies.detect.config import DetectorsConfig
from policies.durations import (
    FOREVER,
    Duration,
    format_duration,
    parse_duration,
    parse_mute_duration,
)
from policies.gifts import GiftsConfig
from policies.rhythm import RhythmConfig
from policies.stats import StatsConfig
from policies.welcome import WelcomeConfig


class ForeignBots(StrEnum):
    """What to do with a bot a member who is not an admin adds to the group."""

    REMOVE = "remove"
    ALLOW = "allow"


class Mode(StrEnum):
    """The tone of the first response to an ad poster: a playful call-out, a removal with a
    later re-invite, or a ban."""

    SOFT = "soft"
    NEUTRAL = "neutral"
    HARD = "hard"


class StepKind(StrEnum):
    SOFT = "soft"
    NEUTRAL = "neutral"
    HARD = "hard"
    MUTE = "mute"


_STEP = re.compile(r"^\s*(soft|neutral|hard|mute)(?:\s+(\S+))?\s*$", re.IGNORECASE)
STEP_WORDS = {"提醒": "soft", "踢出": "neutral", "移出": "neutral", "封禁": "hard", "禁言": "mute"}
STEP_WORDS |= {"温柔": "soft", "中性": "neutral", "暴力": "hard"}
"""Steps and modes as a Chinese group's replies name them (`/policy` shows `禁言 1 天 → 踢出`),
so an admin may type back what the bot showed, and the words shop owners use for the modes."""
_CHINESE_STEP = re.compile(f"^\\s*({'|'.join(STEP_WORDS)})\\s*(.*?)\\s*$")


_WHOLE_STEPS = {"永久禁言": ("mute", "forever"), "mute for good": ("mute", "forever")}
"""Steps the replies name with the duration first (a mute for good)."""


def _step_parts(value: str) -> tuple[str, str | None] | None:
    """(kind, duration or None) of a step written in English or Chinese (`mute 1d`, `禁言1天`)."""
    whole = _WHOLE_STEPS.get(value.strip().lower())
    if whole is not None:
        return whole
    match = _STEP.match(value)
    if match is not None:
        return match.group(1).lower(), match.group(2)
    match = _CHINESE_STEP.match(value)
    if match is not None:
        return STEP_WORDS[match.group(1)], match.group(2) or None
    return None


STEP_SEPARATORS = re.compile("(?:-+>|=>|[,，、;；→⇒>＞])+")
"""Between ladder steps written on one line: commas (`,` `，` `、`), semicolons (`;` `；`) or an
arrow (`→` as `/policy` shows them, `->`). YAML reads `[提醒， 踢出]` as one item, since its
commas are full-width; `/ladder` and a policy file split the same way."""


def split_steps(value: Any) -> Any:
    """A ladder written as one text (`提醒，踢出，封禁`), or with several steps in one item, as
    its list of steps; anything else as it is."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return value
    steps: list[Any] = []
    for item in value:
        if isinstance(item, str):
            steps += [part.strip() for part in STEP_SEPARATORS.split(item) if part.strip()]
        else:
            steps.append(item)
    return steps


def mode_word(value: Any) -> Any:
    """A mode as its Chinese name (`踢出`) read as the mode it names; anything else as it is."""
    return STEP_WORDS.get(value.strip(), value) if isinstance(value, str) else value


def mode_value(value: Any) -> Any:
    """A mode written in English or Chinese, or a refusal that names the modes both ways (the
    catalog gives each language its names)."""
    word = mode_word(value)
    if not isinstance(word, str) or word in set(Mode):
        return word
    if word == StepKind.MUTE:
        raise Invalid(
            "{value!r} is a ladder step, not a mode: the mode is soft, neutral or hard; "
            "a mute goes in the ladder, like 'mute 1d'",
            value=value,
        )
    raise Invalid("{value!r} is not a mode: use soft, neutral or hard", value=value)


MODE_PATH = ("moderation", "mode")
LADDER_PATH = ("moderation", "ladder")


def canonical_setting(path: tuple[str, ...], value: Any) -> Any:
    """A mode or ladder an admin typed, as the schema names it (`提醒` is `soft`, `禁言 1天` is
    `mute 1d`): a stored override then reads the same whatever language the group speaks
    later. Anything else, and a step the schema refuses, as it was written."""
    if path == MODE_PATH:
        return mode_word(value)
    if path == LADDER_PATH:
        value = split_steps(value)
    if path == LADDER_PATH and isinstance(value, list):
        return [_step_label(step) for step in value]
    return value


def _step_label(value: Any) -> Any:
    try:
        return LadderStep.model_validate(value).label()
    except ValidationError:
        return value


class LadderStep(StrictModel):
    """One rung of the escalation ladder, written in YAML as `soft` or `mute 7d`."""

    kind: StepKind
    duration: float | None = None

    @model_validator(mode="before")
    @classmethod
    def parse_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = _step_parts(value)
        if parts is None:
            raise Invalid(
                "{value!r} is not a ladder step: use soft, neutral, hard or 'mute 1d'",
                value=value,
            )
        kind, duration = parts
        if kind == "mute":
            if duration is None:
                raise Invalid("a mute step needs a duration, for example 'mute 1d'")
            return {"kind": kind, "duration": duration}
        if duration is not None:
            raise Invalid("only mute steps take a duration, not {value!r}", value=value)
        return {"kind": kind}

    @field_validator("duration", mode="before")
    @classmethod
    def _mute_length(cls, value: Any) -> float | None:
        return None if value is None else parse_mute_duration(value)

    def label(self) -> str:
        if self.kind is StepKind.MUTE and self.duration is not None:
            return f"mute {format_duration(self.duration)}"
        return self.kind.value


class UnknownMembers(StrEnum):
    """Members whose join qunbot never saw (there before it, or before its database)."""

    ESTABLISHED = "established"
    NEWCOMERS = "newcomers"


class ProbationConfig(StrictModel):
    """Stricter settings for newcomers, whose first messages are the usual ad vector.

    Only members whose join qunbot saw are newcomers. Members it never saw join are
    established and judged at the normal threshold, unless `unknown_members: newcomers` says
    otherwise (for a group the bot joined before its database knew, after a raid)."""

    messages: int = Field(5, ge=0, description="A member is on probation for this many messages")
    duration: Duration = Field(
        parse_duration("24h"), description="...and for this long after joining"
    )
    unknown_members: UnknownMembers = Field(
        UnknownMembers.ESTABLISHED,
        description="established: members qunbot never saw join are judged at the normal "
        "threshold; newcomers: they are on probation from when qunbot first saw them",
    )
    spam_threshold: float = Field(
        0.7, gt=0, description="The spam score that removes a message during probation"
    )
    links_are_suspicious: bool = Field(
        True, description="Any link not on the allow list counts fully during probation"
    )


class FloodConfig(StrictModel):
    """Too many messages from one account in a short time."""

    enabled: bool = True
    messages: int = Field(8, ge=2, description="Messages allowed within `window`")
    window: Duration = Field(10.0, description="The window the count applies to")
    mute: Duration = Field(
        parse_duration("5m"),
        description="How long a member who floods may not post (0: a public reminder only). "
        "A flood is not an ad: it never climbs the ladder and is never called one",
    )

    @field_validator("mute")
    @classmethod
    def finite_mute(cls, value: float) -> float:
        if value == FOREVER or value < 0:
            raise Invalid("must be a finite duration, 0 for a reminder only")
        return value


class WaveConfig(StrictModel):
    """The same text (case, digits, punctuation and greetings aside) from several accounts:
    a coordinated spam wave. Newcomers all writing "hello everyone!!" are no wave."""

    enabled: bool = True
    accounts: int = Field(3, ge=2, description="Distinct accounts posting the same text")
    window: Duration = Field(parse_duration("10m"), description="Within this window")
    min_length: int = Field(
        12, ge=1, description="Texts with fewer letters, greetings taken out, never count"
    )


class ModerationConfig(StrictModel):
    """How ads are detected and how their posters are handled."""

    mode: Mode = Field(Mode.NEUTRAL, description="The first response to an ad poster")
    ladder: tuple[LadderStep, ...] = Field(
        default_factory=lambda: tuple(
            LadderStep.model_validate(step) for step in ("soft", "neutral", "hard")
        ),
        min_length=1,
        description="Responses by offence count within `window`; the mode picks the first",
    )
    window: Duration = Field(
        parse_duration("30d"), description="Offences older than this no longer count"
    )
    delete_ads: bool = Field(True, description="Delete the ad itself in every mode")
    callout_interval: Duration = Field(
        30.0, description="At most one public call-out per group per interval (raids)"
    )
    reinvite_after: Duration = Field(
        parse_duration("6h"),
        description="Neutral mode: a removed member who writes to the bot after this gets a "
        "fresh invite; before it, the bot stays silent",
    )
    invite_ttl: Duration = Field(
        parse_duration("1d"), description="How long a re-invite link stays valid"
    )
    revoke_messages_on_ban: bool = Field(
        False,
        description="Hard mode: ask Telegram to revoke the banned member's messages as well "
        "(Telegram deletes what it chooses to; it does not promise every message)",
    )
    foreign_bots: ForeignBots = Field(
        ForeignBots.REMOVE,
        description="A bot added by a member who is not an admin: remove it, or allow it",
    )
    paid_group: bool = Field(False, description="Remind admins to refund a banned member")
    reports_to_remove: int = Field(
        3, ge=0, description="Distinct members whose /report removes a message (0: never)"
    )
    report_cooldown: Duration = Field(60.0, description="How often one member may /report")
    probation: ProbationConfig = Field(default_factory=ProbationConfig)
    flood: FloodConfig = Field(default_factory=FloodConfig)
    wave: WaveConfig = Field(default_factory=WaveConfig)
    detectors: DetectorsConfig = Field(default_factory=DetectorsConfig)

    @field_validator("window", "callout_interval")
    @classmethod
    def finite(cls, value: float) -> float:
        if value == FOREVER or value <= 0:
            raise Invalid("must be a positive, finite duration")
        return value

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_in_chinese(cls, value: Any) -> Any:
        return mode_value(value)

    @field_validator("ladder", mode="before")
    @classmethod
    def _steps_on_one_line(cls, value: Any) -> Any:
        return split_steps(value)


TEMPLATE_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "callout": frozenset({"users", "group"}),
    "callout_button": frozenset(),
    "callout_acknowledged": frozenset({"user"}),
    "announce_removed": frozenset({"users", "group", "reason"}),
    "announce_muted": frozenset({"users", "group", "duration"}),
    "flood_muted": frozenset({"users", "group", "duration"}),
    "flood_warned": frozenset({"users", "group"}),
    "reinvite_apology": frozenset({"user", "group", "invite"}),
    "reinvite_after_undo": frozenset({"user", "group", "invite"}),
    "admin_banned": frozenset({"user", "group", "reason"}),
    "admin_removed": frozenset({"user", "group", "reason", "reinvite_after"}),
    "admin_refund": frozenset({"user", "group"}),
    "reinvite_now_button": frozenset(),
    "start_private": frozenset({"bot"}),
    "warned": frozenset({"user", "reason", "next"}),
    "not_admin": frozenset(),
    "report_thanks": frozenset(),
    "report_too_soon": frozenset({"wait"}),
    "report_needs_reply": frozenset(),
    "slow_down": frozenset(),
}
"""Every template a policy must provide, with the placeholders it may use."""


class Templates(StrictModel):
    """Texts shown in chats, as HTML templates; placeholder values are always escaped.

    There are no defaults in code: the presets carry the English and Chinese texts.
    """

    callout: str
    callout_button: str
    callout_acknowledged: str
    announce_removed: str
    announce_muted: str
    flood_muted: str
    flood_warned: str
    reinvite_apology: str
    reinvite_after_undo: str
    """The invite of a member whose removal an admin undid: qunbot's mistake, not theirs."""
    admin_banned: str
    admin_removed: str
    admin_refund: str
    reinvite_now_button: str
    start_private: str
    warned: str
    not_admin: str
    report_thanks: str
    report_too_soon: str
    report_needs_reply: str
    slow_down: str
    rule_kinds: dict[str, str] = Field(
        description="How public notices name what a message broke, by rule (`contact.wechat`) "
        "or family (`link`), with `default` for the rest. A public notice gives this, never "
        "the matched text: the evidence goes to the staff chat and /why."
    )

    @field_validator("rule_kinds")
    @classmethod
    def plain_kinds(cls, kinds: dict[str, str]) -> dict[str, str]:
        if "default" not in kinds:
            raise Invalid("rule_kinds needs a `default` entry")
        used = sorted(name for name, text in kinds.items() if placeholders_in(text))
        if used:
            raise Invalid("rule_kinds.{kind} may use no placeholder", kind=used[0])
        return kinds

    @field_validator("*")
    @classmethod
    def known_placeholders(cls, template: object, info: ValidationInfo) -> object:
        if not isinstance(template, str):
            return template
        allowed = TEMPLATE_PLACEHOLDERS.get(info.field_name or "", frozenset())
        unknown = sorted(placeholders_in(template) - allowed)
        if unknown:
            raise unknown_placeholder(info.field_name or "", unknown[0], allowed)
        return template


POLICY_NAME = worded(
    r"^[A-Za-z0-9_.-]+$",
    Invalid(
        "use only English letters, digits, underscores (_), dots (.) and hyphens (-), like "
        "{example}: a policy's name is its file's name ({file}); a name in Chinese goes in "
        "the policy's `name:`",
        example="shop_2",
        file="policies/shop_2.yaml",
    ),
)
"""ASCII only: the name is a file name, which a zip made on Windows or a GBK file system would
garble, and operators type it in configs and commands."""
PolicyName = Annotated[str, Field(pattern=POLICY_NAME, max_length=64)]


class Policy(StrictModel):
    """One group's rules. Presets ship with qunbot; operators extend and override them."""

    extends: PolicyName | None = Field(None, description="A preset or policy to start from")
    name: str = Field("", description="Shown by /policy")
    language: str | None = Field(
        None,
        pattern=worded(
            r"^[a-z]{2}(-[A-Za-z]+)?$",
            Invalid("write a language code, like {example}", example="zh"),
        ),
        description="The language qunbot speaks in the group (en, zh); unset: the config's",
    )
    moderation: ModerationConfig = Field(default_factory=ModerationConfig)
    templates: Templates
    complaints: ComplaintsConfig = Field(description="Complaints and private tickets")
    welcome: WelcomeConfig = Field(description="The welcome script and the newcomer check")
    gifts: GiftsConfig = Field(description="Red-envelope gifts: coupon pools and rewards")
    rhythm: RhythmConfig = Field(description="Scheduled posts and flash-sale countdowns")
    stats: StatsConfig = Field(default_factory=StatsConfig, description="Weekly report, sizes")

    def first_step_index(self) -> int:
        """The ladder rung the group's mode starts on; the first rung if the mode is absent."""
        for index, step in enumerate(self.moderation.ladder):
            if step.kind.value == self.moderation.mode.value:
                return index
        return 0


def is_duration_key(path: tuple[str, ...]) -> bool:
    """Whether a policy key (`moderation.window`) holds a duration: a bare number typed for it
    in chat would silently mean seconds."""
    model: type[StrictModel] = Policy
    for position, name in enumerate(path):
        field = model.model_fields.get(name)
        if field is None:
            return False
        if position == len(path) - 1:
            return any(
                isinstance(rule, BeforeValidator) and rule.func is parse_duration
                for rule in field.metadata
            )
        nested = field.annotation
        if not (isinstance(nested, type) and issubclass(nested, StrictModel)):
            return False
        model = nested
    return False

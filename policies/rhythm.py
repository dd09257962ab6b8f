"""Group rhythm (`rhythm:`): scheduled posts, flash-sale countdowns, quiet hours and the
promotion cap, and the pure planner that says which posts are due at a given moment.

Seed 004: post at fixed times (a morning greeting, an afternoon tip), but three promotion days
in a row made loyal customers leave. Seed 002: announce a flash sale once a day from three days
ahead, preview the red-envelope rain the day before, notify on the morning of the sale and one
hour before it, then start. Pure: every function is given the time; nothing reads a clock.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)

from policies.base import Invalid, StrictModel, check_placeholders, worded
from policies.durations import FOREVER, Duration, parse_duration

__all__ = [
    "LOOKBACK",
    "Campaign",
    "CountdownStep",
    "CountdownTexts",
    "Decision",
    "Outcome",
    "PlannedPost",
    "PromotionCap",
    "QuietHours",
    "RhythmConfig",
    "Schedule",
    "decide_due",
    "occurrences",
    "planned_posts",
    "rehearse",
    "skipped_line",
]

DAY = 86400.0
LOOKBACK = 2 * DAY
"""How far back the planner looks for posts that were missed (the bot was down)."""
PROMOTION_WINDOW_DAYS = 3
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES = {name: index for index, name in enumerate(WEEKDAYS)} | {
    full: index
    for index, full in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_DAY_GROUPS = {
    "daily": tuple(range(7)),
    "every day": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekends": (5, 6),
}
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_MONDAY = dt.date(1970, 1, 5)
"""A Monday: occurrences are numbered from here, so text rotation survives restarts."""

SCHEDULE_PLACEHOLDERS = frozenset({"group", "date"})
COUNTDOWN_PLACEHOLDERS = frozenset({"group", "campaign", "date", "time", "days", "remaining"})
"""`remaining`: how long until the start (the `last_call` lead), spelled in the group's
language by the shell."""
IDENTIFIER = worded(
    r"^[a-z0-9_\u4e00-\u9fff-]{1,32}$",
    Invalid(
        "use only Chinese characters, lowercase English letters, digits, underscores (_) and "
        "hyphens (-), at most 32, like {example}",
        example="morning",
    ),
)
"""Chinese is safe here: the id is only a key in the database and a label for the staff."""
Identifier = Annotated[str, Field(pattern=IDENTIFIER)]


# ------------------------------------------------------------------------ value types


def parse_local_time(value: object) -> dt.time:
    """`"08:30"` as a time of day; YAML reads an unquoted 10:00 as the number 600."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise Invalid(
            'write the time in quotes, like "10:00" (YAML read it as {value})', value=value
        )
    match = _TIME.match(str(value))
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise Invalid('{value!r} is not a time of day: write it like "08:30"', value=value)
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_local_datetime(value: object) -> dt.datetime:
    """`"2026-05-16 20:00"` in the group's time zone (a naive local date and time)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, second=0, microsecond=0)
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(
            '{value!r} is not a date and time: write it like "2026-05-16 20:00"', value=value
        ) from None
    if parsed.tzinfo is not None:
        raise Invalid("leave out the UTC offset: times are in the policy's `timezone`")
    return parsed.replace(second=0, microsecond=0)


def parse_weekdays(value: object) -> tuple[int, ...]:
    """`daily`, `weekdays`, `mon-fri`, `sat, sun` or a list of days, as sorted indexes (0 =
    Monday)."""
    if isinstance(value, list | tuple):
        parts = [str(item) for item in value]
    else:
        text = str(value).strip().lower()
        if text in _DAY_GROUPS:
            return _DAY_GROUPS[text]
        parts = re.split(r"[,\s]+", text)
    days: set[int] = set()
    for part in (p.strip().lower() for p in parts if p.strip()):
        days.update(_day_range(part))
    if not days:
        raise Invalid("name at least one day, for example `daily`, `mon-fri` or [sat, sun]")
    return tuple(sorted(days))


def _day_range(part: str) -> range | tuple[int, ...]:
    if part in _DAY_GROUPS:
        return _DAY_GROUPS[part]
    first, _, last = part.replace("–", "-").partition("-")
    if first not in _WEEKDAY_NAMES or (last and last not in _WEEKDAY_NAMES):
        raise Invalid("{day!r} is not a day: use mon, tue, wed, thu, fri, sat or sun", day=part)
    start, end = _WEEKDAY_NAMES[first], _WEEKDAY_NAMES[last or first]
    if end < start:
        return tuple(range(start, 7)) + tuple(range(0, end + 1))
    return range(start, end + 1)


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


LocalTime = Annotated[
    dt.time,
    BeforeValidator(parse_local_time),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
]
LocalDateTime = Annotated[
    dt.datetime,
    BeforeValidator(parse_local_datetime),
    PlainSerializer(lambda value: value.strftime("%Y-%m-%d %H:%M"), return_type=str),
]
Weekdays = Annotated[
    tuple[int, ...],
    BeforeValidator(parse_weekdays),
    PlainSerializer(lambda days: [WEEKDAYS[day] for day in days], return_type=list[str]),
]
Texts = Annotated[tuple[str, ...], BeforeValidator(_one_or_many), Field(min_length=1)]


# --------------------------------------------------------------------------- sections


class QuietHours(StrictModel):
    """No post goes out in this window (it may cross midnight); a post due in it is skipped."""

    start: LocalTime = Field(description='Start of the quiet window, like "22:30"')
    end: LocalTime = Field(description='End of the quiet window, like "08:00"')

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str) and "-" in value:
            start, _, end = value.partition("-")
            return {"start": start, "end": end}
        return value

    def contains(self, moment: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class PromotionCap(StrictModel):
    """The promotion fatigue guard: promotional posts beyond these caps are not sent."""

    per_day: int = Field(3, ge=1, description="Promotional posts per group per calendar day")
    per_3_days: int = Field(
        5, ge=1, description="Promotional posts per group in any 3 consecutive calendar days"
    )

    @model_validator(mode="after")
    def _consistent(self) -> PromotionCap:
        if self.per_3_days < self.per_day:
            raise Invalid("per_3_days cannot be smaller than per_day")
        return self


class Schedule(StrictModel):
    """A post at a fixed time of day, every day or on chosen weekdays."""

    id: Identifier = Field(description="A short name; it identifies the post across restarts")
    at: LocalTime = Field(description='Time of day in the policy\'s time zone, like "08:30"')
    days: Weekdays = Field(
        default=tuple(range(7)), description="`daily`, `weekdays`, `mon-fri`, or [sat, sun]"
    )
    text: Texts = Field(description="A template, or a list of templates used in turn")
    promotional: bool = Field(False, description="Counts against the promotion cap")
    pin: bool = Field(False, description="Pin the post (silently)")

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, texts: tuple[str, ...]) -> tuple[str, ...]:
        for text in texts:
            check_placeholders("text", text, SCHEDULE_PLACEHOLDERS)
        return texts


class CountdownStep(StrEnum):
    """The flash-sale countdown, in order: announcements from three days ahead, a preview the
    day before, a morning notice, a notice an hour before, and the start."""

    ANNOUNCE = "announce"
    PREVIEW = "preview"
    MORNING = "morning"
    LAST_CALL = "last_call"
    START = "start"
    END = "end"


class CountdownTexts(StrictModel):
    """The countdown's texts; the presets carry them, a campaign may override each one."""

    announce: str = Field(description="Once a day from `announce_days` before; {days} left")
    preview: str = Field(
        description="The red-envelope-rain preview, the day before (instead of that day's "
        "announcement)"
    )
    morning: str = Field(description="On the morning of the sale")
    last_call: str = Field(description="The red-envelope notice, `last_call` before the start")
    start: str = Field(description="The sale starts")
    end: str = Field(description="After `duration`, if the campaign has one")

    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, template: str, info: ValidationInfo) -> str:
        return check_placeholders(info.field_name or "", template, COUNTDOWN_PLACEHOLDERS)


class CountdownOverrides(StrictModel):
    """One campaign's own texts; an empty text skips that step."""

    announce: str | None = None
    preview: str | None = None
    morning: str | None = None
    last_call: str | None = None
    start: str | None = None
    end: str | None = None

    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, template: str | None, info: ValidationInfo) -> str | None:
        if template is None:
            return None
        return check_placeholders(info.field_name or "", template, COUNTDOWN_PLACEHOLDERS)


class Campaign(StrictModel):
    """A flash sale and its countdown. Every step is optional: an empty text skips it."""

    id: Identifier = Field(description="A short name; it identifies the posts across restarts")
    name: str = Field(description="Shown as {campaign} in the texts")
    starts_at: LocalDateTime = Field(description='When the sale starts, like "2026-05-16 20:00"')
    announce_days: int = Field(
        3, ge=0, le=14, description="Announce once a day from this many days before the sale"
    )
    announce_at: LocalTime = Field(
        parse_local_time("10:00"), description="Time of the announcements and the preview"
    )
    morning_at: LocalTime = Field(
        parse_local_time("09:00"), description="Time of the notice on the day of the sale"
    )
    last_call: Duration = Field(
        parse_duration("1h"), description="The last notice comes this long before the start"
    )
    duration: Duration | None = Field(
        None, description="The sale's length: the `end` step runs then and unpins the pins"
    )
    pin: tuple[CountdownStep, ...] = Field((), description="Steps whose post is pinned")
    unpin_previous: bool = Field(
        True, description="A new pinned countdown post replaces the campaign's previous pin"
    )
    promotional: bool = Field(True, description="Counts against the promotion cap")
    texts: CountdownOverrides = Field(default_factory=CountdownOverrides)

    @field_validator("last_call", "duration")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and (value == FOREVER or value > 7 * DAY):
            raise Invalid("must be a finite duration of at most 7d")
        return value


class RhythmConfig(StrictModel):
    """Scheduled posts and flash-sale countdowns (`rhythm:`), in the group's time zone."""

    timezone: str = Field("Asia/Shanghai", description="An IANA time zone, like Asia/Shanghai")
    grace: Duration = Field(
        parse_duration("15m"),
        description="A post missed by less than this (the bot was down) still goes out once",
    )
    quiet_hours: QuietHours | None = Field(
        None, description='No posts in this window, like "22:30-08:00"'
    )
    promotion_cap: PromotionCap = Field(default_factory=PromotionCap)
    countdown: CountdownTexts = Field(description="The default texts of every countdown")
    schedules: tuple[Schedule, ...] = ()
    campaigns: tuple[Campaign, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                "unknown time zone {value!r}; use a name like Asia/Shanghai", value=value
            ) from None
        return value

    @field_validator("grace")
    @classmethod
    def _sensible_grace(cls, value: float) -> float:
        if not 60 <= value <= LOOKBACK / 4:
            raise Invalid("must be between 1m and 12h")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> RhythmConfig:
        repeated = _repeated_id(self.schedules)
        if repeated:
            raise Invalid("two schedules are called {name!r}: ids must be unique", name=repeated)
        repeated = _repeated_id(self.campaigns)
        if repeated:
            raise Invalid("two campaigns are called {name!r}: ids must be unique", name=repeated)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# --------------------------------------------------------------------------- planning


class PostKind(StrEnum):
    POST = "post"
    """A message in the group."""
    REPORT = "report"
    """The weekly report to the staff chat."""


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """One post the rhythm plans; (`key`, `due`) identifies it across restarts."""

    key: str
    due: float
    label: str
    template: str = ""
    values: Mapping[str, object] = field(default_factory=dict)
    promotional: bool = False
    pin: bool = False
    scope: str | None = None
    """Pins are kept per scope (one campaign): a new pin may replace the previous one."""
    unpin_scope: bool = False
    """Unpin the scope's pins first (a new pinned step, or the end of the sale)."""
    kind: PostKind = PostKind.POST
    starts_in: float | None = None
    """Seconds from this post to its campaign's start (countdown posts before the start)."""


class Outcome(StrEnum):
    SEND = "send"
    MISSED = "missed"
    QUIET = "quiet"
    CAPPED = "capped"


@dataclass(frozen=True, slots=True)
class Decision:
    post: PlannedPost
    outcome: Outcome
    reason: str = ""


def local_moment(zone: ZoneInfo, day: dt.date, at: dt.time) -> float:
    return dt.datetime.combine(day, at, tzinfo=zone).timestamp()


def local_date(zone: ZoneInfo, moment: float) -> dt.date:
    return dt.datetime.fromtimestamp(moment, zone).date()


def occurrences(
    zone: ZoneInfo, days: Sequence[int], at: dt.time, start: float, end: float
) -> Iterator[tuple[float, int]]:
    """(time, occurrence number) of each `at` on `days` within [start, end]; the number
    counts occurrences since a fixed Monday, so it is the same after a restart."""
    day = local_date(zone, start) - dt.timedelta(days=1)
    last = local_date(zone, end) + dt.timedelta(days=1)
    while day <= last:
        weekday = day.weekday()
        if weekday in days:
            moment = local_moment(zone, day, at)
            if start <= moment <= end:
                week = (day - _MONDAY).days // 7
                yield moment, week * len(days) + days.index(weekday)
        day += dt.timedelta(days=1)


def planned_posts(rhythm: RhythmConfig, start: float, end: float) -> list[PlannedPost]:
    """Every post of the schedules and campaigns due within [start, end], in order."""
    found = [
        post
        for schedule in rhythm.schedules
        for post in _schedule_posts(rhythm, schedule, start, end)
    ]
    for campaign in rhythm.campaigns:
        found += [post for post in countdown(rhythm, campaign) if start <= post.due <= end]
    return sorted(found, key=lambda post: (post.due, post.key))


def _schedule_posts(
    rhythm: RhythmConfig, schedule: Schedule, start: float, end: float
) -> Iterator[PlannedPost]:
    zone = rhythm.zone
    for moment, number in occurrences(zone, schedule.days, schedule.at, start, end):
        yield PlannedPost(
            key=f"schedule:{schedule.id}",
            due=moment,
            label=f"schedule {schedule.id!r}",
            template=schedule.text[number % len(schedule.text)],
            values={"date": f"{local_date(zone, moment):%m-%d}"},
            promotional=schedule.promotional,
            pin=schedule.pin,
        )


def campaign_start(rhythm: RhythmConfig, campaign: Campaign) -> float:
    return campaign.starts_at.replace(tzinfo=rhythm.zone).timestamp()


def countdown(rhythm: RhythmConfig, campaign: Campaign) -> list[PlannedPost]:
    """The campaign's steps with a text (and the end, which also unpins), in order."""
    zone = rhythm.zone
    start = campaign_start(rhythm, campaign)
    sale_day = campaign.starts_at.date()
    previews = bool(_text(rhythm, campaign, CountdownStep.PREVIEW).strip())
    steps: list[tuple[CountdownStep, float]] = []
    for days_left in range(campaign.announce_days, 0, -1):
        day = sale_day - dt.timedelta(days=days_left)
        step = CountdownStep.PREVIEW if days_left == 1 and previews else CountdownStep.ANNOUNCE
        steps.append((step, local_moment(zone, day, campaign.announce_at)))
    if campaign.announce_days == 0 and previews:
        day_before = sale_day - dt.timedelta(days=1)
        steps.append((CountdownStep.PREVIEW, local_moment(zone, day_before, campaign.announce_at)))
    last_call = start - campaign.last_call if campaign.last_call > 0 else start
    morning = local_moment(zone, sale_day, campaign.morning_at)
    if morning < last_call:
        steps.append((CountdownStep.MORNING, morning))
    if campaign.last_call > 0:
        steps.append((CountdownStep.LAST_CALL, last_call))
    steps.append((CountdownStep.START, start))
    if campaign.duration is not None:
        steps.append((CountdownStep.END, start + campaign.duration))
    return [
        post
        for step, due in steps
        if (post := _countdown_post(rhythm, campaign, step, due, sale_day, start)) is not None
    ]


def _text(rhythm: RhythmConfig, campaign: Campaign, step: CountdownStep) -> str:
    own = getattr(campaign.texts, step.value)
    return str(own if own is not None else getattr(rhythm.countdown, step.value))


def _countdown_post(
    rhythm: RhythmConfig,
    campaign: Campaign,
    step: CountdownStep,
    due: float,
    sale_day: dt.date,
    start: float,
) -> PlannedPost | None:
    text = _text(rhythm, campaign, step).strip()
    ends = step is CountdownStep.END
    if not text and not (ends and campaign.pin):
        return None
    pin = step in campaign.pin
    zone = rhythm.zone
    return PlannedPost(
        key=f"campaign:{campaign.id}:{step.value}",
        due=due,
        label=f"campaign {campaign.id!r} ({step.value.replace('_', ' ')})",
        template=text,
        values={
            "campaign": campaign.name,
            "date": f"{sale_day:%m-%d}",
            "time": f"{campaign.starts_at:%H:%M}",
            "days": (sale_day - local_date(zone, due)).days,
        },
        promotional=campaign.promotional and not ends,
        pin=pin,
        scope=f"campaign:{campaign.id}",
        unpin_scope=ends or (pin and campaign.unpin_previous),
        starts_in=max(0.0, start - due),
    )


def decide_due(
    planned: Sequence[PlannedPost],
    now: float,
    rhythm: RhythmConfig,
    decided: Collection[tuple[str, float]],
    promotions_sent: Sequence[float],
) -> list[Decision]:
    """What to do now with each planned post that is due and not yet decided: send it, or
    skip it (missed by more than the grace period, in quiet hours, or over the cap)."""
    promotions = list(promotions_sent)
    decisions = []
    for post in planned:
        if post.due > now or (post.key, post.due) in decided:
            continue
        decision = _judge(post, now, rhythm, promotions)
        if decision.outcome is Outcome.SEND and post.promotional:
            promotions.append(post.due)
        decisions.append(decision)
    return decisions


def rehearse(
    rhythm: RhythmConfig, start: float, end: float, promotions_sent: Sequence[float] = ()
) -> list[Decision]:
    """What would happen to every post planned within [start, end] if the bot ran
    throughout: the posts that would be skipped are what `qunbot check` warns about."""
    promotions = list(promotions_sent)
    decisions = []
    for post in planned_posts(rhythm, start, end):
        decision = _judge(post, post.due, rhythm, promotions)
        if decision.outcome is Outcome.SEND and post.promotional:
            promotions.append(post.due)
        decisions.append(decision)
    return decisions


def _judge(
    post: PlannedPost, now: float, rhythm: RhythmConfig, promotions: Sequence[float]
) -> Decision:
    late = now - post.due
    if late > rhythm.grace:
        return Decision(post, Outcome.MISSED, f"missed by {_lateness(late)}")
    zone = rhythm.zone
    quiet = rhythm.quiet_hours
    if post.kind is PostKind.POST and quiet and quiet.contains(_time_of(zone, post.due)):
        return Decision(post, Outcome.QUIET, f"due in the quiet hours {quiet.label()}")
    if post.promotional:
        reason = cap_reason(zone, post.due, promotions, rhythm.promotion_cap)
        if reason:
            return Decision(post, Outcome.CAPPED, reason)
    return Decision(post, Outcome.SEND)


def _lateness(seconds: float) -> str:
    """`40m`, `3h 05m` or `2d 4h`: how late a missed post is, to the minute."""
    minutes = round(seconds / 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def _time_of(zone: ZoneInfo, moment: float) -> dt.time:
    return dt.datetime.fromtimestamp(moment, zone).time()


def cap_reason(
    zone: ZoneInfo, due: float, promotions: Sequence[float], cap: PromotionCap
) -> str | None:
    """Why one more promotional post at `due` would break the cap, or None if it fits."""
    day = local_date(zone, due)
    days = [local_date(zone, moment) for moment in promotions]
    same_day = sum(1 for other in days if other == day)
    if same_day >= cap.per_day:
        return f"already {same_day} promotional posts on {day:%m-%d} (cap: {cap.per_day} a day)"
    first = day - dt.timedelta(days=PROMOTION_WINDOW_DAYS - 1)
    window = sum(1 for other in days if first <= other <= day)
    if window >= cap.per_3_days:
        return (
            f"already {window} promotional posts from {first:%m-%d} to {day:%m-%d} "
            f"(cap: {cap.per_3_days} in 3 days)"
        )
    return None


def skipped_line(rhythm: RhythmConfig, decision: Decision) -> str:
    """`05-16 20:00 campaign 'summer' (start): why`, in the group's time zone."""
    moment = dt.datetime.fromtimestamp(decision.post.due, rhythm.zone)
    return f"{moment:%m-%d %H:%M} {decision.post.label}: {decision.reason}"


def _repeated_id(items: Sequence[Schedule] | Sequence[Campaign]) -> str:
    """The first id used twice, or an empty text."""
    ids = [item.id for item in items]
    return min((name for name in ids if ids.count(name) > 1), default="")

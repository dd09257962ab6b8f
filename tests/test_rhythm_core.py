"""The pure rhythm planner and the stats helpers: schedules, countdowns, the promotion cap."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from policies.rhythm import (
    Outcome,
    RhythmConfig,
    countdown,
    decide_due,
    parse_weekdays,
    planned_posts,
    rehearse,
)
from policies.stats import (
    DayCounts,
    StatsConfig,
    parse_days,
    periods,
    size_crossing,
    stats_table,
    weekly_reports,
)

ZONE = ZoneInfo("Asia/Shanghai")
COUNTDOWN = {
    "announce": "{campaign} in {days} days ({date} {time})",
    "preview": "red envelopes tomorrow at {time}",
    "morning": "today!",
    "last_call": "one hour",
    "start": "go",
    "end": "over",
}


def at(text: str) -> float:
    """A local time in Shanghai, like `2026-05-11 08:30`."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZONE).timestamp()


def local(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, ZONE).strftime("%a %m-%d %H:%M")


def rhythm(**sections: Any) -> RhythmConfig:
    return RhythmConfig.model_validate({"countdown": COUNTDOWN, **sections})


SALE = {"id": "weekend", "name": "Weekend sale", "starts_at": "2026-05-16 20:00"}


def test_a_daily_post_falls_at_the_local_time() -> None:
    config = rhythm(schedules=[{"id": "morning", "at": "08:30", "text": "Good morning"}])
    posts = planned_posts(config, at("2026-05-11 00:00"), at("2026-05-13 23:59"))
    assert [local(post.due) for post in posts] == [
        "Mon 05-11 08:30",
        "Tue 05-12 08:30",
        "Wed 05-13 08:30",
    ]
    assert posts[0].due == dt.datetime(2026, 5, 11, 0, 30, tzinfo=dt.UTC).timestamp()
    assert {post.key for post in posts} == {"schedule:morning"}


def test_texts_rotate_and_the_rotation_survives_a_restart() -> None:
    config = rhythm(
        schedules=[{"id": "tip", "at": "15:00", "days": "mon-fri", "text": ["a", "b", "c"]}]
    )
    fortnight = planned_posts(config, at("2026-05-11 00:00"), at("2026-05-24 23:59"))
    assert len(fortnight) == 10
    assert all(dt.datetime.fromtimestamp(p.due, ZONE).weekday() < 5 for p in fortnight)
    texts = "".join(post.template for post in fortnight)
    assert texts in "abc" * 5, "the texts are used in turn, across weeks"
    one_day = planned_posts(config, at("2026-05-20 00:00"), at("2026-05-20 23:59"))
    assert one_day[0].template == texts[7], "the same text when planned after a restart"


@pytest.mark.parametrize(
    ("written", "days"),
    [
        ("daily", (0, 1, 2, 3, 4, 5, 6)),
        ("Mon–Sun", (0, 1, 2, 3, 4, 5, 6)),
        ("weekdays", (0, 1, 2, 3, 4)),
        ("weekends", (5, 6)),
        ("sat, sun", (5, 6)),
        (["mon", "Wednesday"], (0, 2)),
        ("fri-mon", (0, 4, 5, 6)),
    ],
)
def test_weekdays_are_written_naturally(written: object, days: tuple[int, ...]) -> None:
    assert parse_weekdays(written) == days


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"id": "x", "at": 600, "text": "hi"}, 'write the time in quotes, like "10:00"'),
        ({"id": "x", "at": "25:00", "text": "hi"}, "not a time of day"),
        ({"id": "x", "at": "08:00", "days": "someday", "text": "hi"}, "is not a day"),
        ({"id": "x", "at": "08:00", "text": "hi {user}"}, "unknown placeholder {user}"),
        ({"id": "X Y", "at": "08:00", "text": "hi"}, "should match pattern"),
    ],
)
def test_schedule_mistakes_are_explained(schedule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("{", r"\{").replace("(", r"\(")):
        rhythm(schedules=[schedule])


def test_unknown_time_zones_and_repeated_ids_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        rhythm(timezone="Mars/Olympus")
    twice = {"id": "same", "at": "08:00", "text": "hi"}
    with pytest.raises(ValidationError, match="ids must be unique"):
        rhythm(schedules=[twice, twice])


def test_the_countdown_follows_the_seed() -> None:
    campaign = {**SALE, "duration": "2h", "pin": ["announce", "start"]}
    posts = countdown(rhythm(), rhythm(campaigns=[campaign]).campaigns[0])
    timeline = [(post.key.rsplit(":", 1)[1], local(post.due)) for post in posts]
    assert timeline == [
        ("announce", "Wed 05-13 10:00"),
        ("announce", "Thu 05-14 10:00"),
        ("preview", "Fri 05-15 10:00"),
        ("morning", "Sat 05-16 09:00"),
        ("last_call", "Sat 05-16 19:00"),
        ("start", "Sat 05-16 20:00"),
        ("end", "Sat 05-16 22:00"),
    ]
    assert posts[0].values["days"] == 3 and posts[1].values["days"] == 2
    assert [post.pin for post in posts] == [True, True, False, False, False, True, False]
    assert posts[-1].unpin_scope and not posts[-1].promotional
    assert all(post.promotional for post in posts[:-1])


def test_an_empty_text_skips_its_step() -> None:
    campaign = {**SALE, "texts": {"preview": "", "morning": ""}}
    posts = countdown(rhythm(), rhythm(campaigns=[campaign]).campaigns[0])
    assert [local(p.due) for p in posts if p.key.endswith("announce")][-1] == "Fri 05-15 10:00"
    assert not any(p.key.endswith(("preview", "morning", "end")) for p in posts)


def test_no_morning_notice_after_the_last_call() -> None:
    campaign = {**SALE, "starts_at": "2026-05-16 08:30"}
    posts = countdown(rhythm(), rhythm(campaigns=[campaign]).campaigns[0])
    assert not any(post.key.endswith("morning") for post in posts)


def test_a_post_missed_by_less_than_the_grace_period_still_goes_out() -> None:
    config = rhythm(schedules=[{"id": "morning", "at": "08:30", "text": "hi"}])
    planned = planned_posts(config, at("2026-05-11 00:00"), at("2026-05-11 12:00"))
    (late,) = decide_due(planned, at("2026-05-11 08:40"), config, set(), [])
    assert late.outcome is Outcome.SEND
    (missed,) = decide_due(planned, at("2026-05-11 08:50"), config, set(), [])
    assert missed.outcome is Outcome.MISSED and "missed by 20m" in missed.reason
    sent = {(late.post.key, late.post.due)}
    assert not decide_due(planned, at("2026-05-11 08:40"), config, sent, [])
    assert not decide_due(planned, at("2026-05-11 08:29"), config, set(), [])


def test_quiet_hours_cross_midnight() -> None:
    config = rhythm(
        quiet_hours="22:30-08:00",
        schedules=[
            {"id": "early", "at": "07:00", "text": "too early"},
            {"id": "late", "at": "23:00", "text": "too late"},
            {"id": "noon", "at": "12:00", "text": "fine"},
        ],
    )
    decisions = rehearse(config, at("2026-05-11 00:00"), at("2026-05-11 23:59"))
    outcomes = {d.post.key: d.outcome for d in decisions}
    assert outcomes == {
        "schedule:early": Outcome.QUIET,
        "schedule:noon": Outcome.SEND,
        "schedule:late": Outcome.QUIET,
    }


def test_the_promotion_cap_per_day() -> None:
    config = rhythm(
        schedules=[
            {"id": f"deal{hour}", "at": f"{hour}:00", "text": "deal", "promotional": True}
            for hour in (10, 12, 14, 16)
        ],
        promotion_cap={"per_day": 3, "per_3_days": 9},
    )
    decisions = rehearse(config, at("2026-05-11 00:00"), at("2026-05-11 23:59"))
    assert [d.outcome for d in decisions] == [Outcome.SEND] * 3 + [Outcome.CAPPED]
    assert "cap: 3 a day" in decisions[-1].reason


def test_three_promotion_days_in_a_row_are_capped() -> None:
    config = rhythm(
        schedules=[{"id": "deal", "at": "12:00", "text": "deal", "promotional": True}],
        promotion_cap={"per_day": 1, "per_3_days": 2},
    )
    decisions = rehearse(config, at("2026-05-11 00:00"), at("2026-05-16 23:59"))
    assert [d.outcome.value for d in decisions] == ["send", "send", "capped"] * 2
    assert "in 3 days" in decisions[2].reason


def test_the_countdown_fits_the_default_cap_but_one_more_promotion_does_not() -> None:
    alone = rehearse(rhythm(campaigns=[SALE]), at("2026-05-11 00:00"), at("2026-05-17 00:00"))
    assert {d.outcome for d in alone} == {Outcome.SEND}
    friday_deal = {"id": "deal", "at": "12:00", "days": "fri", "text": "deal", "promotional": True}
    crowded = rhythm(campaigns=[SALE], schedules=[friday_deal])
    decisions = rehearse(crowded, at("2026-05-11 00:00"), at("2026-05-17 00:00"))
    (capped,) = [d for d in decisions if d.outcome is Outcome.CAPPED]
    assert capped.post.key == "campaign:weekend:start"


def test_sent_promotions_count_against_the_cap() -> None:
    config = rhythm(schedules=[{"id": "deal", "at": "12:00", "text": "d", "promotional": True}])
    planned = planned_posts(config, at("2026-05-11 00:00"), at("2026-05-11 12:00"))
    history = [at("2026-05-11 09:00"), at("2026-05-11 10:00"), at("2026-05-11 11:00")]
    (decision,) = decide_due(planned, at("2026-05-11 12:00"), config, set(), history)
    assert decision.outcome is Outcome.CAPPED


def test_weekly_reports_on_the_configured_day() -> None:
    stats = StatsConfig.model_validate({"weekly_report": {"day": "mon", "at": "09:00"}})
    reports = weekly_reports(stats, ZONE, at("2026-05-10 00:00"), at("2026-05-24 00:00"))
    assert [local(report.due) for report in reports] == ["Mon 05-11 09:00", "Mon 05-18 09:00"]
    off = StatsConfig.model_validate({"weekly_report": None})
    assert weekly_reports(off, ZONE, at("2026-05-10 00:00"), at("2026-05-24 00:00")) == []


def test_a_size_alert_once_per_crossing() -> None:
    sizes = (200, 300)
    assert size_crossing(sizes, 250, 0) == (200, 200)
    assert size_crossing(sizes, 260, 200) == (200, None)
    assert size_crossing(sizes, 301, 200) == (300, 300)
    assert size_crossing(sizes, 299, 300) == (200, None)
    assert size_crossing(sizes, 300, 200) == (300, 300)


def test_long_periods_are_shown_a_week_per_row() -> None:
    first = dt.date(2026, 5, 1)
    assert len(periods(first, first + dt.timedelta(days=6))) == 7
    weeks = periods(first, first + dt.timedelta(days=29))
    assert len(weeks) == 5 and weeks[-1] == (dt.date(2026, 5, 29), dt.date(2026, 5, 30))


def test_the_table_lines_up() -> None:
    row = DayCounts("Mon 05-11", {"messages": 120, "active": 25, "ads_removed": 2})
    table = stats_table([row], DayCounts("total", {"messages": 120, "active": 25}))
    header, line, total = table.splitlines()
    assert header.split() == ["day", "msgs", "active", "joins", "left", "ads", "compl", "gifts"]
    assert line.split() == ["Mon", "05-11", "120", "25", "0", "0", "2", "0", "0"]
    assert len(header) == len(line) == len(total)


@pytest.mark.parametrize(("text", "days"), [("7d", 7), ("30d", 30), ("14", 14), ("0d", None)])
def test_days_arguments(text: str, days: int | None) -> None:
    assert parse_days(text) == days
    assert parse_days("91d") is None and parse_days("week") is None

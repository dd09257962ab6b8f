"""Group statistics (`stats:`): the daily counters, the weekly review for the staff, and the
group-size alerts.

Seed 004's weekly review: track messages and active members (people who spoke) each week and
watch the trend; 200-300 members is a healthy size. Pure: callers pass days and counts in.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator

from policies.base import Invalid, StrictModel
from policies.rhythm import (
    WEEKDAYS,
    LocalTime,
    PlannedPost,
    PostKind,
    local_date,
    occurrences,
    parse_local_time,
    parse_weekdays,
)

__all__ = [
    "ACTIVE",
    "COLUMNS",
    "COUNTERS",
    "DayCounts",
    "StatsConfig",
    "WeeklyReport",
    "parse_days",
    "periods",
    "size_crossing",
    "stats_table",
    "weekly_reports",
]

COUNTERS = (
    "messages",
    "joins",
    "leaves",
    "ads_removed",
    "complaints_opened",
    "gifts_claimed",
)
"""What features count per group and day; `active` (distinct people who spoke) is apart."""
ACTIVE = "active"
COLUMNS = (
    ("messages", "msgs"),
    (ACTIVE, "active"),
    ("joins", "joins"),
    ("leaves", "left"),
    ("ads_removed", "ads"),
    ("complaints_opened", "compl"),
    ("gifts_claimed", "gifts"),
)
"""Table columns: counter and heading."""
NO_DATA = "–"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAILY_ROWS_UP_TO = 10
"""Longer periods are shown a week per row, so the table stays short."""
REPORT_KEY = "report:weekly"
MAX_DAYS = 90
_DAYS = re.compile(r"^(\d{1,3})d?$")


def _one_weekday(value: object) -> int:
    days = parse_weekdays(value)
    if len(days) != 1:
        raise Invalid("name one day, like mon")
    return days[0]


Weekday = Annotated[
    int,
    BeforeValidator(_one_weekday),
    PlainSerializer(lambda day: WEEKDAYS[day], return_type=str),
]


class WeeklyReport(StrictModel):
    """The weekly review: the last seven days' table and chart, sent to the staff chat."""

    day: Weekday = Field(0, description="Day of the week, like mon")
    at: LocalTime = Field(parse_local_time("09:00"), description='Time of day, like "09:00"')


class StatsConfig(StrictModel):
    """Statistics (`stats:`): the weekly report and the group-size alerts."""

    weekly_report: WeeklyReport | None = Field(
        default_factory=WeeklyReport, description="null: no weekly report"
    )
    size_alerts: tuple[int, ...] = Field(
        (300,), description="Tell the staff when the group grows past each of these sizes"
    )

    @field_validator("size_alerts")
    @classmethod
    def _sorted_sizes(cls, sizes: tuple[int, ...]) -> tuple[int, ...]:
        if any(size < 2 for size in sizes):
            raise Invalid("sizes must be at least 2")
        return tuple(sorted(set(sizes)))


def weekly_reports(
    stats: StatsConfig, zone: ZoneInfo, start: float, end: float
) -> list[PlannedPost]:
    """The weekly reports due within [start, end]."""
    report = stats.weekly_report
    if report is None:
        return []
    return [
        PlannedPost(key=REPORT_KEY, due=moment, label="weekly report", kind=PostKind.REPORT)
        for moment, _ in occurrences(zone, (report.day,), report.at, start, end)
    ]


@dataclass(frozen=True, slots=True)
class DayCounts:
    """One group's counters over one period (a day, a week, or the whole table)."""

    label: str
    values: Mapping[str, int]

    def get(self, counter: str) -> int:
        return int(self.values.get(counter, 0))


def periods(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The table's rows: one per day for short spans, else one per week from `first`."""
    span = (last - first).days + 1
    step = 1 if span <= DAILY_ROWS_UP_TO else 7
    rows = []
    day = first
    while day <= last:
        rows.append((day, min(last, day + dt.timedelta(days=step - 1))))
        day += dt.timedelta(days=step)
    return rows


def parse_days(text: str) -> int | None:
    """`7d`, `30d` or `14` as a number of days (1 to 90); None if it is not one."""
    match = _DAYS.match(text.strip().lower())
    days = int(match.group(1)) if match else 0
    return days if 1 <= days <= MAX_DAYS else None


def period_label(first: dt.date, last: dt.date, weekdays: Sequence[str] = DAY_NAMES) -> str:
    """`Mon 05-11` for a day (with the caller's names of the weekdays), `05-11–05-17` else."""
    if first == last:
        return f"{weekdays[first.weekday()]} {first:%m-%d}"
    return f"{first:%m-%d}–{last:%m-%d}"


def stats_table(
    rows: Sequence[DayCounts],
    total: DayCounts,
    headings: Mapping[str, str] | None = None,
    first_heading: str = "day",
) -> str:
    """A fixed-width table (for <pre> and terminals): a row per period and the total; a row
    without values (no data) shows dashes.
    `headings` names the columns (by counter) in the reader's language; wide characters
    (Chinese) count as two columns so the table still lines up."""
    titles = [(name, (headings or {}).get(name, title)) for name, title in COLUMNS]
    column = max(7, *(display_width(title) + 1 for _, title in titles))
    width = max(display_width(row.label) for row in (*rows, total, DayCounts(first_heading, {})))
    lines = [
        pad(first_heading, width) + "".join(pad(title, column, left=True) for _, title in titles)
    ]
    for row in (*rows, total):
        cells = "".join(pad(_cell(row, name), column, left=True) for name, _ in titles)
        lines.append(pad(row.label, width) + cells)
    return "\n".join(lines)


def _cell(row: DayCounts, counter: str) -> str:
    """A count, or a dash for a period with no data at all (before qunbot was there)."""
    return str(row.get(counter)) if row.values else NO_DATA


def display_width(text: str) -> int:
    """Columns a text takes in a monospaced font: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int, *, left: bool = False) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if left else text + fill


def report_days(zone: ZoneInfo, now: float) -> tuple[dt.date, dt.date]:
    """The seven full days before today: what a weekly report covers."""
    today = local_date(zone, now)
    return today - dt.timedelta(days=7), today - dt.timedelta(days=1)


def size_crossing(thresholds: Sequence[int], members: int, reached: int) -> tuple[int, int | None]:
    """The size level the group is at now, and the threshold it just grew past (to tell the
    staff about) or None. A group that shrinks below a threshold may cross it again later."""
    level = max((size for size in thresholds if members >= size), default=0)
    return level, level if level > reached else None

"""The counting API every feature calls: `rt.stats.count(chat_id, "ads_removed")`.

Counting costs a dictionary update and no I/O; the counts are written with the member flush.
Counts are kept by quarter hour and turned into each group's local days when written, so the
message path never looks up a group's time zone (every UTC offset is a multiple of 15 min).
"""

from __future__ import annotations

from collections import Counter

from bot.core.clock import Clock
from policies.stats import COUNTERS

QUARTER_HOUR = 900

PendingCounts = Counter[tuple[int, str, int]]
"""(chat, counter, quarter hour) -> count."""
PendingSpeakers = set[tuple[int, int, int]]
"""(chat, user, quarter hour) of everyone who spoke."""


class StatsCounter:
    """In-memory daily counters, handed to the store in batches by `take()`."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.counts: PendingCounts = Counter()
        self.speakers: PendingSpeakers = set()

    def _quarter(self) -> int:
        return int(self.clock.now()) // QUARTER_HOUR

    def count(self, chat_id: int, counter: str, n: int = 1) -> None:
        """Add to one of `policies.stats.COUNTERS` for the group, today."""
        if counter not in COUNTERS:
            raise ValueError(f"unknown counter {counter!r}; known: {', '.join(COUNTERS)}")
        self.counts[(chat_id, counter, self._quarter())] += n

    def message(self, chat_id: int, speaker: int | None) -> None:
        """A message in the group; `speaker` is the person, None for channels and bots."""
        quarter = self._quarter()
        self.counts[(chat_id, "messages", quarter)] += 1
        if speaker is not None:
            self.speakers.add((chat_id, speaker, quarter))

    def take(self) -> tuple[PendingCounts, PendingSpeakers]:
        """Everything counted since the last call."""
        counts, speakers = self.counts, self.speakers
        self.counts, self.speakers = Counter(), set()
        return counts, speakers

    def give_back(self, counts: PendingCounts, speakers: PendingSpeakers) -> None:
        """Counts that could not be written; they go out with the next flush."""
        self.counts.update(counts)
        self.speakers |= speakers

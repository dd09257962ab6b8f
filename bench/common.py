"""Shared pieces of the benchmarks: the labelled data, percentiles, resident memory, and
helpers to drive the fake Telegram and the job queue in simulated time."""

from __future__ import annotations

import datetime as dt
import resource
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from telegram.ext import Application, Job

from bot.core.samples import read_messages
from bot.fake import FakeTelegram
from tests.harness import TestClock

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ("zh_tgchat_train", "zh_gamechat_val", "zh_sms80w", "tgspam_head")


def labelled_messages(limit_per_file: int | None = None) -> tuple[list[str], list[str]]:
    """Spam and ham from every labelled set, or a note of where the data should be."""
    if not DATA.is_dir():
        raise SystemExit(f"labelled data not found at {DATA}: run from a checkout beside shared/")
    spam: list[str] = []
    ham: list[str] = []
    for name in SETS:
        spam += read_messages(DATA / f"{name}_spam.txt")[:limit_per_file]
        ham += read_messages(DATA / f"{name}_ham.txt")[:limit_per_file]
    return spam, ham


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident memory of this process right now, in MB (Linux: /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def sliding_max(times: Iterable[float], window: float) -> int:
    """The most events within any `window` seconds (an event at t counts in [t, t + window))."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def add_members(fake: FakeTelegram, chat_id: int, user_ids: Iterable[int]) -> None:
    """Put many accounts in a chat silently; the fake's scripting calls are cheap enough."""
    for user_id in user_ids:
        fake.add_user(user_id, f"Member{user_id}")
        fake.add_member(chat_id, user_id)


class SimulatedJobs:
    """Runs the job queue's one-off jobs when the *simulated* clock reaches them.

    The job queue schedules in real time, so a call-out the bot defers by 30 simulated
    seconds would fire long after a raid played in two real seconds has ended. Each one-off
    job is noted with its simulated due time when first seen, then run by hand and
    unscheduled; repeating housekeeping (flushes, ticks) stays on real time.
    """

    def __init__(self, application: Application, clock: TestClock) -> None:  # type: ignore[type-arg]
        self.application, self.clock = application, clock
        self.due: dict[Job[Any], float] = {}

    def _note_new(self) -> None:
        queue = self.application.job_queue
        if queue is None:
            return
        real_now = dt.datetime.now(dt.UTC)
        for job in queue.jobs():
            if job not in self.due and job.next_t is not None and _runs_once(job):
                self.due[job] = self.clock.now() + (job.next_t - real_now).total_seconds()

    async def run_due(self) -> None:
        self._note_new()
        now = self.clock.now()
        queue = self.application.job_queue
        for job in [job for job, at in self.due.items() if at <= now]:
            del self.due[job]
            if queue is not None and job in queue.jobs():
                job.schedule_removal()
            await job.run(self.application)


def _runs_once(job: Job[Any]) -> bool:
    """A `run_once` job (APScheduler's date trigger), not a repeating one."""
    return type(job.job.trigger).__name__ == "DateTrigger"

"""Group rhythm: scheduled posts, flash-sale countdowns and the weekly report.

There is no update to handle: a periodic job asks the pure planner what is due.
"""

from __future__ import annotations

from telegram.ext import Application

from bot.features.rhythm import register_rhythm


def register(application: Application) -> None:  # type: ignore[type-arg]
    register_rhythm(application)

"""PTB's Application without its memory of every user it ever saw."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, Job


class ForgetfulApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB notes the id of every user and chat of every update for its persistence, and only
    a persistence write empties that set. qunbot keeps its state in SQLite and has no PTB
    persistence, so the set would grow by one entry per distinct member, forever."""

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Job[Any] | None = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)

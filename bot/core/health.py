"""A heartbeat file saying when the bot last handled an update, and `qunbot status` reading it.

A supervisor or a monitoring check can tell a live bot from one that is up but stuck: the file
is rewritten at most once per `BEAT_INTERVAL` while updates are handled, and every
`IDLE_BEAT_INTERVAL` while polling finds nothing.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

BEAT_INTERVAL = 1.0
IDLE_BEAT_INTERVAL = 30.0


def heartbeat_path(database: Path) -> Path:
    """The heartbeat sits beside the database: `qunbot.db` -> `qunbot.db.heartbeat`."""
    return database.with_name(database.name + ".heartbeat")


@dataclass
class Heartbeat:
    path: Path
    last_written: float = float("-inf")
    handled: int = 0
    last_handled: float | None = None

    def beat(self, *, handled: bool = True) -> None:
        now = time.time()
        first = handled and self.last_handled is None
        if handled:
            self.handled += 1
            self.last_handled = now
        # The first update handled is written at once: a file saying "none handled yet" could
        # otherwise stand until the next idle beat, half a minute later.
        if now - self.last_written < BEAT_INTERVAL and not first:
            return
        self.last_written = now
        record = {
            "pid": os.getpid(),
            "alive_at": now,
            "last_update_handled_at": self.last_handled,
            "updates_handled": self.handled,
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            temporary.write_text(json.dumps(record), encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            # A full disk must not stop the handling; the stale file then says so itself.
            return


def describe(path: Path, now: float | None = None) -> tuple[bool, str]:
    """(healthy, one line) for `qunbot status`: healthy while the heartbeat is recent."""
    now = time.time() if now is None else now
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, f"no heartbeat at {path}: qunbot is not running (or never handled anything)"
    alive_ago = now - float(record.get("alive_at", 0))
    handled_at = record.get("last_update_handled_at")
    handled = (
        "no update handled yet"
        if handled_at is None
        else f"last update handled {now - float(handled_at):.0f}s ago"
    )
    line = (
        f"pid {record.get('pid')}: {handled}, {record.get('updates_handled', 0)} since start; "
        f"heartbeat {alive_ago:.0f}s ago"
    )
    return alive_ago <= 2 * IDLE_BEAT_INTERVAL + 5, line

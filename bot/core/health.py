"""A heartbeat file saying when the bot last handled an update, and `qunbot status` reading it.

A supervisor or a monitoring check can tell a live bot from one that is up but stuck, or gone:
the file is rewritten at most once per `BEAT_INTERVAL` while updates are handled, every
`IDLE_BEAT_INTERVAL` while polling finds nothing, and once more with a stop mark at a clean
shutdown. A bot that died without one is told by its process id being gone.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.i18n import FALLBACK, Messages

BEAT_INTERVAL = 1.0
IDLE_BEAT_INTERVAL = 30.0
STALE_AFTER = 2 * IDLE_BEAT_INTERVAL + 5
"""A heartbeat older than this, from a process still there, means the bot is stuck."""


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
        self._write(self._record(now))

    def stopped(self) -> None:
        """Mark a clean shutdown, so that `qunbot status` says the bot is not running."""
        now = time.time()
        self._write(self._record(now) | {"stopped_at": now})

    def _record(self, now: float) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "alive_at": now,
            "last_update_handled_at": self.last_handled,
            "updates_handled": self.handled,
        }

    def _write(self, record: dict[str, Any]) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            temporary.write_text(json.dumps(record), encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            # A full disk must not stop the handling; the stale file then says so itself.
            return


def describe(
    path: Path, say: Messages | None = None, now: float | None = None
) -> tuple[bool, str]:
    """(running and healthy, one line) for `qunbot status`, in the operator's language."""
    now = time.time() if now is None else now
    say = say or Messages(FALLBACK)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        pid = int(record["pid"])
        alive_at = float(record["alive_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return False, say.tp(
            "no heartbeat at {path}: qunbot is not running (or never handled anything)",
            path=path,
        )
    stopped_at = record.get("stopped_at")
    if stopped_at is not None:
        return False, say.tp(
            "qunbot is not running: it stopped cleanly {seconds}s ago (pid {pid})",
            seconds=_ago(now, stopped_at),
            pid=pid,
        )
    if not _may_be_alive(pid, record.get("host")):
        return False, say.tp(
            "qunbot is not running: process {pid} is gone without a clean stop "
            "(crashed or killed); its last heartbeat was {seconds}s ago",
            pid=pid,
            seconds=_ago(now, alive_at),
        )
    line = _progress(say, record, pid, now, alive_at)
    if now - alive_at > STALE_AFTER:
        return False, say.tp("qunbot seems stuck: {line}", line=line)
    return True, line


def _progress(say: Messages, record: dict[str, Any], pid: int, now: float, alive_at: float) -> str:
    handled_at = record.get("last_update_handled_at")
    handled = (
        say.tp("no update handled yet")
        if handled_at is None
        else say.tp("last update handled {seconds}s ago", seconds=_ago(now, handled_at))
    )
    return say.tp(
        "pid {pid}: {handled}, {count} since start; heartbeat {seconds}s ago",
        pid=pid,
        handled=handled,
        count=record.get("updates_handled", 0),
        seconds=_ago(now, alive_at),
    )


def _ago(now: float, then: Any) -> str:
    """Whole seconds since `then`, a time read from the file ("?" if it is not one)."""
    try:
        return f"{max(0.0, now - float(then)):.0f}"
    except (TypeError, ValueError):
        return "?"


def _may_be_alive(pid: int, host: object) -> bool:
    """False only when the process is known to be gone: on another host (or in another
    container, with its own process ids) nothing can be known, so the heartbeat's age decides."""
    if host is not None and host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True

"""The heartbeat `qunbot status` reads: what it says right after the bot handled something."""

from __future__ import annotations

from pathlib import Path

from bot.core.health import Heartbeat, describe


def test_the_first_update_handled_is_written_at_once_even_right_after_an_idle_beat(
    tmp_path: Path,
) -> None:
    heart = Heartbeat(tmp_path / "qunbot.db.heartbeat")
    heart.beat(handled=False)
    assert "no update handled yet" in describe(heart.path)[1]
    heart.beat()
    healthy, line = describe(heart.path)
    assert healthy and "last update handled 0s ago, 1 since start" in line, line


def test_later_updates_are_written_at_most_once_a_beat(tmp_path: Path) -> None:
    heart = Heartbeat(tmp_path / "qunbot.db.heartbeat")
    heart.beat()
    heart.beat()
    heart.beat()
    assert "1 since start" in describe(heart.path)[1]

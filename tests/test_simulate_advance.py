"""`advance:` in a simulator script runs what falls due on the way, in time order: scheduled
posts and the job queue's one-off jobs (here a complaint's reminder) alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """\
title: A complaint left waiting
start: "2026-05-11T09:00:00+08:00"
group: {id: -1001000000001, title: "Corner Tea Shop"}
staff: {id: -1001000000999, title: "Corner Tea staff"}
group_policy: tea
policies:
  tea: |
    extends: default
    complaints:
      remind_after: 30m
    rhythm:
      schedules:
        - {id: tea-time, at: "09:20", text: "Fresh oolong is in, {group}!"}
        - {id: lunch, at: "12:00", text: "Lunch break, back at one."}
users:
  owner: {id: 1001, first_name: Mei, role: owner}
  buyer: {id: 1003, first_name: Tomas}
steps:
  - say: {as: buyer, text: "The parcel came crushed and the shop ignores me, this is terrible!!!"}
  - advance: 31m
  - note: after the advance
"""
REMINDER = "Tomas, we haven't heard from you yet"


def simulate(tmp_path: Path) -> str:
    script = tmp_path / "advance.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", str(script), "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_PROXY": "127.0.0.1"},
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_advance_posts_a_reminder_and_a_scheduled_post_in_time_order(tmp_path: Path) -> None:
    transcript = simulate(tmp_path)
    advanced = transcript[transcript.index("⏩ 31m later") : transcript.index("after the advance")]
    assert "Fresh oolong is in" in advanced, transcript
    assert REMINDER in advanced, transcript
    assert advanced.index("Fresh oolong is in") < advanced.index(REMINDER)
    assert "Lunch break" not in transcript, "12:00 is past the advance"

"""`qunbot simulate`: the real bot under `run_polling` against the HTTP fake, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def transcript() -> str:
    environment = {**os.environ, "NO_PROXY": "127.0.0.1"}
    completed = subprocess.run(
        [sys.executable, "-m", "bot", "simulate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=environment,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed.stdout


def section(transcript: str, title: str) -> str:
    """The transcript lines under one `── note`, up to the next note."""
    start = transcript.index(title)
    end = transcript.find("\n── ", start + len(title))
    return transcript[start : end if end != -1 else None]


def test_the_shops_own_link_and_ordinary_chat_stay(transcript: str) -> None:
    chat = section(transcript, "Customers join and chat")
    assert "sunnysnacks.shop/matcha" in chat
    assert "deleted" not in chat


def test_neutral_mode_removes_and_offers_staff_a_reinvite(transcript: str) -> None:
    neutral = section(transcript, "Neutral mode")
    assert "The system detected Dave posting ads" in neutral
    assert "unbanned Dave" in neutral
    assert "[staff]" in neutral and "Re-invite now" in neutral


def test_non_admins_cannot_steer_the_bot(transcript: str) -> None:
    assert "Only admins of this group can use this command." in section(
        transcript, "cannot steer the bot"
    )


def test_soft_mode_calls_out_and_the_member_acknowledges(transcript: str) -> None:
    soft = section(transcript, "switches to soft mode")
    assert "Erin just posted an ad" in soft
    assert "Erin pressed" in soft and "Thanks Erin" in soft
    assert "banned Erin" not in soft


def test_repeat_offender_climbs_from_call_out_to_removal(transcript: str) -> None:
    ladder = section(transcript, "repeat offender")
    assert ladder.index("Frank just posted an ad") < ladder.index("detected Frank posting ads")


def test_an_edit_into_spam_is_removed(transcript: str) -> None:
    edit = section(transcript, "edited into an ad")
    assert "edited #" in edit and "deleted #" in edit


def test_hard_mode_bans(transcript: str) -> None:
    assert "banned Hank (forever)" in section(transcript, "Hard mode")


def test_reinvite_waits_for_the_cool_down(transcript: str) -> None:
    assert "🤖" not in section(transcript, "too early")
    after = section(transcript, "After the cool-down")
    assert "member_limit=1" in after
    assert "Here is a new invite" in after
    assert "Dave joined" in after


def test_summary_counts_what_happened(transcript: str) -> None:
    summary = transcript[transcript.index("══ summary") :]
    assert "messages deleted" in summary and "Bot API calls" in summary

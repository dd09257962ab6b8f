"""`qunbot simulate`: the real bot under `run_polling` against the HTTP fake, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the simulator saves the photos the bot sends."""
    return tmp_path_factory.mktemp("charts")


@pytest.fixture(scope="module")
def transcript(charts: Path) -> str:
    environment = {**os.environ, "NO_PROXY": "127.0.0.1"}
    completed = subprocess.run(
        [sys.executable, "-m", "bot", "simulate", "--out", str(charts)],
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


def test_hard_mode_bans_across_the_network(transcript: str) -> None:
    hard = section(transcript, "Hard mode")
    assert "[group]    ⛔ banned Hank (forever)" in hard
    assert "[sister group]    ⛔ banned Hank (forever)" in hard


def test_why_explains_the_removal(transcript: str) -> None:
    why = section(transcript, "asks why")
    assert "neutral: rules contact." in why and "Offence 1 in the window → neutral" in why


def test_undo_from_the_audit_log_lifts_the_ban(transcript: str) -> None:
    undo = section(transcript, "undoes Hank's ban")
    assert "Alice pressed [↩️ Undo #15 Hank]" in undo
    assert "[group]    ↩️  unbanned Hank" in undo
    assert "[sister group]    ↩️  unbanned Hank" in undo
    assert "Undone #" in undo


def test_reinvite_waits_for_the_cool_down(transcript: str) -> None:
    early = section(transcript, "too early")
    assert "member_limit" not in early and "t.me/+" not in early
    assert "write me what happened" in early and "come back in 6h" in early
    after = section(transcript, "After the cool-down")
    assert "member_limit=1" in after
    assert "Here is a new invite" in after
    assert "Dave joined" in after


def test_a_complaint_is_answered_at_once_and_moved_to_a_private_ticket(transcript: str) -> None:
    complaint = section(transcript, "A complaint:")
    public = complaint.index("[group] 🤖 qunbot")
    assert "Sorry to hear that, Carol" in complaint[public:]
    assert "[💬 Talk to the shop privately]" in complaint
    assert "[staff] 🤖 qunbot" in complaint and "New ticket #" in complaint
    assert "[🙋 Take] [✅ Close]" in complaint
    assert "[private Carol] Carol" in complaint and "/start tkt_" in complaint
    assert "Please send your order number" in complaint
    assert "Carol: Order SS-2231" in complaint.split("[staff]")[-1]


def test_the_staff_answer_is_relayed_and_the_ticket_closed(transcript: str) -> None:
    answer = section(transcript, "The staff answer")
    relayed = answer.index("[private Carol] 🤖 qunbot")
    assert "A new matcha box ships today" in answer[relayed:]
    assert "taken by Alice" in answer and "closed by Alice" in answer
    assert answer.index("closed by Alice") < answer.index("Carol pressed [👍 Helpful]")
    assert "is closed. Thank you for your patience" in answer
    assert "rated the help 👍" in answer and "Thanks for your feedback" in answer


def test_a_newcomer_gets_the_welcome_script_with_buttons(transcript: str) -> None:
    joined = section(transcript, "A newcomer joins")
    assert "Bob joined" in joined and "Welcome Bob to Sunny Snacks" in joined
    assert "[🧧 Claim your gift] [📜 Rules]" in joined
    assert "deleted #1 of Bob" in joined


def test_the_gift_arrives_privately_and_only_once(transcript: str) -> None:
    claim = section(transcript, "claims his newcomer gift")
    assert "Bob pressed [🧧 Claim your gift]" in claim
    assert "[private Bob] Bob #1: /start gift_" in claim
    assert "[private Bob] 🤖 qunbot #2: 🧧 Your gift" in claim and "SUNNY-NEW-7Q2K" in claim
    again = section(transcript, "second claim is refused")
    assert "You already claimed this gift" in again and "SUNNY-NEW-7Q2K" in again
    assert "SUNNY-NEW-9XW4" not in transcript


def test_an_old_member_is_refused_the_welcomes_gift(transcript: str) -> None:
    refused = section(transcript, "Carol, an old member")
    assert "Carol pressed [🧧 Claim your gift]" in refused
    assert "qunbot ↪ Carol (alert): This red envelope is a welcome gift for newcomers" in refused
    assert "[private Carol]" not in refused


def test_a_buyer_photo_earns_a_reward(transcript: str) -> None:
    reward = section(transcript, "buyer's photo")
    assert "Thanks for showing us your order, Carol" in reward
    assert "[private Carol]" in reward and "SUNNY-THANKS-10" in reward


def test_a_join_wave_shares_one_welcome(transcript: str) -> None:
    wave = section(transcript, "A join wave")
    assert "Welcome Ivy to" in wave and "Welcome Jack, Kim to" in wave
    assert wave.count("👋 Welcome") == 2


def through_the_jump(transcript: str, title: str) -> str:
    """A note and the `⏩ later` section that follows it."""
    start = transcript.index(title)
    jump = transcript.index("\n── ⏩", start)
    end = transcript.find("\n── ", jump + 1)
    return transcript[start : end if end != -1 else None]


def saved_png_size(line: str) -> tuple[int, int]:
    path = Path(line.split("photo saved to ", 1)[1].split()[0])
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_the_morning_greeting_comes_at_its_time(transcript: str) -> None:
    morning = through_the_jump(transcript, "The next morning at 08:30")
    assert "🕗 Tue 05-12 08:30\n[group] 🤖 qunbot" in morning
    assert "Morning, Sunny Snacks 🍪 Customers!" in morning
    assert not any("☀️" in line for line in transcript.splitlines() if line.startswith("[staff]"))


def test_stats_answers_with_a_table_and_a_chart(transcript: str, charts: Path) -> None:
    stats = section(transcript, "An admin asks for the numbers")
    (photo,) = [line for line in stats.splitlines() if "photo saved to" in line]
    assert str(charts) in photo and saved_png_size(photo) == (800, 450)
    assert "day         msgs active  joins   left    ads" in stats
    monday = next(line for line in stats.splitlines() if "Mon 05-11" in line).split()
    assert int(monday[2]) > 0 and int(monday[6]) > 0, "messages and ads removed on Monday"


def test_the_countdown_runs_from_three_days_ahead(transcript: str) -> None:
    countdown = through_the_jump(transcript, "The flash-sale countdown")
    expected = [
        "🕗 Wed 05-13 10:00",
        "starts in 3 days: 05-16 at 20:00",
        "🕗 Thu 05-14 10:00",
        "starts in 2 days",
        "🕗 Fri 05-15 10:00",
        "🧧 Tomorrow at 20:00",
        "🕗 Sat 05-16 09:00",
        "Today's the day",
    ]
    positions = [countdown.index(text) for text in expected]
    assert positions == sorted(positions)
    greetings = [line for line in countdown.splitlines() if "☀️ " in line and "orning" in line]
    assert greetings[0] != greetings[1], "the greeting's texts take turns"


def test_the_sale_starts_pinned_and_ends_unpinned(transcript: str) -> None:
    evening = through_the_jump(transcript, "Saturday evening")
    expected = [
        "🕗 Sat 05-16 19:00",
        "1h to go",
        "🕗 Sat 05-16 20:00",
        "has started",
        "📌 pinned #",
        "🕗 Sat 05-16 22:00",
        "📍 unpinned #",
        "is over",
    ]
    positions = [evening.index(text) for text in expected]
    assert positions == sorted(positions)


def test_the_weekly_report_reaches_the_staff(transcript: str) -> None:
    report = through_the_jump(transcript, "Sunday 21:00")
    (photo,) = [line for line in report.splitlines() if "photo saved to" in line]
    assert photo.startswith("[staff]") and saved_png_size(photo) == (800, 450)
    assert "Weekly report for Sunny Snacks" in report and "Sat 05-16" in report


def test_summary_counts_what_happened(transcript: str) -> None:
    summary = transcript[transcript.index("══ summary") :]
    assert "messages deleted" in summary and "Bot API calls" in summary

"""Suite-wide checks: every Bot API call the fake saw must match the Bot API spec."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.fake import check_calls_against_spec
from tests.harness import RECORDED_CALLS

SPEC = Path(__file__).resolve().parents[2] / "shared" / "telegram-bot-api" / "api-botapi-10.0.json"

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any recorded call used an unknown method, parameter or type."""
    if not RECORDED_CALLS or not SPEC.is_file():
        return
    problems = check_calls_against_spec(RECORDED_CALLS, SPEC)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"Bot API spec check: {len(RECORDED_CALLS)} recorded calls, {len(problems)} problems"
        )
        for problem in problems[:20]:
            reporter.write_line(f"  {problem}")
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

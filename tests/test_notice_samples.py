"""The generated customer-notice samples are exactly what their generator writes."""

from __future__ import annotations

from importlib import resources

from bench.notice_samples import COUNT, notice_lines


def test_the_committed_notice_samples_match_their_generator() -> None:
    committed = (resources.files("policies") / "samples/zh_notices_generated_ham.txt").read_text(
        encoding="utf-8"
    )
    assert committed.splitlines() == notice_lines()


def test_the_generator_gives_distinct_lines_from_every_template() -> None:
    lines = notice_lines()
    assert len(lines) == COUNT == len(set(lines))
    assert any(line.startswith("【12306】") for line in lines)
    assert any("你们这里卖" in line for line in lines)

"""Policy schema and loader: presets, extends, deep merge and positioned error messages."""

from __future__ import annotations

import pytest

from bot.core.policy_files import PolicyLibrary
from policies.durations import parse_duration
from policies.loader import PolicySource, load_policy
from policies.schema import Mode, StepKind
from policies.yamlsource import SourceError


def lookup_in(files: dict[str, str]):  # type: ignore[no-untyped-def]
    presets = PolicyLibrary(None)

    def lookup(name: str, asking: PolicySource | None) -> PolicySource | None:
        if name in files and (asking is None or asking.file != f"{name}.yaml"):
            return PolicySource(name, f"{name}.yaml", files[name])
        return presets.lookup(name, asking)

    return lookup


def load(text: str, **others: str):  # type: ignore[no-untyped-def]
    lookup = lookup_in({"mine": text, **others})
    source = lookup("mine", None)
    assert source is not None
    return load_policy(source, lookup)


def problems_of(text: str, **others: str) -> list[str]:
    with pytest.raises(SourceError) as caught:
        load(text, **others)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize("name", ["default", "shop-zh"])
def test_presets_load(name: str) -> None:
    policy = PolicyLibrary(None).load(name)
    assert policy.moderation.mode is Mode.NEUTRAL
    assert [step.kind for step in policy.moderation.ladder] == [
        StepKind.SOFT,
        StepKind.NEUTRAL,
        StepKind.HARD,
    ]


def test_chinese_preset_overrides_texts_and_keeps_the_rest() -> None:
    zh = PolicyLibrary(None).load("shop-zh")
    en = PolicyLibrary(None).load("default")
    assert "发广告要发红包" in zh.templates.callout
    assert zh.moderation.reinvite_after == en.moderation.reinvite_after == parse_duration("6h")


def test_extends_deep_merges_only_the_given_keys() -> None:
    policy = load("extends: default\nmoderation:\n  mode: hard\n  probation:\n    messages: 2\n")
    assert policy.moderation.mode is Mode.HARD
    assert policy.moderation.probation.messages == 2
    assert policy.moderation.probation.duration == parse_duration("24h")
    assert policy.templates.callout.startswith("🚨")


def test_ladder_steps_are_parsed_from_text() -> None:
    policy = load(
        "extends: default\nmoderation:\n  ladder: [mute 1d, mute 7d, 'mute forever', hard]\n"
    )
    labels = [step.label() for step in policy.moderation.ladder]
    assert labels == ["mute 1d", "mute 1w", "mute forever", "hard"]


def test_operator_file_named_like_a_preset_extends_that_preset() -> None:
    policy = load("extends: default\n", default="extends: default\nname: Our shop\n")
    assert policy.name == "Our shop"
    assert policy.templates.callout.startswith("🚨")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "extends: default\nmoderation:\n  modee: soft\n",
            "mine.yaml:3:3: moderation.modee: unknown key 'modee' (did you mean 'mode'?)",
        ),
        (
            "extends: default\nmoderation:\n  mode: gentle\n",
            "mine.yaml:3:9: moderation.mode: 'gentle' is not a mode: use soft, neutral or hard",
        ),
        (
            "extends: default\nmoderation:\n  window: soon\n",
            "mine.yaml:3:11: moderation.window: 'soon' is not a duration",
        ),
        (
            "extends: default\nmoderation:\n  ladder: [soft, 'mute', hard]\n",
            "mine.yaml:3:18: moderation.ladder.1: a mute step needs a duration",
        ),
        (
            "extends: nowhere\n",
            "mine.yaml:1:10: extends: unknown policy or preset 'nowhere'",
        ),
        (
            "extends: default\ntemplates:\n  callout: 'hi {name}'\n",
            "mine.yaml:3:12: templates.callout: template 'callout' uses unknown placeholder",
        ),
        (
            "extends: default\nmoderation:\n  mode: soft\n  mode: hard\n",
            "mine.yaml:4:3: moderation.mode: duplicate key: it is also on line 3; keep one of",
        ),
        ("extends: default\nmoderation: [\n", "mine.yaml:3:1: (top): YAML syntax error"),
        ("name: no templates\n", "mine.yaml:1:1: templates: required key is missing"),
    ],
)
def test_errors_name_file_line_column_and_path(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_every_error_is_reported_at_once() -> None:
    text = "extends: default\nmoderation:\n  modee: soft\n  window: soon\n  delete_ads: maybe\n"
    problems = problems_of(text)
    assert len(problems) == 3
    assert [problem.split(":")[1] for problem in problems] == ["3", "4", "5"]


def test_extends_loop_is_refused() -> None:
    problems = problems_of("extends: other\n", other="extends: mine\n")
    assert "loop" in problems[0]


def test_errors_inside_a_preset_point_at_the_preset_file() -> None:
    problems = problems_of("extends: base\n", base="extends: default\nmoderation:\n  mode: x\n")
    assert problems[0].startswith("base.yaml:3:9: moderation.mode")


def test_per_group_overrides_are_validated_too() -> None:
    lookup = lookup_in({})
    source = lookup("default", None)
    assert source is not None
    policy = load_policy(source, lookup, overrides={"moderation": {"mode": "soft"}})
    assert policy.moderation.mode is Mode.SOFT
    with pytest.raises(SourceError) as caught:
        load_policy(source, lookup, overrides={"moderation": {"mode": "loud"}})
    assert "moderation.mode" in str(caught.value)

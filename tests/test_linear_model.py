"""The linear model: its file format, training, and what admins teach it."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from policies.detect.features import FEATURES_VERSION, READERS, features
from policies.detect.linear import LinearModel, readable
from policies.detect.normalize import normalize
from policies.detect.training import (
    TrainingSettings,
    evidence,
    fit,
    message_features,
    score_documents,
    train_linear,
)

ADS = [
    "兼职日结，加我微信 abc12345",
    "日赚三百，私聊我",
    "免费领红包，加群 12345678",
    "代开发票 联系我",
    "刷单返利，加V abc999",
    "Earn 500 a day, dm me",
    "crypto signals, join now",
    "躺赚项目，私信详谈",
] * 3
CHAT = [
    "这个多少钱",
    "什么时候发货",
    "收到了，谢谢",
    "请问有黑色吗",
    "快递到哪了",
    "when will my order ship",
    "thanks, got it",
    "好的，明天见",
] * 3
EARLIER = "ngrams-1-3+cjk-pairs+tokens/2"
SETTINGS = TrainingSettings(iterations=80, min_count=1, learning_rate=0.1)


def tiny_model() -> LinearModel:
    return train_linear(
        message_features(ADS), message_features(CHAT), SETTINGS, kind="ads", metadata={"x": 1}
    )


def test_training_separates_and_is_reproducible_byte_for_byte() -> None:
    first, second = tiny_model(), tiny_model()
    assert first.to_json() == second.to_json()
    assert (
        first.probability("加我微信 kkk8888 日赚")
        > 0.5
        > first.probability("多少钱，什么时候发货")
    )


def test_a_model_file_reads_back_the_same() -> None:
    model = tiny_model()
    again = LinearModel.from_json(model.to_json())
    assert again.to_json() == model.to_json()
    assert again.metadata == {"x": 1}
    assert again.probability("日赚三百") == pytest.approx(model.probability("日赚三百"), abs=1e-3)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "bad JSON"),
        ("[]", "not a qunbot-linear/1"),
        (json.dumps({"format": "qunbot-linear/1", "features": "old"}), "qunbot train"),
        (
            json.dumps({"format": "qunbot-linear/1", "features": FEATURES_VERSION, "weights": {}}),
            "needs weights, a bias and a threshold",
        ),
        (
            json.dumps(
                {
                    "format": "qunbot-linear/1",
                    "features": FEATURES_VERSION,
                    "weights": {},
                    "bias": 0,
                    "threshold": 1.5,
                }
            ),
            "not a probability",
        ),
        (
            json.dumps(
                {
                    "format": "qunbot-linear/1",
                    "features": FEATURES_VERSION,
                    "weights": {"a": "x"},
                    "bias": 0,
                    "threshold": 0.5,
                }
            ),
            "must be a number",
        ),
    ],
)
def test_a_bad_model_file_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        LinearModel.from_json(text)


def test_an_admin_mark_makes_the_model_agree_and_keeps_the_trained_weights() -> None:
    model = tiny_model()
    model.threshold = 0.5
    trained = dict(model.weights)
    ad = "出售游戏金币，价格美丽，量大从优"
    assert model.probability(ad) < model.threshold
    model.learn(ad, True)
    assert model.probability(ad) >= model.threshold
    chat = "兼职日结的事我上次问过了"
    if model.probability(chat) >= model.threshold:
        model.learn(chat, False)
    assert model.probability(chat) < model.threshold
    assert model.weights == trained and model.adjustments


def test_learning_what_the_model_already_agrees_with_changes_nothing() -> None:
    model = tiny_model()
    model.threshold = 0.5
    model.learn("兼职日结，加我微信 abc12345", True)
    assert model.adjustments == {}


def test_features_see_through_fillers_and_count_disguises() -> None:
    assert features(normalize("加*微*信")) == features(normalize("加微信"))
    assert "<fullwidth>" in features(normalize("ＶＸ１２３"))
    assert "<odd>" in features(normalize("加我ᚰ看看")), "a rune normalization leaves in place"
    assert "#11" in features(normalize("电话 13800138000"))
    assert {"加a", "^加a", "00$", "\x02vx", "<fullwidth>", "#5"} <= features(
        normalize("加ＶＸ 12345")
    )
    assert "\x01微信" in READERS[EARLIER](normalize("微-信 abc"))


def test_a_model_keeps_reading_the_recipe_it_was_trained_on() -> None:
    earlier = train_linear(
        message_features(ADS, EARLIER),
        message_features(CHAT, EARLIER),
        SETTINGS,
        kind="complaints",
        features=EARLIER,
    )
    assert any(name.startswith("\x01") for name in earlier.weights)
    again = LinearModel.from_json(earlier.to_json())
    assert again.features == EARLIER and json.loads(again.to_json())["features"] == EARLIER
    ad = normalize("兼职日结，私聊我")
    assert again.logit_of(ad) == pytest.approx(earlier.logit_of(ad), abs=1e-2)
    copy = again.untaught()
    assert copy.features == EARLIER
    assert copy.logit_of(ad) == pytest.approx(earlier.logit_of(ad), abs=1e-2)
    assert tiny_model().features == FEATURES_VERSION != EARLIER


def test_the_model_names_what_it_read_in_a_message() -> None:
    model = tiny_model()
    norm = normalize("兼职日结，加我微信 kkk8888")
    ranked = sorted(features(norm), key=lambda name: (-model.weights.get(name, 0.0), name))
    assert model.strongest(norm) == [readable(name) for name in ranked[:3]]
    assert all(model.weights[name] > 0 for name in ranked[:3])
    assert readable("\x02vx") == "“vx”" and readable("#11") == "a 11-digit number"
    assert readable("#0") == "“#0”", "a # before a digit is a pair of characters, not a number"
    assert readable("<>") == "“<>”" and readable("<math>") == "math characters"


def test_evidence_is_each_features_log_share_among_positives_over_negatives() -> None:
    # Two positives {a, b}, {a}; one negative {b}: with add-one smoothing "a" holds 3/5 of the
    # positives' feature mass and 1/3 of the negatives', "b" 2/5 and 2/3.
    rows = np.array([0, 0, 1, 2])
    columns = np.array([0, 1, 0, 1])
    found = evidence(rows, columns, np.array([1.0, 1.0, 0.0]), np.ones(3), 2)
    assert found.tolist() == pytest.approx([math.log(0.6 / (1 / 3)), math.log(0.4 / (2 / 3))])


def test_evidence_scaling_keeps_one_weight_per_feature_and_the_scorer_agrees() -> None:
    # The file holds evidence times weight, so the live scorer (a plain sum) gives the score the
    # fit optimised: the training messages come out on the right side.
    settings = replace(SETTINGS, evidence_power=0.5)
    documents = [*message_features(ADS), *message_features(CHAT)]
    weights, bias = fit(documents, [True] * len(ADS) + [False] * len(CHAT), settings)
    plain, _ = fit(documents, [True] * len(ADS) + [False] * len(CHAT), SETTINGS)
    assert weights != plain
    scores = score_documents(weights, bias, documents)
    assert min(scores[: len(ADS)]) > 0 > max(scores[len(ADS) :])


# Ties at the top, at the cut and below it; negative and zero weights.
PATTERN = [2.0, 2.0, 1.0, 1.0, 1.0, -3.0, 0.0, 0.5, -0.5]


@pytest.mark.parametrize("spread", [0.0, 1e-6], ids=["ties", "all-different"])
@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 10, 100])
def test_the_strongest_features_are_the_heaviest_positive_ones_ties_by_name(
    count: int, spread: float
) -> None:
    norm = normalize("兼职日结，加我微信 kkk8888")
    names = sorted(features(norm))
    # One feature an admin taught upward past the others, one downward.
    weights = {name: PATTERN[i % len(PATTERN)] + i * spread for i, name in enumerate(names)}
    model = LinearModel(weights, 0.0, 0.5, features=FEATURES_VERSION)
    model.adjustments = {names[5]: 6.0, names[2]: -4.0}
    taught = {name: weights[name] + model.adjustments.get(name, 0.0) for name in names}
    expected = sorted((name for name in names if taught[name] > 0), key=lambda n: (-taught[n], n))
    assert model.strongest(norm, count) == [readable(name) for name in expected[:count]]

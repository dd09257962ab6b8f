"""The Naive Bayes scorer: learning, probabilities, persistence and the check around it."""

from __future__ import annotations

import json

import pytest

from policies.detect.classifier import NaiveBayes, make_classifier_check, train
from policies.detect.config import ClassifierConfig
from policies.detect.normalize import normalize
from policies.facts import MessageFacts

SPAM = [
    "兼职日结，手机就能做，加微信 abc123",
    "日赚五百，无需经验，私聊我",
    "刷单返利，稳赚不赔，加QQ了解",
    "Earn $500 a day from home, DM me",
    "free crypto signals, join now",
]
HAM = [
    "这个多少钱？",
    "什么时候发货呀",
    "收到了，质量不错",
    "when will my order ship",
    "thanks, the package arrived today",
]


def test_learning_moves_the_probability() -> None:
    model = train(SPAM, HAM)
    assert model.probability("兼职日结，加微信") > 0.5
    assert model.probability("请问什么时候发货") < 0.5
    before = model.probability("代发广告，全网群发")
    model.learn("代发广告，全网群发", spam=True)
    assert model.probability("代发广告，全网群发") > before


def test_unlearn_takes_back_a_mark() -> None:
    model = train(SPAM, HAM)
    before = model.to_dict()
    model.learn("收到货了，很喜欢", spam=True)
    model.unlearn("收到货了，很喜欢", spam=True)
    assert model.to_dict() == before


def test_untrained_model_is_undecided() -> None:
    model = NaiveBayes()
    assert not model.trained
    assert model.probability("anything") == pytest.approx(0.5)


def test_round_trip_through_json() -> None:
    model = train(SPAM, HAM, ngram_sizes=(1, 2))
    data = json.loads(json.dumps(model.to_dict(), ensure_ascii=False))
    copy = NaiveBayes.from_dict(data)
    assert copy.to_dict() == model.to_dict()
    for text in [*SPAM, *HAM, "没见过的句子"]:
        assert copy.probability(text) == pytest.approx(model.probability(text))


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"format": 99},
        {"format": 1, "ngram_sizes": [2], "alpha": 0.2, "spam": [], "ham": {}},
        {"format": 1, "ngram_sizes": [2], "alpha": 0.2, "spam": {"a": -1}, "ham": {}},
        {"format": 1, "ngram_sizes": [], "alpha": 0.2, "spam": {}, "ham": {}},
        {"format": 1, "ngram_sizes": [2], "alpha": 0, "spam": {}, "ham": {}},
        {"format": 1, "ngram_sizes": [2], "alpha": 0.2, "spam": {}, "ham": {}, "spam_docs": "x"},
    ],
)
def test_bad_saved_data_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"classifier"):
        NaiveBayes.from_dict(data)


def test_cache_is_invalidated_by_learning() -> None:
    model = train(SPAM, HAM)
    text = "全新的广告词汇组合"
    first = model.probability(text)
    model.learn_many([text] * 5, spam=True)
    assert model.probability(text) > first


def test_check_fires_at_the_threshold_only() -> None:
    model = train(SPAM, HAM)
    spam_text = "兼职日结，手机就能做，加微信 abc123"
    check = make_classifier_check(ClassifierConfig(threshold=0.5, weight=0.7), model)
    facts = MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text=spam_text)
    (hit,) = check(facts, normalize(spam_text))
    assert hit.rule == "classifier.spam"
    assert hit.score == 0.7
    assert hit.reason.startswith("reads like the spam the model was trained on (p = ")
    strict = make_classifier_check(ClassifierConfig(threshold=0.999999), model)
    ham_text = "这个多少钱？"
    ham = MessageFacts(chat_id=1, message_id=1, user_id=1, date=0.0, text=ham_text)
    assert strict(ham, normalize(ham_text)) == []


def test_disguise_characters_are_features() -> None:
    model = NaiveBayes()
    plain = model.features(normalize("加我abc"))
    disguised = model.features(normalize("加我ａｂｃ\u200b"))
    assert {"<fullwidth>", "<invisible>"} <= disguised - plain


def test_unlearning_an_unknown_message_changes_nothing() -> None:
    model = train(SPAM, HAM)
    before = model.to_dict()
    model.unlearn("ꙮꙮꙮ", spam=False)
    assert model.to_dict() == before
    model.unlearn("从来没学过的一句话", spam=False)
    assert model.ham_total == sum(model.ham_counts.values())
    assert min(model.ham_counts.values()) > 0

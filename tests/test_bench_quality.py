"""How `bench quality` keeps the complaint figures off reviews the complaint model trained on."""

from __future__ import annotations

from bench.quality import SHARED_RUN, _pooled, _recall_at_one_percent, _runs, _seen, _text_only

TRAINING = [
    "房间的窗户关不上，晚上风很大，一直睡不好",
    "很好",
]
RUNS = frozenset(run for sentence in TRAINING for run in _runs(_text_only(sentence)))


def test_a_review_holding_a_training_sentence_is_left_out() -> None:
    review = "订了两晚。房间的窗户关不上, 晚上风很大，一直睡不好! 前台也不管。"
    assert _seen(review, RUNS)


def test_a_short_training_sentence_leaves_out_only_the_same_short_review() -> None:
    assert _seen("很好！", RUNS)
    assert not _seen("很好的一次入住，下次还来", RUNS)


def test_a_review_sharing_less_than_a_run_is_kept() -> None:
    shared = _text_only(TRAINING[0])[: SHARED_RUN - 1]
    assert not _seen(shared + "，其他都很满意，早餐也丰富", RUNS)


def test_recall_at_one_percent_allows_one_ham_in_a_hundred_and_none_below_a_hundred() -> None:
    few_ham = [float(score) for score in range(99)]
    assert _recall_at_one_percent([50.0, 98.5, 120.0], few_ham) == (2 / 3, 0.0)
    ham = [float(score) for score in range(200)]
    assert _recall_at_one_percent([197.5, 196.5, 10.0], ham) == (1 / 3, 0.01)
    assert _pooled([197.5, 196.5, 10.0], ham) == {
        "recall_at_1pct_fpr_pooled": 0.3333,
        "pooled_false_positive_rate": 0.01,
    }

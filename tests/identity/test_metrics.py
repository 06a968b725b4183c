"""Clustering metrics against hand-counted examples."""

import pytest

from travesia.identity import metrics

TRUTH = {"a": 1, "b": 1, "c": 2, "d": 2, "e": 3}


def test_pairwise_and_bcubed_match_the_hand_count():
    predicted = {"a": "x", "b": "x", "c": "x", "d": "y", "e": "z"}  # c wrongly with a and b, apart from d
    pair = metrics.pairwise(predicted, TRUTH)
    assert (pair.precision, pair.recall) == pytest.approx((1 / 3, 1 / 2))  # said ab ac bc; true ab cd
    b3 = metrics.bcubed(predicted, TRUTH)
    assert b3.precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)
    assert b3.recall == pytest.approx((1 + 1 + 1 / 2 + 1 / 2 + 1) / 5)
    assert pair.f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_the_truth_scores_one_and_singletons_have_no_pairs():
    assert metrics.pairwise(TRUTH, TRUTH).f1 == 1.0 and metrics.bcubed(TRUTH, TRUTH).f1 == 1.0
    alone = {r: r for r in TRUTH}
    assert metrics.pairwise(alone, TRUTH).recall == 0.0 and metrics.pairwise(alone, TRUTH).precision == 1.0

"""Accuracy of a clustering against the truth, pure: pairwise precision, recall and F1 (every pair of records put
together), and B-cubed (per record: how much of its cluster is its true group, and the reverse), which does not let
one giant cluster dominate as pairwise counts do."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _pairs(sizes: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def pairwise(predicted: Mapping[str, object], truth: Mapping[str, object]) -> Scores:
    """Pairs counted from cluster sizes (no pair lists: a million records is fine)."""
    both = Counter((predicted[r], truth[r]) for r in truth)
    together = _pairs(both)
    said, real = _pairs(Counter(predicted[r] for r in truth)), _pairs(Counter(truth.values()))
    return Scores(together / said if said else 1.0, together / real if real else 1.0)


def bcubed(predicted: Mapping[str, object], truth: Mapping[str, object]) -> Scores:
    both = Counter((predicted[r], truth[r]) for r in truth)
    cluster, group = Counter(predicted[r] for r in truth), Counter(truth.values())
    n = len(truth)
    precision = sum(count * count / cluster[c] for (c, _), count in both.items()) / n
    recall = sum(count * count / group[g] for (_, g), count in both.items()) / n
    return Scores(precision, recall)

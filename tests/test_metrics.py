"""Metric functions checked on hand-computed cases before they are trusted on real runs."""

from __future__ import annotations

import pytest

from eval.metrics import Span, recall_at, recall_in_budget, reciprocal_rank

E1 = Span("a", 100, 150)
E2 = Span("b", 0, 40)


def test_reciprocal_rank() -> None:
    hits = [Span("a", 0, 90), Span("b", 0, 50), Span("a", 90, 200)]
    assert reciprocal_rank(hits, [E1]) == pytest.approx(1 / 3)
    assert reciprocal_rank(hits, [E1, E2]) == pytest.approx(1 / 2)
    assert reciprocal_rank(hits, [E1], k=2) == 0.0
    assert reciprocal_rank([], [E1]) == 0.0


def test_partial_cover() -> None:
    cut = Span("a", 120, 300)  # covers 30 of the quote's 50 characters
    assert reciprocal_rank([cut], [E1]) == 0.0
    assert reciprocal_rank([cut], [E1], min_cover=0.6) == 1.0
    assert reciprocal_rank([Span("b", 120, 300)], [E1], min_cover=0.1) == 0.0  # other document


def test_recall_at() -> None:
    hits = [Span("b", 0, 50), Span("x", 0, 10), Span("a", 100, 160)]
    assert recall_at(hits, [E1, E2], 1) == 0.5
    assert recall_at(hits, [E1, E2], 3) == 1.0
    assert recall_at(hits, [], 3) == 0.0


def test_recall_in_budget_cuts_the_crossing_hit() -> None:
    hits = [Span("x", 0, 900), Span("a", 0, 200)]
    # 900 + the first 100 characters of the second hit: E1 (100-150) is not inside.
    assert recall_in_budget(hits, [E1], 1000) == 0.0
    assert recall_in_budget(hits, [E1], 1050) == 1.0
    assert recall_in_budget([Span("a", 100, 150)], [E1, E2], 1000) == 0.5

"""Metric functions checked on hand-computed cases before they are trusted on real runs."""

from __future__ import annotations

import pytest
from ir_measures import RR, R

from eval.metrics import Span, judged_ids, per_query, recall_in_budget

E1 = Span("a", 100, 150)
E2 = Span("b", 0, 40)


def rr(hits: list[Span], evidence: list[Span], k: int = 10, min_cover: float = 1.0) -> float:
    return per_query([RR @ k], {"q": hits}, {"q": evidence}, min_cover)["q"][RR @ k]


def recall(hits: list[Span], evidence: list[Span], k: int) -> float:
    return per_query([R @ k], {"q": hits}, {"q": evidence})["q"][R @ k]


def test_reciprocal_rank() -> None:
    hits = [Span("a", 0, 90), Span("b", 0, 50), Span("a", 90, 200)]
    assert rr(hits, [E1]) == pytest.approx(1 / 3)
    assert rr(hits, [E1, E2]) == pytest.approx(1 / 2)
    assert rr(hits, [E1], k=2) == 0.0
    assert rr([], [E1]) == 0.0


def test_partial_cover() -> None:
    cut = Span("a", 120, 300)  # covers 30 of the quote's 50 characters
    assert rr([cut], [E1]) == 0.0
    assert rr([cut], [E1], min_cover=0.6) == 1.0
    assert rr([Span("b", 120, 300)], [E1], min_cover=0.1) == 0.0  # other document


def test_recall_at() -> None:
    hits = [Span("b", 0, 50), Span("x", 0, 10), Span("a", 100, 160)]
    assert recall(hits, [E1, E2], 1) == 0.5
    assert recall(hits, [E1, E2], 3) == 1.0
    assert recall(hits, [], 3) == 0.0


def test_evidence_counts_once_whatever_the_chunking() -> None:
    """Two overlapping chunks on one quote: the second is not a second relevant hit."""
    assert judged_ids([Span("a", 90, 160), Span("a", 100, 200), Span("x", 0, 5)], [E1]) == [
        "evidence-0",
        "a:100-200",
        "x:0-5",
    ]
    scores = per_query(
        [RR @ 10, R @ 1, R @ 3], {"q": [Span("x", 0, 5), Span("a", 90, 160), Span("a", 100, 200)]}, {"q": [E1, E2]}
    )
    assert scores["q"] == {RR @ 10: 0.5, R @ 1: 0.0, R @ 3: 0.5}


def test_recall_in_budget_cuts_the_crossing_hit() -> None:
    hits = [Span("x", 0, 900), Span("a", 0, 200)]
    # 900 + the first 100 characters of the second hit: E1 (100-150) is not inside.
    assert recall_in_budget(hits, [E1], 1000) == 0.0
    assert recall_in_budget(hits, [E1], 1050) == 1.0
    assert recall_in_budget([Span("a", 100, 150)], [E1, E2], 1000) == 0.5

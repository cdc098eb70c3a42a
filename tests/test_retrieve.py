"""Hybrid retrieval on the real index: German, English and cross-article questions."""

from __future__ import annotations

import pytest

from rag.errors import RagError
from rag.pipeline import Assistant

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("question", "doc", "needle"),
    [
        ("Wer vertrat Russland bei den 2+2-Beratungen in Tokio?", "000_", "Schoigu"),
        ("Who represented Russia at the talks in Tokyo?", "000_", "Lawrow"),
        ("Warum sind die Beziehungen zwischen Tokio und Seoul belastet?", "001_", "Zwangsarbeit"),
        ("What did the US say about the Senkaku Islands?", "002_", "Senkaku"),
        ("Welche Ausrüstung hat Japan der Ukraine geliefert?", "003_", "Schutzwesten"),
        ("Where will the BRICS summit take place?", "004_", "Kasan"),
    ],
)
def test_finds_the_passage(assistant: Assistant, question: str, doc: str, needle: str) -> None:
    # Top 5: what the answer generator reads first. Aggregate quality is gated by tests/test_eval.py.
    hits = assistant.search(question, k=5)
    assert any(h.chunk.doc_id.startswith(doc) and needle in h.chunk.text for h in hits), [
        (h.chunk.doc_id, h.chunk.text[:60]) for h in hits
    ]


def test_maneuvers_span_three_articles(assistant: Assistant) -> None:
    docs = {h.chunk.doc_id[:3] for h in assistant.search("Welche Länder hielten Manöver ab?", k=10)}
    assert {"000", "003", "004"} <= docs


@pytest.mark.parametrize("method", ["hybrid", "dense", "lexical"])
def test_methods_rank_best_first(assistant: Assistant, method: str) -> None:
    hits = assistant.search("Schoigu Raketenabwehr", k=5, method=method)
    assert hits and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].chunk.doc_id.startswith("000_")


@pytest.mark.parametrize("bad", ["", "   \n\t ", "\x00\x01"])
def test_empty_question(assistant: Assistant, bad: str) -> None:
    with pytest.raises(RagError, match="empty"):
        assistant.search(bad)


def test_huge_question(assistant: Assistant) -> None:
    with pytest.raises(RagError, match="limit"):
        assistant.search("Manöver " * 20_000)

"""German-aware BM25 on hand-made passages: stemming, stop words, compounds, coverage, unknown words."""

from __future__ import annotations

import numpy as np

from rag.lexical import LexicalIndex, stems

TEXTS = [
    "Japan lieferte Verteidigungsausrüstung an Kiew.",
    "Ein Treffen in Tokio.",
    "Die Marinemanöver fanden im Japanischen Meer statt.",
    "Russland und China vereinbarten Manöver.",
]


def test_compound_expansion_finds_longer_words() -> None:
    idx = LexicalIndex(TEXTS[:2])
    assert [i for i, _ in idx.search("Ausrüstung", 2)] == [0]
    assert idx.coverage("Ausrüstung Tokio") == 1.0
    assert idx.coverage("equipment Tokio") == 0.5


def test_a_compound_also_indexes_its_known_last_word() -> None:
    """The corpus knows "Manöver" as a word, so "Marinemanöver" is found by it too."""
    idx = LexicalIndex(TEXTS)
    assert {i for i, _ in idx.search("Manöver", 4)} == {2, 3}


def test_stems_and_stop_words() -> None:
    assert stems("Die Minister trafen sich in Tokio") == {"minist", "traf", "tokio"}
    assert stems("des Ministers in TOKIO") == {"minist", "tokio"}
    assert stems("und the of der die das") == set()


def test_search_is_best_first_and_positive_only() -> None:
    idx = LexicalIndex(TEXTS)
    hits = idx.search("Japan Meer Manöver", 10)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True) and all(s > 0 for _, s in hits)
    assert idx.search("Fußball", 3) == [] and idx.search("und der", 3) == []
    assert len(idx.search("Manöver Japan Tokio Kiew", 2)) == 2


def test_an_empty_index_finds_nothing() -> None:
    idx = LexicalIndex([])
    assert idx.search("Tokio", 5) == [] and idx.coverage("Tokio") == 0.0


def test_unknown_words_are_named_as_written() -> None:
    idx = LexicalIndex(TEXTS)
    assert idx.unknown_words("Wie hoch ist Japans Verteidigungshaushalt?") == ["hoch", "Verteidigungshaushalt"]
    assert idx.unknown_words("Welche Ausrüstung lieferte Japan?") == []  # the end of a compound counts


def test_search_scores_are_plain_floats() -> None:
    (pos, score), *_ = LexicalIndex(TEXTS).search("Tokio", 1)
    assert (pos, type(score)) == (1, float) and not isinstance(score, np.floating)

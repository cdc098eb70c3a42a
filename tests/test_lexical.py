"""German-aware BM25 on hand-made passages: stemming, stop words, compounds, coverage, unknown words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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


def test_a_saved_index_loads_with_the_same_scores(tmp_path: Path) -> None:
    """Saved and memory-mapped back: the same vocabulary, compounds, coverage and BM25 scores as built."""
    texts = [*TEXTS, "und der die das", "Die Verteidigungsministerin besuchte Tokio."]  # one chunk of stop words
    built = LexicalIndex(texts)
    built.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25", len(texts))
    assert loaded.size == built.size and loaded._vocab == built._vocab and loaded._compounds == built._compounds
    for q in ("Ausrüstung", "Manöver Japan", "Ministerin in Tokio", "equipment Kiew", "und der", "Fußball"):
        toks = built.query_tokens(q)
        assert loaded.query_tokens(q) == toks
        if toks:
            assert np.array_equal(loaded._bm25.get_scores(toks), built._bm25.get_scores(toks))
        assert loaded.search(q, 10) == built.search(q, 10)
        assert loaded.coverage(q) == built.coverage(q) and loaded.unknown_words(q) == built.unknown_words(q)


def test_a_saved_index_of_another_size_is_refused(tmp_path: Path) -> None:
    LexicalIndex(TEXTS).save(tmp_path / "bm25")
    with pytest.raises(ValueError, match="4 chunks, not 5"):
        LexicalIndex.load(tmp_path / "bm25", 5)
    with pytest.raises(ValueError, match="empty"):
        LexicalIndex([]).save(tmp_path / "empty")

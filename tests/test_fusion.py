"""Fusion logic on hand-made candidate lists: the boost fusion, the language-aware BM25 weight, rank fusion."""

from __future__ import annotations

import dataclasses

import pytest

from rag.config import Settings
from rag.fusion import boost, fuse, lexical_weight
from rag.lexical import LexicalIndex
from rag.types import Chunk, Hit

TEXTS = [
    "Schoigu traf Kihara in Tokio zu den 2+2-Beratungen über Raketenabwehr.",
    "Japan lieferte Verteidigungsausrüstung und Schutzwesten an die Ukraine.",
    "Der BRICS-Gipfel findet im Oktober in Kasan statt.",
]
CHUNKS = [Chunk(f"c{i}", f"d{i}", 0, len(t), t) for i, t in enumerate(TEXTS)]


def hits(pairs: list[tuple[int, float]]) -> list[Hit]:
    return [Hit(CHUNKS[i], s) for i, s in pairs]


def ids(ranked: list[Hit]) -> list[str]:
    return [h.chunk.chunk_id for h in ranked]


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex(TEXTS)


def test_boost_adds_bm25_relative_to_the_best_match() -> None:
    dense = hits([(0, 0.85), (1, 0.84), (2, 0.80)])
    lexical = hits([(1, 6.0), (2, 3.0)])
    fused = boost(dense, lexical, 0.02)
    # c1: 0.84 + 0.02 * 6/6 = 0.86 beats c0's 0.85; c2: 0.80 + 0.02 * 3/6 = 0.81.
    assert ids(fused) == ["c1", "c0", "c2"]
    assert [round(h.score, 6) for h in fused] == [0.86, 0.85, 0.81]


def test_boost_without_weight_is_the_dense_ranking() -> None:
    dense = hits([(0, 0.85), (1, 0.84)])
    assert ids(boost(dense, hits([(2, 9.0), (1, 5.0)]), 0.0)) == ["c0", "c1"]


def test_a_chunk_only_bm25_found_starts_from_the_last_dense_score() -> None:
    dense = hits([(0, 0.85), (1, 0.84)])
    fused = boost(dense, hits([(2, 4.0)]), 0.02)
    assert ids(fused) == ["c2", "c0", "c1"]  # 0.84 + 0.02 = 0.86
    assert fused[0].score == pytest.approx(0.86)


def test_each_language_has_its_bonus_scaled_by_known_words(lexical: LexicalIndex) -> None:
    s = Settings(fusion="boost", lexical_boost=0.04, lexical_boost_en=0.1, adaptive="language")
    english, german = "Who did Schoigu meet in Tokio?", "Wen traf Schoigu in Tokio?"
    assert lexical_weight(english, lexical, s) == pytest.approx(0.1 * lexical.coverage(english))
    assert lexical_weight(german, lexical, s) == pytest.approx(0.04 * lexical.coverage(german))
    assert lexical_weight("Schoigu Tokio Kasan", lexical, s) == pytest.approx(0.04)  # ties go to German
    # Rank fusion: English questions' BM25 ranks are left out.
    assert lexical_weight(english, lexical, Settings(fusion="rrf", adaptive="language")) == 0.0


def test_coverage_mode_keeps_english_names_and_off_keeps_the_weight(lexical: LexicalIndex) -> None:
    question = "Where did Schoigu meet Kihara?"
    coverage = Settings(fusion="rrf", dense_weight=0.6, adaptive="coverage")
    share = lexical.coverage(question)
    assert 0.0 < share < 1.0  # the names match, "meet" does not
    assert lexical_weight(question, lexical, coverage) == pytest.approx(0.4 * share)
    assert lexical_weight(question, lexical, dataclasses.replace(coverage, adaptive="off")) == pytest.approx(0.4)
    assert lexical_weight(question, lexical, dataclasses.replace(coverage, adaptive="true")) == 0.0  # old switch
    with pytest.raises(ValueError, match="adaptive"):
        lexical_weight(question, lexical, dataclasses.replace(coverage, adaptive="sometimes"))


def test_rrf_adds_weighted_reciprocal_ranks() -> None:
    s = Settings(fusion="rrf", rrf_k=20, dense_weight=0.6)
    fused = fuse(hits([(0, 0.9), (1, 0.8)]), hits([(1, 5.0), (2, 4.0)]), s, lexical_weight=0.4)
    # c1: 0.6/22 + 0.4/21 > c0: 0.6/21 > c2: 0.4/22.
    assert ids(fused) == ["c1", "c0", "c2"]
    assert fused[0].score == pytest.approx(0.6 / 22 + 0.4 / 21)


def test_default_settings_fuse_by_boost_and_reject_unknown_fusions() -> None:
    dense, lexical = hits([(0, 0.85), (1, 0.84)]), hits([(1, 2.0)])
    assert ids(fuse(dense, lexical, Settings())) == ["c1", "c0"]  # 0.84 + lexical_boost > 0.85 for 0.02
    with pytest.raises(ValueError, match="fusion"):
        fuse(dense, lexical, Settings(fusion="max"))

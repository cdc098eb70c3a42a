"""Hybrid retrieval: dense (Chroma) and lexical (BM25) candidate lists, fused into one ranking.

Fusion is weighted reciprocal-rank fusion by default; the dense weight was tuned on the dev
questions (equal weights lose to dense alone there, because BM25 cannot match English questions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.config import Settings
from rag.embed import Embedder
from rag.lexical import LexicalIndex
from rag.store import ChromaStore
from rag.types import Chunk, Hit

METHODS = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    support: float  # best dense cosine similarity; 1.0 when no dense search ran


class Retriever:
    """Finds the passages for a question; holds the model, the store and the BM25 index."""

    def __init__(self, store: ChromaStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.reload()

    def reload(self) -> None:
        """Re-read the chunk texts for BM25 (after indexing in the same process)."""
        self.chunks: list[Chunk] = self.store.all_chunks()
        self.lexical = LexicalIndex([c.text for c in self.chunks])

    def search(self, question: str, k: int | None = None, method: str | None = None) -> list[Hit]:
        return self.retrieve(question, k, method).hits

    def retrieve(self, question: str, k: int | None = None, method: str | None = None) -> Retrieval:
        """Ranked hits plus the evidence strength the refusal decision needs."""
        k = k or self.settings.top_k
        method = method or self.settings.retrieval
        if method not in METHODS:
            raise ValueError(f"unknown retrieval method {method!r}; choose one of {METHODS}")
        n = max(self.settings.candidates, k)
        dense = self.dense(question, n) if method != "lexical" else []
        lexical = self.lexical_hits(question, n) if method != "dense" else []
        # Cosine similarity of the closest passage: fused scores are ranks, not evidence.
        support = dense[0].score if dense else 1.0
        if method == "dense":
            return Retrieval(dense[:k], support)
        if method == "lexical":
            return Retrieval(lexical[:k], support)
        return Retrieval(fuse(dense, lexical, self.settings, self.lexical_weight(question))[:k], support)

    def lexical_weight(self, question: str) -> float:
        """BM25's share of the fusion, scaled down when the question's words are not in the corpus."""
        w = 1.0 - self.settings.dense_weight
        return w * self.lexical.coverage(question) if self.settings.adaptive else w

    def dense(self, question: str, n: int) -> list[Hit]:
        vec = self.embedder.embed_queries([question])[0]
        return [Hit(c, s) for c, s in self.store.query(vec, n)]

    def lexical_hits(self, question: str, n: int) -> list[Hit]:
        return [Hit(self.chunks[i], s) for i, s in self.lexical.search(question, n)]


def fuse(
    dense: Sequence[Hit], lexical: Sequence[Hit], settings: Settings, lexical_weight: float | None = None
) -> list[Hit]:
    """Combine two rankings of the same chunks; `settings.fusion` picks rank- or score-based."""
    w_lex = 1.0 - settings.dense_weight if lexical_weight is None else lexical_weight
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for weight, hits in ((settings.dense_weight, dense), (w_lex, lexical)):
        for rank, value in enumerate(_contributions(hits, settings)):
            cid = hits[rank].chunk.chunk_id
            chunks[cid] = hits[rank].chunk
            scores[cid] = scores.get(cid, 0.0) + weight * value
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))
    return [Hit(chunks[cid], scores[cid]) for cid in order]


def _contributions(hits: Sequence[Hit], settings: Settings) -> list[float]:
    if settings.fusion == "score":  # min-max normalised scores
        if not hits:
            return []
        hi, lo = hits[0].score, hits[-1].score
        return [(h.score - lo) / (hi - lo) if hi > lo else 1.0 for h in hits]
    return [1.0 / (settings.rrf_k + rank + 1) for rank in range(len(hits))]

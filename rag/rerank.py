"""The sources' final order: the retriever's top sources reordered by the answer they hold.

The retriever ranks a 600-character chunk by its vector, its best sentence's vector and BM25.
The answer stage (`rag.select`) then scores each sentence of the top sources with more evidence
than that: the expected answer type, the question's rare words, the sentence read with its
neighbour, and for English questions over German text the word alignment. A source whose best
sentence answers is the one to show first, so each of the top `SOURCES` gets the score

    fused score + weight × its best sentence's answer score

(a source without a quotable sentence counts the lowest answer score among them, and so does
every source below the top ones, so the order below them stays the retriever's). The weight is
`RAG_RERANK`, chosen with cross-validation by article on both question sets (README "Retrieval
quality"); 0 keeps the retriever's order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from rag.select import SOURCES, Candidate
from rag.types import Hit


def by_answer(
    hits: Sequence[Hit], evidence: Sequence[Candidate], weight: float, depth: int = SOURCES
) -> tuple[list[Hit], list[Candidate]]:
    """The hits in their final order with their final scores, and the evidence renumbered to match.

    The evidence must be `Selector.rank` of these hits (its `source` numbers point into them).
    """
    if weight <= 0 or not evidence:
        return list(hits), list(evidence)
    best = [max((c.score for c in evidence if _within(c, h)), default=None) for h in hits[:depth]]
    known = [b for b in best if b is not None]
    floor = min(known, default=0.0)
    best += [None] * (len(hits) - len(best))
    keys = [h.score + weight * (floor if b is None else b) for h, b in zip(hits, best, strict=True)]
    order = sorted(range(len(hits)), key=lambda i: -keys[i])  # stable: ties keep the retriever's order
    position = {old: new for new, old in enumerate(order)}
    ranked = [dataclasses.replace(hits[i], score=keys[i]) for i in order]
    return ranked, [dataclasses.replace(c, source=position[c.source - 1] + 1) for c in evidence]


def _within(c: Candidate, h: Hit) -> bool:
    """The sentence lies in the hit's chunk (overlapping chunks share sentences; each counts for both)."""
    ch = h.chunk
    return c.doc == ch.doc_id and ch.start <= c.start and c.end <= ch.end

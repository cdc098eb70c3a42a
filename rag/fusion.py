"""Fusion: the dense and BM25 candidate lists of one question combined into one ranking.

Default ("boost"): the dense cosine, plus BM25 as a bonus scaled to the question's best BM25 match
and weighted by the share of the question's words the corpus knows. English questions over German
articles have their own, larger bonus: only their names and numbers match, but those are strong
evidence. Both are fitted by `python -m eval.fit_fusion` (cross-validation by article over both
question sets); rank fusion ("rrf") and min-max score fusion ("score") remain for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.config import Settings
from rag.lang import detect
from rag.lexical import LexicalIndex
from rag.types import Chunk, Hit

FUSIONS = ("boost", "rrf", "score")
ADAPTIVE = ("language", "coverage", "off")
# RAG_ADAPTIVE was a switch before it had modes.
_SWITCH = dict.fromkeys(("true", "1", "yes", "on"), "language") | dict.fromkeys(("false", "0", "no"), "off")


def lexical_weight(
    question: str, lexical: LexicalIndex, settings: Settings, translations: Sequence[Sequence[str]] = ()
) -> float:
    """BM25's weight for this question (`settings.adaptive`).

    "language": English questions get their own bonus in the boost fusion (none in rank fusion),
    and every weight is scaled by the share of the question's words the corpus knows; "coverage":
    scaled only, one weight for both languages; "off": the configured weight as it is.
    """
    mode = _SWITCH.get(settings.adaptive.lower(), settings.adaptive)
    if mode not in ADAPTIVE:
        raise ValueError(f"unknown adaptive mode {settings.adaptive!r}; choose one of {ADAPTIVE}")
    english = mode == "language" and detect(question) == "en"
    if settings.fusion == "boost":
        w = settings.lexical_boost_en if english else settings.lexical_boost
    else:  # BM25's ranks of English questions lowered rank fusion on both question sets
        w = 0.0 if english else 1.0 - settings.dense_weight
    return w if mode == "off" else w * lexical.coverage(question, translations)


def fuse(
    dense: Sequence[Hit], lexical: Sequence[Hit], settings: Settings, lexical_weight: float | None = None
) -> list[Hit]:
    """Combine two rankings of the same chunks, best first; `settings.fusion` picks how."""
    if settings.fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {settings.fusion!r}; choose one of {FUSIONS}")
    if settings.fusion == "boost":
        w = settings.lexical_boost if lexical_weight is None else lexical_weight
        return boost(dense, lexical, w)
    w_lex = 1.0 - settings.dense_weight if lexical_weight is None else lexical_weight
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for weight, hits in ((settings.dense_weight, dense), (w_lex, lexical)):
        for rank, value in enumerate(_contributions(hits, settings)):
            cid = hits[rank].chunk.chunk_id
            chunks[cid] = hits[rank].chunk
            scores[cid] = scores.get(cid, 0.0) + weight * value
    return _ranked(scores, chunks)


def boost(dense: Sequence[Hit], lexical: Sequence[Hit], weight: float) -> list[Hit]:
    """Dense cosine plus `weight` × BM25 / the best BM25 score.

    A chunk only BM25 found is at most as similar as the last dense candidate, so it gets that
    cosine: the bonus must lift it past the dense ones on its own.
    """
    scores = {h.chunk.chunk_id: h.score for h in dense}
    chunks = {h.chunk.chunk_id: h.chunk for h in dense}
    top = lexical[0].score if lexical else 0.0
    if weight > 0 and top > 0:
        floor = dense[-1].score if dense else 0.0
        for h in lexical:
            cid = h.chunk.chunk_id
            chunks[cid] = h.chunk
            scores[cid] = scores.get(cid, floor) + weight * h.score / top
    return _ranked(scores, chunks)


def _ranked(scores: dict[str, float], chunks: dict[str, Chunk]) -> list[Hit]:
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))
    return [Hit(chunks[cid], scores[cid]) for cid in order]


def _contributions(hits: Sequence[Hit], settings: Settings) -> list[float]:
    if settings.fusion == "score":  # min-max normalised scores
        if not hits:
            return []
        hi, lo = hits[0].score, hits[-1].score
        return [(h.score - lo) / (hi - lo) if hi > lo else 1.0 for h in hits]
    return [1.0 / (settings.rrf_k + rank + 1) for rank in range(len(hits))]

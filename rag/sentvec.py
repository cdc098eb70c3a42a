"""Sentence vectors stored beside each chunk vector, so a chunk is also found by its best sentence.

A 600-character chunk's one vector blurs the sentence that answers with the ones around it; the
answering sentence's own vector is closer to the question. A chunk's dense score is therefore
`(1 - w) × chunk cosine + w × its best sentence's cosine` (`RAG_SENTENCE_WEIGHT`, 0.5; see README
"Retrieval quality" for the measurements). The sentence vectors travel in the chunk's own Chroma
record, as float16 in one metadata string: written with the chunk, deleted with it, returned by
the same query, and the same on an embedded store and a `chroma run` server.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rag.sentences import split
from rag.types import Chunk, Hit

if TYPE_CHECKING:
    from rag.embed import Embedder

log = logging.getLogger(__name__)


def texts(chunk_text: str) -> list[str]:
    """The sentences of a chunk, split as the answer stage splits them (`rag.sentences`)."""
    return [chunk_text[s:e] for s, e in split(chunk_text)]


def pack(vectors: np.ndarray) -> str:
    """Vectors (one row per sentence) as a metadata string: float16 (cosines within 1e-3), base64."""
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f2").tobytes()).decode("ascii")


def unpack(packed: str, dim: int) -> np.ndarray:
    """`pack` in reverse, as float32 rows of `dim` values (no rows for a string that is not one)."""
    return np.frombuffer(_raw(packed, dim), dtype="<f2").astype(np.float32).reshape(-1, dim)


def _raw(packed: str, dim: int) -> bytes:
    """The bytes of a packed string; none, with a warning, when it is damaged, so the chunk keeps
    its cosine instead of failing the search."""
    try:
        raw = base64.b64decode(packed, validate=True)
    except ValueError:  # binascii.Error
        raw = b"-"
    if len(raw) % (2 * dim):
        log.warning("damaged sentence vectors in the index (%d bytes); run rag index --rebuild", len(raw))
        return b""
    return raw


def embed(embedder: Embedder, chunk_texts: Sequence[str], sentences: bool = True) -> tuple[np.ndarray, list[str]]:
    """Chunk vectors and each chunk's packed sentence vectors ("" for a one-sentence chunk, and
    for every chunk without `sentences`: `RAG_SENTENCE_WEIGHT=0` indexes twice as fast).

    One embedding call for chunks and sentences together, so the backend batches them as one;
    a sentence that overlapping chunks share is embedded once.
    """
    per_chunk = [_worth(t) if sentences else [] for t in chunk_texts]
    unique = list(dict.fromkeys(s for group in per_chunk for s in group))
    vectors = embedder.embed_passages([*chunk_texts, *unique])
    chunk_vectors = vectors[: len(chunk_texts)]
    row = {s: len(chunk_texts) + i for i, s in enumerate(unique)}
    packed = [pack(vectors[[row[s] for s in group]]) if group else "" for group in per_chunk]
    return chunk_vectors, packed


def _worth(chunk_text: str) -> list[str]:
    """The sentences to embed: none for a one-sentence chunk, whose chunk vector says it all."""
    found = texts(chunk_text)
    return found if len(found) > 1 else []


@dataclass(frozen=True)
class Found:
    """One dense candidate as the store's `search` returns it."""

    chunk: Chunk
    cosine: float
    packed: str  # its sentence vectors, `pack`ed; "" for none


def rank(found: Sequence[Found], query: np.ndarray, weight: float) -> list[Hit]:
    """Dense candidates best first by `(1 - weight) × cosine + weight × best sentence cosine`; a chunk
    without sentence vectors (one sentence, or an index from before them) keeps its cosine."""
    scores = np.array([f.cosine for f in found], dtype=np.float64)
    raw = {i: _raw(f.packed, query.shape[0]) for i, f in enumerate(found) if f.packed} if weight > 0 else {}
    with_sentences = [i for i, r in raw.items() if r]
    if with_sentences:
        joined = b"".join(raw[i] for i in with_sentences)
        sims = np.frombuffer(joined, dtype="<f2").astype(np.float32).reshape(-1, query.shape[0]) @ query
        starts = np.cumsum([0] + [len(raw[i]) // (2 * query.shape[0]) for i in with_sentences[:-1]])
        best = np.maximum.reduceat(sims, starts)
        scores[with_sentences] = (1.0 - weight) * scores[with_sentences] + weight * best
    hits = [Hit(f.chunk, float(v)) for f, v in zip(found, scores, strict=True)]
    return sorted(hits, key=lambda h: -h.score)


def by_text(found: Sequence[Found], hits: Sequence[Hit], dim: int) -> dict[str, np.ndarray]:
    """The stored vectors of the hits' sentences by sentence text, for the answer stage's cache."""
    packed = {f.chunk.chunk_id: f.packed for f in found if f.packed}
    out: dict[str, np.ndarray] = {}
    for h in hits:
        if p := packed.get(h.chunk.chunk_id):
            vectors = unpack(p, dim)
            sents = texts(h.chunk.text)
            if len(sents) == len(vectors):  # written by this splitter; a changed splitter re-embeds
                out.update(zip(sents, vectors, strict=True))
    return out

"""The default generator: quotes the sentences of the sources that best answer the question.

No language model beyond the embedder, so it runs anywhere and every word of the answer is in an
article. Sentences are scored by e5 similarity to the question; near-best sentences from other
articles are preferred over more of the same article, so cross-article questions ("Welche
Länder hielten Manöver ab?") draw on every article that answers them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from rag.config import Settings
from rag.embed import Embedder
from rag.lexical import stems
from rag.sentences import sentences
from rag.types import Hit

# Sources read for sentences; the retriever ranks them, the tail rarely holds the answer.
_SOURCES = 8
# Shorter "sentences" are headings, datelines or captions.
_MIN_CHARS = 30
# A sentence from another article joins the answer when it scores within this of the best one.
_MARGIN = 0.04
# Sentences more similar than this to one already chosen add nothing.
_DUPLICATE = 0.95
_CACHE = 4096
# Weight of word overlap with the question next to e5 similarity: names and numbers matter.
_LEXICAL = 0.2
# Weight of the source's retrieval rank (1/rank): the fused ranking beats sentence similarity alone.
_RANK_PRIOR = 0.0


@dataclass(frozen=True, eq=False)
class Candidate:
    source: int  # 1-based source number
    doc: str
    start: int  # absolute offset in the document
    text: str
    score: float
    vec: np.ndarray


class ExtractiveGenerator:
    """Picks, orders and cites sentences; deterministic for a given index and question."""

    name = "extractive"

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.embedder = embedder
        self.limit = settings.answer_sentences
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the server answers from several threads

    def generate(self, question: str, sources: Sequence[Hit], lang: str) -> Iterator[str]:
        chosen = self.select(question, sources)
        for i, c in enumerate(chosen):
            if i and c.doc == chosen[i - 1].doc:
                yield f" {c.text} [{c.source}]"
                continue
            label = _label(sources[c.source - 1])
            yield f"{'' if i == 0 else chr(10) * 2}{label + ': ' if label else ''}{c.text} [{c.source}]"

    def select(self, question: str, sources: Sequence[Hit]) -> list[Candidate]:
        """The answer's sentences, grouped by article in the order the articles first matter."""
        cands = self.candidates(question, sources)
        if not cands:
            return []
        picked = _diverse(sorted(cands, key=lambda c: -c.score), self.limit)
        doc_order = {d: i for i, d in reversed(list(enumerate(c.doc for c in picked)))}
        return sorted(picked, key=lambda c: (doc_order[c.doc], c.start))

    def candidates(self, question: str, sources: Sequence[Hit]) -> list[Candidate]:
        """Every quotable sentence of the top sources, scored against the question."""
        raw = []
        seen: set[tuple[str, int]] = set()
        for n, hit in enumerate(sources[:_SOURCES], 1):
            ch = hit.chunk
            for s, _e, text in sentences(ch.text):
                key = (ch.doc_id, ch.start + s)  # overlapping chunks repeat sentences
                if _quotable(text) and key not in seen:
                    seen.add(key)
                    raw.append((n, ch.doc_id, ch.start + s, text))
        if not raw:
            return []
        q = np.asarray(self.embedder.embed_queries([question])[0])
        vecs = self._embed([t for *_, t in raw])
        q_stems = stems(question)
        lexical = np.array([_overlap(q_stems, stems(t)) for *_, t in raw])
        prior = np.array([1.0 / n for n, *_ in raw])  # the retriever's ranking knows the passage
        scores = vecs @ q + _LEXICAL * lexical + _RANK_PRIOR * prior
        return [Candidate(n, d, s, t, float(sc), v) for (n, d, s, t), sc, v in zip(raw, scores, vecs, strict=True)]

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Passage vectors, cached: the same sentences come back for related questions."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        fresh = dict(zip(missing, self.embedder.embed_passages(missing), strict=True)) if missing else {}
        with self._lock:
            for t, v in fresh.items():
                self._cache[t] = np.asarray(v)
            out = np.stack([self._cache[t] if t in self._cache else fresh[t] for t in texts])
            for t in texts:
                if t in self._cache:
                    self._cache.move_to_end(t)
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return out


def _label(hit: Hit) -> str:
    """ "DW, 2. November 2013": who said it and when, since quoted sentences rarely carry a date."""
    m = hit.chunk.meta
    return ", ".join(x for x in (m.get("outlet", ""), m.get("date", "")) if x)


def _overlap(question: set[str], sentence: set[str]) -> float:
    """Share of the question's stems in the sentence, counting compounds that end in one."""
    if not question:
        return 0.0
    return sum(any(w == q or (len(q) >= 5 and w.endswith(q)) for w in sentence) for q in question) / len(question)


def _quotable(sentence: str) -> bool:
    """Whole sentences only: headings and photo captions carry no terminal punctuation."""
    return len(sentence) >= _MIN_CHARS and sentence.rstrip("\"'“”»« )").endswith((".", "!", "?"))


def _diverse(ranked: list[Candidate], limit: int) -> list[Candidate]:
    """Best sentence first; then near-best ones, one per new article before seconds of any."""
    best = ranked[0].score
    close = [c for c in ranked if c.score >= best - _MARGIN]
    picked: list[Candidate] = []
    for pass_new_docs in (True, False):
        for c in close:
            if len(picked) >= limit:
                return picked
            if c in picked or (pass_new_docs and any(p.doc == c.doc for p in picked)):
                continue
            if any(p.source == c.source for p in picked):
                continue  # one sentence per source keeps each [n] pointing at one span
            if all(float(p.vec @ c.vec) < _DUPLICATE for p in picked):
                picked.append(c)
    return picked


def create(settings: Settings, embedder: Embedder) -> ExtractiveGenerator:
    return ExtractiveGenerator(settings, embedder)

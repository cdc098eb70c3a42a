"""Hybrid retrieval: dense (Chroma) and lexical (BM25) candidate lists, fused into one ranking.

How the two lists are combined, and how much BM25 counts for a question, is `rag.fusion`'s job.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import filters, fusion, glossary, sentvec, snapshot
from rag.config import Settings
from rag.embed import Embedder
from rag.errors import RagError
from rag.filters import Filter
from rag.lang import detect
from rag.lexical import LexicalIndex
from rag.store import Store
from rag.types import Chunk, Hit

log = logging.getLogger(__name__)
METHODS = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    support: float  # best dense cosine similarity; 1.0 when no dense search ran
    # The stored vectors of the hits' sentences, by sentence text (`rag.sentvec`): the answer
    # stage need not embed them again.
    sentences: dict[str, np.ndarray] = field(default_factory=dict)
    query: np.ndarray | None = None  # the question's vector; None when no dense search ran


@dataclass(frozen=True)
class View:
    """One consistent picture of the index: a store, its chunks, their BM25 index, their generation.

    A search takes the current view once, so a reload in another thread never mixes two indexes.
    """

    store: Store
    chunks: list[Chunk]
    lexical: LexicalIndex
    generation: str

    @classmethod
    def load(cls, store: Store, saved: Path | None = None) -> View:
        """The store's view; chunks and BM25 from the snapshot in `saved` when it matches (see `rag.snapshot`)."""
        generation = store.generation()  # read first: a run finishing meanwhile shows as a newer one
        if saved is not None and (loaded := snapshot.load(saved, store)):
            return cls(store, *loaded, generation)
        chunks = store.all_chunks()
        return cls(store, chunks, LexicalIndex([c.text for c in chunks]), generation)


class Retriever:
    """Finds the passages for a question; holds the model, the store and the BM25 index."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings) -> None:
        self.embedder = embedder
        self.settings = settings
        self._lock = threading.Lock()
        self._saved = snapshot.folder(settings.data_dir, settings.collection)
        self._view = View.load(store, self._saved)
        self._glossary: glossary.Glossary | None = None
        self._glossary_loaded = False
        self._glossary_lock = threading.Lock()  # not `_lock`: a reload holding it must not stall questions

    @property
    def glossary(self) -> glossary.Glossary | None:
        """The English-German dictionary (`rag.glossary`), opened on the first English question."""
        with self._glossary_lock:
            if not self._glossary_loaded:
                self._glossary = glossary.load(self.settings.glossary, self.settings.cache_dir)
                self._glossary_loaded = True
        return self._glossary

    def translations(self, question: str) -> list[list[str]]:
        """An English question's terms in German, for BM25 (none for other questions or without a dictionary)."""
        if detect(question) != "en" or (g := self.glossary) is None:
            return []
        return g.translate(question)

    @property
    def store(self) -> Store:
        return self._view.store

    @property
    def chunks(self) -> list[Chunk]:
        return self._view.chunks

    @property
    def lexical(self) -> LexicalIndex:
        return self._view.lexical

    def reload(self, store: Store | None = None) -> None:
        """Load the index's chunks and BM25 anew (after indexing in the same process)."""
        self._view = View.load(store or self.store, self._saved)

    def refresh(self) -> bool:
        """Follow indexing runs of other processes: reload when the index's generation changed.

        Costs one metadata read when nothing changed; the reload opens the store anew, because
        Chroma's embedded client never sees vectors another process wrote.
        """
        if self.store.generation() == self._view.generation:
            return False
        with self._lock:
            if self.store.generation() == self._view.generation:  # another request reloaded meanwhile
                return False
            old = self._view.generation
            self._view = View.load(self.store.reopen(), self._saved)
            log.info(
                "index changed (generation %s → %s): %d chunks reloaded", old, self._view.generation, len(self.chunks)
            )
            return True

    def search(
        self, question: str, k: int | None = None, method: str | None = None, only: Filter | None = None
    ) -> list[Hit]:
        return self.retrieve(question, k, method, only).hits

    def retrieve(
        self, question: str, k: int | None = None, method: str | None = None, only: Filter | None = None
    ) -> Retrieval:
        """Ranked hits plus the evidence strength the refusal decision needs; `only` narrows both sides."""
        k = self.settings.top_k if k is None else k
        if k < 1:  # a negative k would slice hits off the end: -5 returned all but five
            raise RagError(f"{k} passages were asked for; at least 1 is needed.", "Ask for 1 or more, e.g. -k 10.")
        method = method or self.settings.retrieval
        if method not in METHODS:
            raise ValueError(f"unknown retrieval method {method!r}; choose one of {METHODS}")
        n = max(self.settings.candidates, k)
        view = self._view
        docs = only.docs(view.chunks) if only else None
        if docs is not None and not docs:  # no article matches: nothing to answer from
            return Retrieval([], 0.0)
        vec, found = self.nearest(question, n, view, docs) if method != "lexical" else (None, [])
        dense = sentvec.rank(found, vec, self.settings.sentence_weight) if vec is not None else []
        german = self.translations(question) if method != "dense" else []
        lexical = self.lexical_hits(question, n, view, docs, german) if method != "dense" else []
        if method == "dense":
            hits = dense[:k]
        elif method == "lexical":
            hits = lexical[:k]
        else:
            weight = fusion.lexical_weight(question, view.lexical, self.settings, german)
            hits = fusion.fuse(dense, lexical, self.settings, weight)[:k]
        # The refusal floor is calibrated on the best chunk cosine: that is the evidence strength,
        # whatever the ranking mixes in.
        support = max((f.cosine for f in found), default=1.0)
        return Retrieval(hits, support, sentvec.by_text(found, hits, self.embedder.dim), vec)

    def dense(self, question: str, n: int, view: View | None = None, docs: set[str] | None = None) -> list[Hit]:
        """Nearest chunks by chunk and sentence vectors (`rag.sentvec`); with `docs`, a Chroma
        `where` keeps those articles' chunks only."""
        vec, found = self.nearest(question, n, view, docs)
        return sentvec.rank(found, vec, self.settings.sentence_weight)

    def nearest(
        self, question: str, n: int, view: View | None = None, docs: set[str] | None = None
    ) -> tuple[np.ndarray, list[sentvec.Found]]:
        """The question's vector and its nearest chunks with their cosines and packed sentence vectors
        (before `sentvec.rank` mixes them: `eval.fit_fusion` ranks one search under several weights)."""
        view = view or self._view
        vec = np.asarray(self.embedder.embed_queries([question])[0])
        if docs is not None:
            n = min(n, sum(c.doc_id in docs for c in view.chunks))
        where = filters.where(docs) if docs is not None else None
        return vec, [sentvec.Found(*row) for row in view.store.search(vec, n, where)]

    def lexical_hits(
        self,
        question: str,
        n: int,
        view: View | None = None,
        docs: set[str] | None = None,
        translations: list[list[str]] | None = None,
    ) -> list[Hit]:
        """BM25's best chunks; an English question also by its terms' German translations."""
        view = view or self._view
        allowed = None if docs is None else np.array([c.doc_id in docs for c in view.chunks], dtype=bool)
        german = self.translations(question) if translations is None else translations
        return [Hit(view.chunks[i], s) for i, s in view.lexical.search(question, n, allowed, german)]

"""Puts the stages together: one `Assistant` owns the model, the store and the retriever."""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

from rag.config import Settings
from rag.embed import Embedder, SentenceTransformerEmbedder, model_id
from rag.errors import RagError
from rag.index import IndexReport, index_folder, writer_lock
from rag.retrieve import Retriever
from rag.store import ChromaStore
from rag.types import Hit

log = logging.getLogger(__name__)


def check_question(question: str, limit: int) -> str:
    """Normalise a question and reject what cannot be answered, with a message that says why."""
    q = unicodedata.normalize("NFC", question or "")
    q = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in q).strip()
    if not q:
        raise RagError("The question is empty.", 'Type a question, e.g. "Welche Länder hielten Manöver ab?"')
    if len(q) > limit:
        raise RagError(
            f"The question is {len(q):,} characters long; the limit is {limit:,}.",
            "Shorten the question or raise RAG_MAX_QUESTION_CHARS.",
        )
    return q


class Assistant:
    """The engine behind the CLI, the UI and the evaluation; load it once and reuse it."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._retriever: Retriever | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = SentenceTransformerEmbedder(self.settings)
        return self._embedder

    def store(self, create: bool = False) -> ChromaStore:
        s = self.settings
        return ChromaStore(s.data_dir, s.collection, model_id(s), create=create, url=s.chroma_url)

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            store = self.store(create=False)
            if store.count() == 0:
                raise RagError(
                    f"The index in {self.settings.data_dir} is empty.",
                    "Add articles and run `python -m rag index`.",
                )
            self._retriever = Retriever(store, self.embedder, self.settings)
        return self._retriever

    def index(self, folder: Path | None = None, rebuild: bool = False, progress: bool = True) -> IndexReport:
        with writer_lock(self.settings.data_dir):
            store = self.store(create=True)
            if rebuild:
                store.reset()
            report = index_folder(
                folder or self.settings.seeds_dir, store, lambda: self.embedder, self.settings, progress=progress
            )
        if self._retriever is not None:
            self._retriever.reload()
        return report

    def search(self, question: str, k: int | None = None, method: str | None = None) -> list[Hit]:
        q = check_question(question, self.settings.max_question_chars)
        return self.retriever.search(q, k=k, method=method)

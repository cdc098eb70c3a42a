"""Puts the stages together: one `Assistant` owns the model, the store and the retriever."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

from rag import answerable, generate, repair, rerank, texts
from rag.cite import check
from rag.config import Settings
from rag.conversation import standalone
from rag.embed import Embedder, create_embedder, model_id
from rag.embed.indexing import IndexEncoder
from rag.errors import RagError
from rag.filters import Filter
from rag.generate import Generator, GeneratorUnavailable, Turn
from rag.index import IndexReport, index_folder, writer_lock
from rag.lang import detect
from rag.retrieve import Retrieval, Retriever
from rag.select import Candidate, Selector, load_weights
from rag.store import ChromaStore, Store
from rag.types import Answer, Event, Hit

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
        self._generators: dict[str, Generator] = {}
        self._selector: Selector | None = None
        self._refuse = load_weights("refuse")

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = create_embedder(self.settings)
        return self._embedder

    @property
    def selector(self) -> Selector:
        """The answer selection stage, shared by every generator (it caches sentence vectors)."""
        if self._selector is None:
            self._selector = Selector(self.embedder)
        return self._selector

    def store(self, create: bool = False, rebuild: bool = False) -> Store:
        s = self.settings
        return ChromaStore(
            s.data_dir,
            s.collection,
            model_id(s),
            create=create,
            url=s.chroma_url,
            rebuild=rebuild,
            timeout=s.store_timeout,
            ef_search=s.ef_search,
        )

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            store = self.store(create=False)
            if store.count() == 0:
                raise RagError(
                    f"The index in {self.settings.data_dir} is empty.",
                    "Add articles and run `python -m rag index`.",
                )
            repair.check(store)  # damaged vector files answer wrongly without a word: say so instead
            self._retriever = Retriever(store, self.embedder, self.settings)
        else:
            self._retriever.refresh()  # `rag index` in another process may have changed the index
        return self._retriever

    def index(self, folder: Path | None = None, rebuild: bool = False, progress: bool = True) -> IndexReport:
        encoder = IndexEncoder(self.settings, lambda: self.embedder)  # bf16 where faster; freed after the run
        with writer_lock(self.settings.data_dir):
            store = self.store(create=True, rebuild=rebuild)
            report = index_folder(
                folder or self.settings.seeds_dir,
                store,
                encoder.for_run,
                self.settings,
                progress=progress,
                rebuild=rebuild,
            )
        if report.added or report.updated or report.repaired:
            report.encoder = encoder.path
        if self._retriever is not None:
            self._retriever.reload(self.store())  # a rebuild serves from another collection
        return report

    def search(
        self, question: str, k: int | None = None, method: str | None = None, only: Filter | None = None
    ) -> list[Hit]:
        """The passages in their final order: retrieved, then reordered by the answer they hold."""
        q = check_question(question, self.settings.max_question_chars)
        if self.settings.rerank <= 0:
            return self.retriever.search(q, k=k, method=method, only=only)
        return self.ranked(q, k=k, method=method, only=only)[1]

    def ranked(
        self, query: str, k: int | None = None, method: str | None = None, only: Filter | None = None
    ) -> tuple[Retrieval, list[Hit], list[Candidate]]:
        """Retrieval, the hits in their final order (`rag.rerank`) and the answer stage's
        sentences, best first, numbered by that order."""
        found = self.retriever.retrieve(query, k=k, method=method, only=only)
        if not found.hits:
            return found, [], []
        self.selector.remember(found.sentences)
        evidence = self.selector.rank(query, found.hits, found.query)
        hits, evidence = rerank.by_answer(found.hits, evidence, self.settings.rerank)
        return found, hits, evidence

    def generator(self, name: str | None = None) -> Generator:
        """The named generator (default from settings), built once and kept."""
        name = name or self.settings.generator
        if name not in self._generators:
            self._generators[name] = generate.create(name, self.settings, self.embedder)
        return self._generators[name]

    def threshold(self, lang: str) -> float:
        """The closest passage must be at least this similar to the question for an answer."""
        return self.settings.refuse_below_en if lang == "en" else self.settings.refuse_below

    def answers(self, question: str, lang: str, support: float, evidence: Sequence[Candidate]) -> bool:
        """Whether the evidence answers the question.

        The closest passage must clear `refuse_below` (a floor against far-off questions), and
        the refusal model, which reads the question's unknown words and the best sentence's
        answer score, must say so: similarity alone cannot tell on-topic unanswerable questions.
        """
        if support < self.threshold(lang):
            return False
        unknown = self.retriever.lexical.unknown_words
        return answerable.answers(question, lang, support, evidence, unknown, self._refuse)

    def answer(
        self, question: str, history: Sequence[Turn] = (), generator: str | None = None, only: Filter | None = None
    ) -> Answer:
        """The whole answer at once (CLI, API, evaluation); `only` limits the articles it may use."""
        for event in self.answer_stream(question, history, generator, only):
            if event.answer is not None:
                return event.answer
        raise AssertionError("answer_stream ended without an answer")  # pragma: no cover

    def answer_stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        generator: str | None = None,
        only: Filter | None = None,
    ) -> Iterator[Event]:
        """Sources as soon as retrieval is done, then text pieces, then the checked answer.

        Refuses when the evidence does not answer (`answers`) or when the generator cites
        nothing; falls back to the extractive generator when an LLM is unreachable, and ends
        cleanly when one dies mid-answer.
        """
        q = check_question(question, self.settings.max_question_chars)
        lang = detect(q)
        gen = self.generator(generator)
        query = standalone(q, history, gen)
        found, hits, evidence = self.ranked(query, only=only)
        yield Event("sources", hits=tuple(hits))
        if not hits or not self.answers(query, lang, found.support, evidence):
            yield Event("done", answer=_refusal(lang, hits, gen.name))
            return
        pieces: list[str] = []
        used, notice = gen.name, ""
        try:
            for piece in gen.generate(query, hits, lang, evidence):
                pieces.append(piece)
                yield Event("delta", text=piece)
        except GeneratorUnavailable as exc:
            log.warning("generator %s failed: %s", gen.name, exc.message)
            if pieces:
                notice = texts.CUT_SHORT[lang].format(error=exc.message)
            else:
                notice = texts.FALLBACK[lang].format(error=exc.message)
                used = "extractive"
                for piece in self.generator("extractive").generate(query, hits, lang, evidence):
                    pieces.append(piece)
                    yield Event("delta", text=piece)
        checked = check("".join(pieces), hits)
        if not checked.citations or checked.text.startswith(texts.REFUSAL[lang].rstrip(".")):
            yield Event("done", answer=_refusal(lang, hits, used, notice))
            return
        yield Event(
            "done", answer=Answer(checked.text, checked.citations, False, (), checked.unsupported, notice, used)
        )


def _refusal(lang: str, hits: Sequence[Hit], generator: str, notice: str = "") -> Answer:
    """Say the articles are silent, offering the closest passages as maybe related."""
    return Answer(texts.REFUSAL[lang], (), True, tuple(hits[:3]), (), notice, generator)

"""The whole engine (ingest, chunk, Chroma, BM25 + dense fusion, selection, extractive answer, citation
check) over the seed articles in a temporary folder, with the deterministic `HashEmbedder`.

These check the plumbing's invariants without the model: exact spans, incremental indexing, errors.
What the answers are worth is measured with the real model (`tests/test_answer.py`, `python -m eval`).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.chroma import search_breadth
from rag.config import Settings
from rag.errors import RagError
from rag.ingest import discover, load_document
from rag.pipeline import Assistant

from .conftest import SEEDS
from .hash_embedder import HashEmbedder


class CountingEmbedder(HashEmbedder):
    """The hash embedder, counting the passages it embeds (a re-index of unchanged files embeds none)."""

    def __init__(self) -> None:
        self.passages = 0

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.passages += len(texts)
        return super().embed_passages(texts, progress)


def _assistant(data: Path, seeds: Path, embedder: HashEmbedder) -> Assistant:
    settings = Settings.from_env(data_dir=data, seeds_dir=seeds, chroma_url="", collection="articles")
    return Assistant(settings, embedder=embedder)


@pytest.fixture(scope="module")
def hashed(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    a = _assistant(tmp_path_factory.mktemp("hashed"), SEEDS, HashEmbedder())
    report = a.index(progress=False)
    assert len(report.added) == 5 and not report.failed and report.chunks > 5
    return a


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {d.doc_id: d.text for d in map(load_document, discover(SEEDS))}


@pytest.mark.parametrize("method", ["hybrid", "dense", "lexical"])
def test_hits_are_exact_spans_best_first(hashed: Assistant, texts: dict[str, str], method: str) -> None:
    hits = hashed.search("Welche Länder hielten Manöver ab?", k=4, method=method)
    assert 0 < len(hits) <= 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        c = h.chunk
        assert texts[c.doc_id][c.start : c.end] == c.text and c.meta["title"]


def test_answers_cite_exact_spans_for_every_marker(hashed: Assistant, texts: dict[str, str]) -> None:
    ans = hashed.answer("Wo findet der BRICS-Gipfel statt?")
    assert ans.generator == "extractive" and ans.text
    for c in ans.citations:
        assert texts[c.doc][c.start : c.end] == c.quote and f"[{c.n}]" in ans.text
    if ans.refused:
        assert not ans.citations and ans.related


def test_stream_sends_sources_first_and_ends_with_the_answer(hashed: Assistant) -> None:
    events = list(hashed.answer_stream("Who represented Russia in Tokyo?"))
    assert events[0].kind == "sources" and events[-1].kind == "done" and events[-1].answer is not None


@pytest.mark.parametrize("question", ["", "  \n\t", "\x00\x01"])
def test_empty_questions_are_refused_with_a_message(hashed: Assistant, question: str) -> None:
    with pytest.raises(RagError, match="empty"):
        hashed.answer(question)


def test_reindex_embeds_only_what_changed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    embedder = CountingEmbedder()
    a = _assistant(tmp_path / "data", seeds, embedder)
    first = a.index(progress=False)
    first_passages = embedder.passages  # the chunks and their sentences (`rag.sentvec`)
    assert len(first.added) == 5 and first_passages > first.chunks
    embedder.passages = 0
    again = a.index(progress=False)
    assert len(again.unchanged) == 5 and not again.added and embedder.passages == 0
    changed = next(seeds.glob("004_*.txt"))
    changed.write_text(changed.read_text(encoding="utf-8").replace("Kasan", "Kazan", 1), encoding="utf-8")
    (gone,) = seeds.glob("001_*.txt")
    gone.unlink()
    third = a.index(progress=False)
    assert third.updated == [changed.stem] and third.removed == [gone.stem]
    assert 0 < embedder.passages < first_passages / 2
    assert {h.chunk.doc_id for h in a.search("Zwangsarbeit Tokio Seoul", k=20)} <= {p.stem for p in seeds.glob("*.txt")}


def test_ef_search_reaches_new_and_existing_collections(tmp_path: Path) -> None:
    """RAG_EF_SEARCH is Chroma's collection setting: given to a new one, written to one built before."""

    def breadth(a: Assistant) -> int:
        return int(a.store()._current().configuration_json["hnsw"]["ef_search"])

    built = _assistant(tmp_path / "data", SEEDS, HashEmbedder())
    built = Assistant(dataclasses.replace(built.settings, ef_search=100), embedder=built.embedder)  # Chroma's default
    built.index(progress=False)
    assert breadth(built) == 100
    before = [(h.chunk.chunk_id, h.score) for h in built.search("Welche Länder hielten Manöver ab?", k=5)]
    wider = Assistant(dataclasses.replace(built.settings, ef_search=300), embedder=built.embedder)
    assert breadth(wider) == 300
    after = [(h.chunk.chunk_id, h.score) for h in wider.search("Welche Länder hielten Manöver ab?", k=5)]
    assert after == before  # a few dozen chunks: both breadths search them all
    fresh = _assistant(tmp_path / "other", SEEDS, HashEmbedder())
    fresh = Assistant(dataclasses.replace(fresh.settings, ef_search=40), embedder=fresh.embedder)
    fresh.index(progress=False)
    assert breadth(fresh) == 40


class ReadOnlyCollection:
    """What `search_breadth` reads of a Chroma collection, on an index that cannot be written."""

    name = "articles"
    configuration_json = {"hnsw": {"ef_search": 100}}

    def modify(self, **_: object) -> None:
        raise PermissionError("attempt to write a readonly database")


def test_ef_search_on_a_read_only_index_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rag.chroma"):
        search_breadth(ReadOnlyCollection(), 300)
    assert "cannot set ef_search=300 on articles" in caplog.text and "searches with 100" in caplog.text

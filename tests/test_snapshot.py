"""The saved BM25 snapshot: written by `rag index`, used only when it matches the index, else rebuilt.

Over a real temporary Chroma index of the seeds with the deterministic `HashEmbedder`.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag import snapshot
from rag.config import Settings
from rag.pipeline import Assistant
from rag.retrieve import View
from rag.store import STATE, ChromaStore
from rag.types import Chunk

from .conftest import SEEDS
from .hash_embedder import HashEmbedder

QUESTIONS = ("Welche Länder hielten Manöver ab?", "Ausrüstung", "Who is Mark Rutte?", "Senkaku-Inseln")


class CountingStore(ChromaStore):
    """The Chroma store, counting the reads of every chunk (what the snapshot saves a server)."""

    reads = 0

    def all_chunks(self) -> list[Chunk]:
        CountingStore.reads += 1
        return super().all_chunks()


class FailingEmbedder(HashEmbedder):
    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        raise RuntimeError("the encoder broke")


def _assistant(tmp: Path, seeds: Path = SEEDS, embedder: HashEmbedder | None = None) -> Assistant:
    settings = Settings.from_env(data_dir=tmp / "data", seeds_dir=seeds, chroma_url="", collection="articles")
    return Assistant(settings, embedder=embedder or HashEmbedder())


def _store(a: Assistant) -> CountingStore:
    s = a.settings
    return CountingStore(s.data_dir, s.collection, a.store().model, create=False)


def _base(a: Assistant) -> Path:
    return snapshot.folder(a.settings.data_dir, a.settings.collection)


def _view(a: Assistant) -> tuple[View, int]:
    """A server's view of the index, and how often it read every chunk from the store to make it."""
    CountingStore.reads = 0
    view = View.load(_store(a), _base(a))
    return view, CountingStore.reads


def _same_results(view: View, fresh: View) -> None:
    assert view.chunks == fresh.chunks
    for q in QUESTIONS:
        assert view.lexical.search(q, 20) == fresh.lexical.search(q, 20)


@pytest.fixture()
def indexed(tmp_path: Path) -> Assistant:
    a = _assistant(tmp_path)
    a.index(progress=False)
    return a


def test_index_saves_it_and_a_server_loads_it_without_reading_the_chunks(indexed: Assistant) -> None:
    state = indexed.store().marks()[STATE]
    assert [p.name for p in _base(indexed).iterdir()] == [state]
    view, reads = _view(indexed)
    fresh = View.load(indexed.store())  # no snapshot: every chunk read and stemmed
    assert reads == 0
    _same_results(view, fresh)
    for q in QUESTIONS:  # the loaded BM25 scores every chunk exactly as the freshly built one
        toks = fresh.lexical.query_tokens(q)
        assert np.array_equal(view.lexical._bm25.get_scores(toks), fresh.lexical._bm25.get_scores(toks))
    assert indexed.search(QUESTIONS[0], k=5, method="lexical")


def test_a_changed_index_gets_a_new_snapshot_and_the_old_one_goes(tmp_path: Path) -> None:
    """The old state's snapshot stays while that state is marked (servers may be loading it), then goes."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    a = _assistant(tmp_path, seeds)
    a.index(progress=False)
    old = a.store().marks()[STATE]
    sorted(seeds.iterdir())[0].unlink()
    a.index(progress=False)
    new = a.store().marks()[STATE]
    assert new != old and sorted(p.name for p in _base(a).iterdir()) == sorted([old, new])
    view, reads = _view(a)
    assert reads == 0
    _same_results(view, View.load(a.store()))
    a.index(progress=False)  # the next run removes the old one
    assert [p.name for p in _base(a).iterdir()] == [new]


@pytest.mark.parametrize(
    "damage",
    ["truncate chunks", "flip a byte of the BM25 scores", "delete the vocabulary", "garble meta", "add a file"],
)
def test_a_damaged_snapshot_is_rebuilt_with_a_warning(
    indexed: Assistant, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = _base(indexed) / indexed.store().marks()[STATE]
    if damage == "truncate chunks":
        chunks = path / "chunks.json"
        chunks.write_bytes(chunks.read_bytes()[:-100])
    elif damage == "flip a byte of the BM25 scores":
        data = path / "bm25" / "data.csc.index.npy"
        raw = bytearray(data.read_bytes())
        raw[-3] ^= 0xFF
        data.write_bytes(bytes(raw))
    elif damage == "delete the vocabulary":
        (path / "bm25" / "vocab.index.json").unlink()
    elif damage == "garble meta":
        (path / "meta.json").write_text("{not json", encoding="utf-8")
    else:
        (path / "bm25" / "extra.npy").write_bytes(b"x")
    with caplog.at_level(logging.WARNING, logger="rag.snapshot"):
        view, reads = _view(indexed)
    assert reads == 1 and "damaged" in caplog.text
    _same_results(view, View.load(indexed.store()))
    indexed.index(progress=False)  # the next run replaces it
    assert _view(indexed)[1] == 0


def test_a_stale_snapshot_is_not_used(indexed: Assistant, caplog: pytest.LogCaptureFixture) -> None:
    """Another state (the index changed without this folder's snapshot following) means a rebuild."""
    indexed.store().set_marks(**{STATE: "another-state"})
    with caplog.at_level(logging.WARNING, logger="rag.snapshot"):
        view, reads = _view(indexed)
    assert reads == 1 and "none is saved for this index state" in caplog.text
    _same_results(view, View.load(indexed.store()))


def test_a_snapshot_over_another_chunk_count_is_not_used(indexed: Assistant, caplog: pytest.LogCaptureFixture) -> None:
    path = _base(indexed) / indexed.store().marks()[STATE]
    meta = json.loads((path / "meta.json").read_text())
    (path / "meta.json").write_text(json.dumps({**meta, "chunks": meta["chunks"] + 1}))
    with caplog.at_level(logging.WARNING, logger="rag.snapshot"):
        assert _view(indexed)[1] == 1
    assert "damaged" in caplog.text and "chunks" in caplog.text


def test_a_missing_snapshot_is_built_in_memory_and_saved_by_the_next_run(
    indexed: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    """An index built before snapshots existed: served as before, and `rag index` adds the snapshot."""
    shutil.rmtree(_base(indexed))
    generation = indexed.store().generation()
    with caplog.at_level(logging.WARNING, logger="rag.snapshot"):
        view, reads = _view(indexed)
    assert reads == 1 and "none is saved" in caplog.text
    report = indexed.index(progress=False)
    assert not (report.added or report.updated or report.removed)
    assert indexed.store().generation() == generation  # nothing changed: servers do not reload
    view2, reads = _view(indexed)
    assert reads == 0
    _same_results(view2, view)


def test_an_unfinished_run_makes_servers_rebuild(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A run that failed after it began to write leaves its mark: the chunks may not be the state's."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    a = _assistant(tmp_path, seeds)
    a.index(progress=False)
    assert not a.store().marks()[snapshot.UNFINISHED]
    (seeds / "neu.txt").write_text("Neue Manöver\n\nDie Marine übte am Montag vor der Küste von Hokkaido.\n")
    with pytest.raises(RuntimeError, match="encoder broke"):
        _assistant(tmp_path, seeds, FailingEmbedder()).index(progress=False)
    assert a.store().marks()[snapshot.UNFINISHED]
    with caplog.at_level(logging.WARNING, logger="rag.snapshot"):
        assert _view(a)[1] == 1
    assert "has not finished" in caplog.text
    a.index(progress=False)  # a run that finishes clears it
    assert not a.store().marks()[snapshot.UNFINISHED] and _view(a)[1] == 0


def test_a_rebuild_leaves_a_snapshot_of_the_new_collection(indexed: Assistant) -> None:
    before = indexed.store().name
    indexed.index(rebuild=True, progress=False)
    assert indexed.store().name != before
    view, reads = _view(indexed)
    assert reads == 0 and len(view.chunks) == indexed.store().count()

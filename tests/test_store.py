"""One contract suite over both store backends: embedded Chroma and a real `chroma run` server."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import repair, sentvec
from rag.config import Settings
from rag.embed import model_id
from rag.errors import RagError
from rag.index import collection_lease
from rag.pipeline import Assistant
from rag.store import ChromaStore, Store
from rag.types import Chunk
from tests.conftest import ROOT
from tests.loopback import free_port, start_chroma
from tests.test_crash import many_seeds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on a free loopback port, stopped after the module."""
    port = free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str | Path]:
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return {"url": url, "collection": f"c{time.monotonic_ns()}", "data_dir": tmp_path}
    return {"url": "", "collection": "articles", "data_dir": tmp_path / "data"}


def make_store(b: dict, model: str = "m1") -> Store:
    return ChromaStore(Path(b["data_dir"]), str(b["collection"]), model, create=True, url=str(b["url"]))


def chunk(i: int, doc: str = "d") -> Chunk:
    return Chunk(f"{doc}:{i}", doc, i * 10, i * 10 + 5, f"text {i}", {"title": "T", "url": "u"})


def test_add_query_delete(backend: dict) -> None:
    store = make_store(backend)
    vecs = np.eye(4, dtype=np.float32)
    store.add([chunk(i) for i in range(3)], vecs[:3], "v1")
    store.add([chunk(0, "e")], vecs[3:], "v1")
    assert store.count() == 4
    best, sim = store.query(vecs[1], 2)[0]
    assert best.chunk_id == "d:1" and sim == pytest.approx(1.0, abs=1e-5)
    assert best.meta["title"] == "T" and (best.start, best.end) == (10, 15)
    store.add([chunk(5)], vecs[2:3], "v2")
    store.delete_doc("d", keep_hash="v2")
    assert store.doc_hashes() == {"d": {"v2"}, "e": {"v1"}}
    store.delete_doc("e")
    assert [c.chunk_id for c in store.all_chunks()] == ["d:5"]


def test_one_write_holds_several_documents_versions(backend: dict) -> None:
    """`add` with one version per chunk (an indexing group of several articles in one write)."""
    store = make_store(backend)
    vecs = np.eye(4, dtype=np.float32)
    store.add([chunk(0), chunk(1), chunk(0, "e"), chunk(0, "f")], vecs, ["v1", "v1", "w1", "x1"])
    assert store.doc_hashes() == {"d": {"v1"}, "e": {"w1"}, "f": {"x1"}}
    assert {c.chunk_id for c, _ in store.versioned_chunks() if _ == "w1"} == {"e:0"}


def test_sentence_vectors_travel_with_their_chunk(backend: dict) -> None:
    """Packed sentence vectors (`rag.sentvec`) come back with the chunk's search hit, survive an
    upsert of the same chunk and go when the chunk is deleted; reading chunks leaves them out."""
    store = make_store(backend)
    vecs = np.eye(4, dtype=np.float32)
    packed = sentvec.pack(np.tile(vecs[:1], (6, 1)))  # six sentences: a few KB of metadata
    store.add([chunk(0), chunk(1)], vecs[:2], "v1", [packed, ""])
    found = {c.chunk_id: p for c, _, p in store.search(vecs[0], 2)}
    assert found == {"d:0": packed, "d:1": ""}
    assert sentvec.unpack(found["d:0"], 4).shape == (6, 4)
    assert all(set(c.meta) <= {"title", "outlet", "date", "url"} for c in store.all_chunks())
    store.delete_doc("d")
    assert store.search(vecs[0], 2) == []


def test_is_a_store(backend: dict) -> None:
    """Every method of the `Store` protocol that index, retrieve and repair use is there."""
    assert isinstance(make_store(backend), Store)


def test_rebuild_beside_the_serving_collection(backend: dict) -> None:
    """A successor fills while the old collection serves; promote swaps, drop_stale removes the old."""
    store = make_store(backend)
    vecs = np.eye(4, dtype=np.float32)
    store.add([chunk(0)], vecs[:1], "v1")
    start = store.generation()
    assert store.mark_state("s1") and not store.mark_state("s1")
    assert store.generation() != start and store.marks()["state"] == "s1"
    new = store.successor()
    new.add([chunk(i) for i in range(3)], vecs[:3], "v2")
    assert make_store(backend).count() == 1 and store.findable(1) == 1  # the old one still serves
    new.promote()
    assert store.reopen().name == new.name != store.name and store.reopen().count() == 3
    assert store.drop_stale() == [store.name]
    ids, vectors = new.all_vectors()
    assert sorted(ids) == ["d:0", "d:1", "d:2"] and vectors.shape == (3, 4)
    assert {version for _, version in new.versioned_chunks()} == {"v2"} and new.findable(3) == 3


def test_what_hnsw_leaves_unreachable_is_not_damage(backend: dict) -> None:
    """Intact vector files over tight clusters of near-duplicates, as a large corpus has: HNSW reaches
    all but a few, and calling that damage made the bench's 100k index refuse every question."""
    rng = np.random.default_rng(0)
    n = 5000
    vecs = rng.normal(size=(50, 384))[np.arange(n) % 50] + rng.normal(scale=1e-4, size=(n, 384))
    unit = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    store = make_store(backend)
    store.add([chunk(i) for i in range(n)], unit, "v1")
    store = store.reopen()
    assert store.findable(n) < n  # the premise: this graph leaves some vectors out of reach
    assert repair.damage(store) == ""
    repair.check(store)


def test_refuses_other_model(backend: dict) -> None:
    make_store(backend, "m1")
    with pytest.raises(RagError, match="cannot be mixed"):
        make_store(backend, "m2")


def test_server_results_equal_embedded(assistant: Assistant, chroma_server: str) -> None:
    remote = Assistant(
        dataclasses.replace(assistant.settings, chroma_url=chroma_server, collection="seeds"),
        embedder=assistant.embedder,
    )
    assert len(remote.index(progress=False).added) == 5
    for q in ("Welche Länder hielten Manöver ab?", "Who is Mark Rutte?", "Senkaku-Inseln"):
        ours = [(h.chunk.chunk_id, round(h.score, 4)) for h in assistant.search(q, k=5)]
        theirs = [(h.chunk.chunk_id, round(h.score, 4)) for h in remote.search(q, k=5)]
        assert ours == theirs


def test_server_down_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(RagError, match="not reachable"):
        ChromaStore(settings.data_dir, "x", "m", url=f"http://127.0.0.1:{free_port()}")


def test_one_indexing_run_per_collection(backend: dict) -> None:
    """A second run on the same collection is refused while the first holds its lease."""
    first, second = make_store(backend), make_store(backend)
    with collection_lease(first), pytest.raises(RagError, match="Another indexing run"), collection_lease(second):
        pass
    assert first.marks()["writer"] == ""  # released
    with collection_lease(second):
        assert second.marks()["writer"]


def test_two_indexers_with_their_own_data_folders_on_one_chroma_server(
    chroma_server: str, settings: Settings, tmp_path: Path
) -> None:
    """Real `rag index` processes: the data folders' locks differ, the collection's lease does not."""
    ChromaStore(tmp_path, "two-writers", model_id(settings), create=True, url=chroma_server)
    env = {
        **os.environ,
        "RAG_CHROMA_URL": chroma_server,
        "RAG_COLLECTION": "two-writers",
        "RAG_SEEDS_DIR": str(many_seeds(tmp_path / "seeds")),
        "RAG_CACHE_DIR": str(settings.cache_dir),
    }
    cmd = [sys.executable, "-m", "rag", "index"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    first = subprocess.Popen(cmd, cwd=ROOT, env={**env, "RAG_DATA_DIR": str(tmp_path / "one")}, **quiet)
    watch = ChromaStore(tmp_path, "two-writers", model_id(settings), create=False, url=chroma_server)
    deadline = time.monotonic() + 60
    while not watch.marks().get("writer") and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    second = subprocess.run(
        cmd, cwd=ROOT, env={**env, "RAG_DATA_DIR": str(tmp_path / "two")}, capture_output=True, text=True
    )
    assert first.wait(timeout=600) == 0
    assert second.returncode == 2 and "Another indexing run" in second.stderr, second.stderr
    assert subprocess.run(cmd, cwd=ROOT, env={**env, "RAG_DATA_DIR": str(tmp_path / "two")}, **quiet).returncode == 0

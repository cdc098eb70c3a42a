"""Damaged index files (issue 14, item 5), in real processes over real Chroma folders.

A truncated HNSW file or a deleted vector folder is reported by queries with a message that says
to rebuild (never a traceback or silently wrong results) and repaired by the next `rag index`;
a `rag index --rebuild` killed with SIGKILL leaves the old index serving, and a finished one is
followed by a running server on its next request.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag import sentvec
from rag.config import Settings
from rag.errors import IndexDamaged
from rag.pipeline import Assistant
from tests.conftest import ROOT
from tests.test_api import call
from tests.test_crash import assert_consistent, many_seeds
from tests.test_live_index import NEW_ARTICLE
from tests.ui_server import ui_server

pytestmark = pytest.mark.slow
# Five copies of the seeds in 100-character chunks: about 1,270 chunks, past the 1,000 vectors
# after which Chroma keeps them in HNSW files rather than only in its SQLite log.
COPIES, CHUNKS = 5, {"RAG_CHUNK_SIZE": "100", "RAG_CHUNK_OVERLAP": "20"}


@pytest.fixture(scope="module")
def built(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeds and an index of them, built once by a real `rag index`; each test works on a copy."""
    root = tmp_path_factory.mktemp("damaged")
    many_seeds(root / "seeds", copies=COPIES)
    out = rag("index", env=environment(root, settings))
    assert out.returncode == 0, out.stderr
    return root


@pytest.fixture()
def index(built: Path, tmp_path: Path) -> Path:
    shutil.copytree(built / "seeds", tmp_path / "seeds")
    shutil.copytree(built / "data", tmp_path / "data")
    return tmp_path


def environment(root: Path, settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        **CHUNKS,
        "RAG_DATA_DIR": str(root / "data"),
        "RAG_SEEDS_DIR": str(root / "seeds"),
        "RAG_CACHE_DIR": str(settings.cache_dir),
    }


def rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "rag", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def vector_folder(data: Path) -> Path:
    """The one HNSW folder of the index (a finished rebuild leaves no other; `lexical` holds the BM25 snapshot)."""
    folders = [p for p in data.iterdir() if p.is_dir() and p.name != "lexical"]
    assert len(folders) == 1, folders
    return folders[0]


def assert_reported(out: subprocess.CompletedProcess[str], what: str) -> None:
    assert out.returncode == 2, out.stdout + out.stderr
    assert "is damaged" in out.stderr and what in out.stderr and "rag index --rebuild" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr, out.stderr


def assert_repaired(root: Path, settings: Settings, embedder) -> None:
    """`rag index` rebuilt the vectors: every stored chunk is found by its own vector, nothing else changed."""
    env = environment(root, settings)
    fix = rag("index", env=env)
    assert fix.returncode == 0, fix.stderr
    assert "is damaged" in fix.stderr and "damaged vector index was rebuilt" in fix.stdout, fix.stdout + fix.stderr
    assert "25 unchanged" in fix.stdout
    search = rag("search", "Manöver", "-k", "3", "--json", env=env)
    assert search.returncode == 0 and "Manöver" in search.stdout, search.stderr
    vector_folder(root / "data")  # the damaged collection's folder is gone
    s = dataclasses.replace(settings, data_dir=root / "data", seeds_dir=root / "seeds")
    a = Assistant(dataclasses.replace(s, chunk_size=100, chunk_overlap=20), embedder=embedder)
    assert_consistent(a, root / "seeds")
    store = a.store()
    ids, vectors = store.all_vectors()
    assert len(ids) == store.count() > 1000
    lost = [i for i, v in zip(ids, vectors, strict=True) if i not in {c.chunk_id for c, _ in store.query(v, 10)}]
    assert not lost, f"{len(lost)} chunks not findable by their own vector"
    multi = [p for c, _, p in store.search(vectors[0], 200) if len(sentvec.texts(c.text)) > 1]
    assert multi and all(multi), "the repair re-embeds every chunk's sentences too (rag.sentvec)"


def test_truncated_hnsw_file_is_reported_and_repaired(index: Path, settings: Settings, embedder) -> None:
    hnsw = vector_folder(index / "data") / "data_level0.bin"
    with hnsw.open("r+b") as fh:
        fh.truncate(hnsw.stat().st_size // 3)
    env = environment(index, settings)
    assert_reported(rag("search", "Manöver", env=env), "Chroma cannot read it")
    assert_reported(rag("ask", "Wo findet der BRICS-Gipfel statt?", env=env), "Chroma cannot read it")
    assert_repaired(index, settings, embedder)


def test_deleted_vector_folder_is_found_and_repaired(index: Path, settings: Settings, embedder) -> None:
    """Chroma answers from the vectors still in its log, a fifth of them, without a word: before, so did we."""
    shutil.rmtree(vector_folder(index / "data"))
    assert_reported(rag("search", "Manöver", env=environment(index, settings)), "reaches")
    assert_repaired(index, settings, embedder)


def test_kill_9_during_rebuild_keeps_the_old_index_serving(index: Path, settings: Settings) -> None:
    env = environment(index, settings)
    question = {"question": "Zwergflusspferd Knut im Tierpark Quedlinburg", "k": 3}
    (index / "seeds" / "knut.txt").write_text(NEW_ARTICLE, encoding="utf-8")  # only a finished run knows it
    with ui_server(index / "data", index / "server.log", **CHUNKS) as base:
        assert call(base + "/api/search", question)[0] == 200
        run = subprocess.Popen(
            [sys.executable, "-m", "rag", "index", "--rebuild"], cwd=ROOT, env=env, stderr=subprocess.PIPE
        )
        assert midway(run), "the rebuild finished before it could be killed"
        run.send_signal(signal.SIGKILL)
        run.wait()
        status, body, _ = call(base + "/api/search", question)
        assert status == 200 and body["hits"] and all(h["doc"] != "knut" for h in body["hits"]), body
        fresh = rag("search", "Manöver", "-k", "3", "--json", env=env)
        assert fresh.returncode == 0 and "Manöver" in fresh.stdout, fresh.stderr
        done = rag("index", "--rebuild", env=env)
        assert done.returncode == 0, done.stderr
        status, body, _ = call(base + "/api/search", question)  # the next request answers from the new index
        assert status == 200 and body["hits"][0]["doc"] == "knut", body
    vector_folder(index / "data")  # the old collection's and the killed run's folders are gone


def midway(run: subprocess.Popen[bytes], timeout: float = 300) -> bool:
    """Wait until the run's progress bar shows some articles written and not all (a fixed sleep
    lost that race once a faster start made the whole rebuild take less than it)."""
    assert run.stderr is not None
    progress = re.compile(rb"Indexing:[^\r\n]*?\|\s*(\d+)/(\d+)")
    seen, deadline = b"", time.monotonic() + timeout
    while run.poll() is None and time.monotonic() < deadline:
        seen += os.read(run.stderr.fileno(), 4096)
        done = [(int(a), int(b)) for a, b in progress.findall(seen[-4096:])]
        if done and 0 < done[-1][0] < done[-1][1]:
            return True
    return False


def test_server_says_the_index_is_damaged(index: Path, settings: Settings) -> None:
    """`rag-chat` on a damaged index stops with the message; a request that meets one gets 503 in its language.

    A running server keeps the vectors it loaded in memory (Chroma caches them per process), so
    the 503 path is checked on the server's own error mapping.
    """
    hnsw = vector_folder(index / "data") / "data_level0.bin"
    with hnsw.open("r+b") as fh:
        fh.truncate(hnsw.stat().st_size // 3)
    cmd = [sys.executable, "-m", "ui", "--no-index"]
    out = subprocess.run(cmd, cwd=ROOT, env=environment(index, settings), capture_output=True, text=True, timeout=600)
    assert out.returncode == 2 and "is damaged" in out.stderr and "rag index --rebuild" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    from ui.server import IndexBroken, index_down_for

    for question, said in (("Wo findet der BRICS-Gipfel statt?", "beschädigt"), ("Where is the summit?", "damaged")):
        with pytest.raises(IndexBroken) as broken, index_down_for(question):
            raise IndexDamaged(str(index), "Chroma cannot read it")
        assert said in broken.value.damage.say(broken.value.lang)

"""Crash-safe indexing: kill -9 the indexer at random moments; the next run repairs everything."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import RagError
from rag.index import writer_lock
from rag.ingest import load_document
from rag.pipeline import Assistant
from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow
KILLS = 10


def many_seeds(dst: Path, copies: int = 4) -> Path:
    """The seeds several times under other names, so a run lasts long enough to be killed mid-way.

    Each copy gets its own sentence: identical texts would be skipped as duplicates.
    """
    dst.mkdir()
    for i in range(copies):
        for p in SEEDS.glob("*.txt"):
            shutil.copy(p, dst / f"{p.stem}_copy{i}.txt")
            amend(dst / f"{p.stem}_copy{i}.txt", f"Kopie {i} dieses Artikels.")
    return dst


def amend(path: Path, sentence: str) -> None:
    """Add `sentence` to a paragraph of the article body (text after the article end is cleaned away)."""
    body = [line for line in load_document(path).text.splitlines() if len(line) > 80]
    raw = path.read_text(encoding="utf-8")
    assert body[1] in raw
    path.write_text(raw.replace(body[1], f"{body[1]} {sentence}", 1), encoding="utf-8")


def test_kill_9_never_loses_or_duplicates(settings: Settings, embedder, tmp_path: Path) -> None:
    seeds = many_seeds(tmp_path / "seeds")
    data = tmp_path / "data"
    env = {
        **os.environ,
        "RAG_DATA_DIR": str(data),
        "RAG_SEEDS_DIR": str(seeds),
        "RAG_CACHE_DIR": str(settings.cache_dir),
    }
    rng = random.Random(1234)
    for i in range(KILLS):
        # Touch a few files so every run has real work: new versions replace old ones.
        for p in rng.sample(sorted(seeds.glob("*.txt")), 3):
            p.write_text(
                p.read_text(encoding="utf-8") + f"\n\nNachtrag {i}: Ergänzende Meldung zur Lage.\n", encoding="utf-8"
            )
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag", "index"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(4.0, 14.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if (data / "chroma.sqlite3").exists():  # queryable between crashes, by a new process
            query = subprocess.run(
                [sys.executable, "-m", "rag", "search", "Manöver", "-k", "3", "--json"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            assert query.returncode in (0, 2), query.stderr  # 2: the index is still empty
            assert "Traceback" not in query.stderr, query.stderr
            if query.returncode == 0:
                assert json.loads(query.stdout)
    done = subprocess.run([sys.executable, "-m", "rag", "index"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # Opened only now: Chroma caches one client per folder and process, which must not see stale state.
    check = Assistant(dataclasses.replace(settings, data_dir=data, seeds_dir=seeds), embedder=embedder)
    assert_consistent(check, seeds)


def assert_consistent(a: Assistant, seeds: Path) -> None:
    store = a.store()
    chunks = store.all_chunks()
    assert len({c.chunk_id for c in chunks}) == len(chunks), "duplicate chunk ids"
    versions = store.doc_hashes()
    docs = {p.stem: load_document(p) for p in seeds.glob("*.txt")}
    assert set(versions) == set(docs), "documents missing after the repair run"
    assert all(len(v) == 1 for v in versions.values()), "two versions of one document"
    for c in chunks:  # every chunk belongs to the current text of its file
        assert docs[c.doc_id].text[c.start : c.end] == c.text
    assert store.query(a.embedder.embed_queries(["Manöver"])[0], 3)


def test_second_writer_gets_a_clear_message(tmp_path: Path) -> None:
    with writer_lock(tmp_path), pytest.raises(RagError, match="Another indexing run"), writer_lock(tmp_path):
        pass

"""Incremental indexing against a real Chroma in a temp dir."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.chunk import chunks_for
from rag.config import Settings
from rag.errors import RagError
from rag.index import doc_version
from rag.ingest import load_document
from rag.pipeline import Assistant
from tests.conftest import ROOT
from tests.test_crash import amend

pytestmark = pytest.mark.slow


@pytest.fixture()
def private(settings: Settings, embedder, tmp_path: Path, seeds_copy: Path) -> Assistant:
    s = dataclasses.replace(settings, data_dir=tmp_path / "data", seeds_dir=seeds_copy)
    return Assistant(s, embedder=embedder)


def chunk_ids(a: Assistant) -> list[str]:
    return sorted(c.chunk_id for c in a.store().all_chunks())


def test_reindex_unchanged_does_nothing(private: Assistant) -> None:
    first = private.index(progress=False)
    before = chunk_ids(private)
    second = private.index(progress=False)
    assert len(first.added) == 5
    assert second.added == second.updated == second.removed == []
    assert len(second.unchanged) == 5
    assert chunk_ids(private) == before


def test_generation_rises_only_when_the_index_changed(private: Assistant) -> None:
    """Running servers reload when it rises: after a change, also one a killed run left behind."""
    private.index(progress=False)
    store = private.store()
    first = store.generation()
    private.index(progress=False)
    assert store.generation() == first  # nothing changed: servers keep their view
    # What a run killed before its end leaves: an article's new version written, the old one deleted.
    path = next(private.settings.seeds_dir.glob("002_*.txt"))
    amend(path, "Ein Nachtrag der Redaktion zur Lage in der Region.")
    doc = load_document(path)
    version = doc_version(doc, private.settings)
    assert {version} != store.doc_hashes()[doc.doc_id]
    chunks = chunks_for(doc, private.settings)
    store.add(chunks, private.embedder.embed_passages([c.text for c in chunks]), version)
    store.delete_doc(doc.doc_id, keep_hash=version)
    assert store.generation() == first
    report = private.index(progress=False)
    assert report.updated == [] and store.generation() != first


def test_changed_file_replaces_its_chunks(private: Assistant) -> None:
    private.index(progress=False)
    path = next(private.settings.seeds_dir.glob("002_*.txt"))
    path.write_text(
        path.read_text(encoding="utf-8") + "\n\nEin völlig neuer Absatz über Quallen im Pazifik und "
        "ihre erstaunliche Fähigkeit, Licht zu erzeugen, wie Forscher in Okinawa berichten.\n",
        encoding="utf-8",
    )
    report = private.index(progress=False)
    assert report.updated == [path.stem]
    chunks = [c for c in private.store().all_chunks() if c.doc_id == path.stem]
    text = load_document(path).text
    assert any("Quallen" in c.text for c in chunks)
    assert all(c.text == text[c.start : c.end] for c in chunks)  # no stale chunk of the old version
    assert private.search("Quallen Licht Okinawa", k=1)[0].chunk.doc_id == path.stem


def test_deleted_file_disappears(private: Assistant) -> None:
    private.index(progress=False)
    path = next(private.settings.seeds_dir.glob("001_*.txt"))
    path.unlink()
    report = private.index(progress=False)
    assert report.removed == [path.stem]
    assert path.stem not in {c.doc_id for c in private.store().all_chunks()}


def test_unreadable_file_is_reported_and_keeps_old_chunks(private: Assistant) -> None:
    private.index(progress=False)
    path = next(private.settings.seeds_dir.glob("004_*.txt"))
    path.write_bytes("Größtes Manöver".encode("latin-1"))
    report = private.index(progress=False)
    assert "not valid UTF-8" in report.failed[str(path)]
    assert path.stem in {c.doc_id for c in private.store().all_chunks()}


# Root reads a chmod 000 folder anyway: without these capabilities, file permissions bind root too.
DAC_DROPPED = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


def test_unreadable_folder_is_reported_and_keeps_its_articles(
    settings: Settings, embedder, tmp_path: Path, seeds_copy: Path
) -> None:
    sub = seeds_copy / "archiv"
    sub.mkdir()
    for p in sorted(seeds_copy.glob("00[34]_*.txt")):
        p.rename(sub / p.name)
    data = tmp_path / "data"
    before = Assistant(dataclasses.replace(settings, data_dir=data, seeds_dir=seeds_copy), embedder=embedder).index(
        progress=False
    )
    assert len(before.added) == 5
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_SEEDS_DIR": str(seeds_copy)}
    proc = index_without_permission(sub, env)
    assert proc.returncode == 2, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert "cannot be read" in report["failed"][str(sub)]
    assert report["removed"] == [] and report["chunks"] == before.chunks
    assert "archiv" in proc.stderr  # the terminal says which folder
    # The articles folder itself: an error before anything is touched.
    proc = index_without_permission(seeds_copy, env)
    assert proc.returncode == 2 and "cannot be read" in proc.stderr and not proc.stdout
    assert json.loads(run_index(env).stdout)["removed"] == []


def index_without_permission(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`rag index --json` while `folder` is chmod 000, in a process that file permissions bind."""
    folder.chmod(0o000)
    try:
        return run_index(env, DAC_DROPPED)
    finally:
        folder.chmod(0o755)


def run_index(env: dict[str, str], prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "rag", "index", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_broken_links_are_reported_and_keep_their_chunks(private: Assistant) -> None:
    seeds = private.settings.seeds_dir
    private.index(progress=False)
    (seeds / "004_moved.txt").symlink_to(seeds / "nowhere.txt")  # dangling
    (seeds / "loop.txt").symlink_to(seeds / "loop.txt")  # a loop
    article = next(seeds.glob("003_*.txt"))
    article.rename(seeds / "elsewhere.bin")
    article.symlink_to(seeds / "gone.txt")  # an indexed article whose link broke
    report = private.index(progress=False)
    assert "No such file" in report.failed[str(seeds / "004_moved.txt")]
    assert "symbolic links" in report.failed[str(seeds / "loop.txt")]
    assert str(article) in report.failed and report.removed == []
    assert article.stem in {c.doc_id for c in private.store().all_chunks()}


def test_other_model_is_refused(private: Assistant, settings: Settings) -> None:
    private.index(progress=False)
    other = dataclasses.replace(private.settings, embed_model="/models/some-other-model")
    with pytest.raises(RagError, match="cannot be mixed"):
        Assistant(other).store()


def test_missing_index_is_a_clear_error(tmp_path: Path, settings: Settings) -> None:
    a = Assistant(dataclasses.replace(settings, data_dir=tmp_path / "nothing"))
    with pytest.raises(RagError, match="no index"):
        a.search("Wer traf sich in Tokio?")


def test_chunk_metadata_in_store(assistant: Assistant) -> None:
    chunks = assistant.store().all_chunks()
    dw = [c for c in chunks if c.doc_id.startswith("000_")]
    assert dw and all(c.meta["url"] == "https://p.dw.com/p/1AAZu" and c.meta["date"] == "2013-11-02" for c in dw)

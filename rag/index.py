"""Incremental indexing: only new or changed articles are embedded; deleted ones disappear.

A document's version (`doc_hash`) covers its cleaned text and the chunking settings. New chunks
are upserted before the previous version's chunks are deleted, so a crash leaves either version
queryable and the next run finishes the job.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from rag.chunk import chunk_document
from rag.config import Settings
from rag.embed import Embedder
from rag.errors import RagError
from rag.ingest import discover, load_document
from rag.store import ChromaStore
from rag.types import Chunk, Document

log = logging.getLogger(__name__)
# Documents are embedded together until they fill this many batches of `batch_size` chunks.
GROUP_BATCHES = 8


@dataclass
class IndexReport:
    """What one indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    # Same cleaned text under another file name: indexed once, or every answer would cite it twice.
    duplicates: dict[str, str] = field(default_factory=dict)
    chunks: int = 0

    def to_json(self) -> dict[str, object]:
        return self.__dict__.copy()


def doc_version(doc: Document, settings: Settings) -> str:
    key = f"{doc.content_hash}:{settings.chunk_size}:{settings.chunk_overlap}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _groups(todo: list[tuple[Document, str]], settings: Settings) -> Iterator[list[tuple[Document, str, list[Chunk]]]]:
    """Documents with their chunks, gathered until a group holds enough chunks for full batches."""
    group: list[tuple[Document, str, list[Chunk]]] = []
    size = 0
    for doc, version in todo:
        chunks = chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
        group.append((doc, version, chunks))
        size += len(chunks)
        if size >= GROUP_BATCHES * settings.batch_size:
            yield group
            group, size = [], 0
    if group:
        yield group


def index_folder(
    folder: Path,
    store: ChromaStore,
    embedder: Callable[[], Embedder],
    settings: Settings,
    progress: bool = True,
    on_doc: Callable[[str], None] | None = None,
) -> IndexReport:
    """Bring the store in line with the article files in `folder`.

    `embedder` is a factory: a run with nothing to embed never loads the model.
    """
    report = IndexReport()
    unlisted: dict[str, str] = {}
    files = discover(folder, unlisted)
    report.failed.update(unlisted)
    docs: dict[str, Document] = {}
    by_hash: dict[str, str] = {}
    for path in files:
        try:
            doc = load_document(path)
        except RagError as exc:
            report.failed[str(path)] = str(exc)
            log.warning("skipped: %s", exc)
            continue
        if doc.doc_id in docs:
            report.failed[str(path)] = f"{path}: another file already has the id {doc.doc_id!r}."
            continue
        if doc.content_hash in by_hash:
            report.duplicates[doc.doc_id] = by_hash[doc.content_hash]
            log.warning("skipped %s: same text as %s", path, by_hash[doc.content_hash])
            continue
        by_hash[doc.content_hash] = doc.doc_id
        docs[doc.doc_id] = doc
    present = store.doc_hashes()
    todo = []
    for doc_id, doc in docs.items():
        version = doc_version(doc, settings)
        if present.get(doc_id) == {version}:
            report.unchanged.append(doc_id)
        else:
            todo.append((doc, version))
    bar = tqdm(total=len(todo), desc="Indexing", unit="doc", disable=not progress or not todo)
    for group in _groups(todo, settings):
        # One encode call per group of documents: per-document calls leave batches half empty.
        vectors = embedder().embed_passages([c.text for _, _, chunks in group for c in chunks])
        at = 0
        for doc, version, chunks in group:
            store.add(chunks, vectors[at : at + len(chunks)], version)
            at += len(chunks)
            store.delete_doc(doc.doc_id, keep_hash=version)
            (report.updated if doc.doc_id in present else report.added).append(doc.doc_id)
            bar.update(1)
            if on_doc:
                on_doc(doc.doc_id)
    bar.close()
    _remove_vanished(store, report, set(present) - set(docs), complete=not unlisted)
    changed = report.added or report.updated or report.removed
    store.mark_state(_state(store.doc_hashes() if changed else present))  # servers reload on their next request
    report.chunks = store.count()
    return report


def _state(versions: dict[str, set[str]]) -> str:
    """A digest of which version of which article the index holds."""
    key = json.dumps(sorted((doc, sorted(v)) for doc, v in versions.items()))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _remove_vanished(store: ChromaStore, report: IndexReport, missing: set[str], complete: bool) -> None:
    """Files that vanished lose their chunks; files that failed to load keep their old ones.

    When a folder could not be listed, nobody knows which articles it holds: nothing is removed.
    """
    if not complete:
        if missing:
            log.warning("kept %d articles that were not found, since a folder could not be read", len(missing))
        return
    failed_ids = {Path(p).stem for p in report.failed}
    for doc_id in sorted(missing - failed_ids):
        store.delete_doc(doc_id)
        report.removed.append(doc_id)


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """One indexing run at a time per data folder; a second one gets a clear message, not a corrupt index."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "index.lock"
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise RagError(
                f"Another indexing run ({holder}) is writing to {data_dir}.",
                "Wait for it to finish, then run the command again.",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)

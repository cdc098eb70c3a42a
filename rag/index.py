"""Incremental indexing: only new or changed articles are embedded; deleted ones disappear.

A document's version (`doc_hash`) covers its cleaned text and the chunking settings. New chunks
are upserted before the previous version's chunks are deleted, so a crash leaves either version
queryable and the next run finishes the job. Every run first checks that the vector index reaches
every stored chunk; a damaged one, like `--rebuild`, is rebuilt into a new collection that
replaces the old one only when complete. Before a run marks its state (which raises the
generation), it saves the chunks' BM25 snapshot for servers (`rag.snapshot`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag import repair, sentvec, snapshot
from rag.chunk import chunks_for, keeps_whole, paragraph_limit
from rag.config import Settings
from rag.embed import Embedder
from rag.errors import RagError
from rag.ingest import discover, load_document
from rag.store import Store
from rag.types import Chunk, Document

log = logging.getLogger(__name__)
# Documents are embedded together until they fill this many batches of `batch_size` chunks. The
# encoder sorts each group's texts by length, so larger groups pad less: 32 batches (1,024 chunks)
# took 14.4 s where 8 took 15.0 s for the bench's 1,042 chunks in bf16; a killed run redoes at most
# one group.
GROUP_BATCHES = 32
# An indexing run renews its lease on the collection after every group; a killed run's lease
# blocks runs from other machines for at most this long.
LEASE_SECONDS = 300.0
LEASE_SETTLE = 0.3  # seconds between writing the lease and reading it back


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
    repaired: str = ""  # what was wrong with the vector index this run rebuilt ("" when nothing)
    encoder: str = ""  # what embedded the passages ("torch bf16", or the embed backend); "" when none

    def to_json(self) -> dict[str, object]:
        return self.__dict__.copy()


def doc_version(doc: Document, settings: Settings) -> str:
    # ":sentences": the chunks carry sentence vectors (`rag.sentvec`), unless RAG_SENTENCE_WEIGHT=0;
    # switching re-embeds, as do indexes from before sentence vectors. ":paragraph": only for an
    # article with a paragraph the setting keeps whole (`rag.chunk.keeps_whole`).
    key = f"{doc.content_hash}:{settings.chunk_size}:{settings.chunk_overlap}"
    if keeps_whole(doc.text, settings.chunk_size, limit := paragraph_limit(settings)):
        key += f":paragraph{limit}"
    if settings.sentence_vectors:
        key += ":sentences"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _groups(todo: list[tuple[Document, str]], settings: Settings) -> Iterator[list[tuple[Document, str, list[Chunk]]]]:
    """Documents with their chunks, gathered until a group holds enough chunks for full batches."""
    group: list[tuple[Document, str, list[Chunk]]] = []
    size = 0
    for doc, version in todo:
        chunks = chunks_for(doc, settings)
        group.append((doc, version, chunks))
        size += len(chunks)
        if size >= GROUP_BATCHES * settings.batch_size:
            yield group
            group, size = [], 0
    if group:
        yield group


def index_folder(
    folder: Path,
    store: Store,
    embedder: Callable[[int], Embedder],
    settings: Settings,
    progress: bool = True,
    rebuild: bool = False,
) -> IndexReport:
    """Bring the store in line with the article files in `folder`.

    `embedder` is a factory given the characters of text the run will embed: a run with nothing to
    embed never loads the model, and a large run may load a faster encoder for it
    (`rag.embed.indexing`). The run holds the
    collection's lease, so two runs never write to one Chroma server's collection at once.
    With `rebuild`, or when the vector index is damaged, the run writes a new collection and
    makes it the serving one at the end; until then the old one answers, also after a crash.
    """
    with collection_lease(store) as renew:
        store.drop_stale()  # what a killed rebuild left
        wrong = "" if rebuild else repair.damage(store)
        if not (rebuild or wrong):
            return _bring_in_line(folder, store, embedder, settings, progress, renew)
        target = store.successor()
        if wrong:
            repair.restore(store, target, embedder, GROUP_BATCHES * settings.batch_size, renew, wrong, settings)
        report = _bring_in_line(folder, target, embedder, settings, progress, renew)
        repair.check(target)  # never swap in an index that is no better
        target.promote()
        report.repaired = wrong
    store.drop_stale()  # the replaced collection and its vector folder
    if wrong:
        log.warning("repaired the vector index in %s: %d chunks", store.where, report.chunks)
    return report


def _bring_in_line(
    folder: Path,
    store: Store,
    embedder: Callable[[int], Embedder],
    settings: Settings,
    progress: bool,
    renew: Callable[[], None],
) -> IndexReport:
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
    if todo or set(present) - set(docs):  # from the first write until the state is marked
        store.set_marks(**{snapshot.UNFINISHED: time.time()})
    bar = tqdm(total=len(todo), desc="Indexing", unit="doc", disable=not progress or not todo)
    work = sum(len(doc.text) for doc, _ in todo)

    def write(
        group: list[tuple[Document, str, list[Chunk]]],
        written: list[tuple[Chunk, str]],
        vectors: np.ndarray,
        sentences: list[str],
    ) -> None:
        # The group's new versions in one write, then each document's old version goes: a run
        # stopped in between leaves two versions, which the next run replaces.
        store.add([c for c, _ in written], vectors, [v for _, v in written], sentences)
        for doc, version, _ in group:
            store.delete_doc(doc.doc_id, keep_hash=version)
            (report.updated if doc.doc_id in present else report.added).append(doc.doc_id)
            bar.update(1)
        renew()

    # One writer thread: a group's Chroma writes overlap the next group's encoding (the encoder
    # releases the GIL), in the same order as before and never two at once; its errors surface.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-index-write") as writer:
        pending: Future[None] | None = None
        for group in _groups(todo, settings):
            # One encode call per group of documents: per-document calls leave batches half empty.
            written = [(c, version) for _, version, chunks in group for c in chunks]
            vectors, sentences = sentvec.embed(embedder(work), [c.text for c, _ in written], settings.sentence_vectors)
            if pending is not None:
                pending.result()
            pending = writer.submit(write, group, written, vectors, sentences)
        if pending is not None:
            pending.result()
    bar.close()
    _remove_vanished(store, report, set(present) - set(docs), complete=not unlisted)
    changed = report.added or report.updated or report.removed
    state = _state(store.doc_hashes() if changed else present)
    # The snapshot first: a server that sees the new generation finds it already there.
    _save_snapshot(snapshot.folder(settings.data_dir, settings.collection), state, store)
    if store.marks().get(snapshot.UNFINISHED):
        store.set_marks(**{snapshot.UNFINISHED: 0.0})
    store.mark_state(state)  # servers reload on their next request
    report.chunks = store.count()
    return report


def _save_snapshot(base: Path, state: str, store: Store) -> None:
    """Save the BM25 snapshot; a disk that refuses it costs servers start-up time, not the indexing run."""
    try:
        snapshot.save(base, state, store)
    except OSError as exc:
        log.warning("could not save the BM25 index to %s (%s); servers will build it from the store", base, exc)


def _state(versions: dict[str, set[str]]) -> str:
    """A digest of which version of which article the index holds."""
    key = json.dumps(sorted((doc, sorted(v)) for doc, v in versions.items()))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _remove_vanished(store: Store, report: IndexReport, missing: set[str], complete: bool) -> None:
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
def collection_lease(store: Store) -> Iterator[Callable[[], None]]:
    """Hold the collection's indexing lease during a run; yields the function that renews it.

    The data folder's lock cannot see runs from other folders or machines against one Chroma
    server, so the lease lives in the collection's metadata: who holds it and until when. Chroma
    has no compare-and-swap, so the record is read back after a pause: of two runs starting at
    the same moment, the one whose write was overwritten stops. A killed run's lease is taken
    over at once on its own machine, elsewhere after `LEASE_SECONDS`.
    """
    owner, who = uuid.uuid4().hex, f"pid {os.getpid()} on {socket.gethostname()}"

    def take() -> None:
        marks = store.marks()
        until = float(marks.get("writer_until", 0))
        holder, holder_who = marks.get("writer", ""), str(marks.get("writer_who", ""))
        if holder and holder != owner and until > time.time() and not _dead(holder_who):
            raise RagError(
                f"Another indexing run ({holder_who}) is writing to the index in {store.where}.",
                f"Wait for it to finish (its lease ends at {time.strftime('%H:%M:%S', time.localtime(until))} "
                "unless it is renewed), then run the command again.",
            )
        store.set_marks(writer=owner, writer_who=who, writer_until=time.time() + LEASE_SECONDS)

    take()
    time.sleep(LEASE_SETTLE)
    take()  # fails if another run overwrote the record meanwhile
    try:
        yield take
    finally:
        if store.marks().get("writer") == owner:
            store.set_marks(writer="", writer_who="", writer_until=0.0)


def _dead(who: str) -> bool:
    """Whether a lease holder ("pid N on HOST") is a process of this machine that no longer runs."""
    pid, _, host = who.removeprefix("pid ").partition(" on ")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


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

"""The serving view's lexical side (every chunk and their BM25 index), saved beside the Chroma data.

Without it a server reads and stems every stored chunk when it starts and after every indexing run
(19.8 s to first answer at 100k chunks). `rag index` writes it before it raises the generation,
in a folder named by the state that generation stands for (the digest of which article versions
the index holds); a server uses it only when that state is the index's current one, no run has
left the index unfinished, and every file is intact. Otherwise it rebuilds from the store in
memory and logs why: the snapshot saves time, it never decides what the answers are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import bm25s

from rag.lexical import LexicalIndex
from rag.store import STATE, Store
from rag.types import Chunk

log = logging.getLogger(__name__)
# Raised whenever what is saved, or how chunks are stemmed (rag/lexical.py), changes meaning.
FORMAT = 1
# Collection mark: an indexing run has begun changing chunks and not yet marked its state (it
# is cleared just before `mark_state`). A run that failed or was killed leaves it set, so the
# chunks may no longer be those of the state the snapshot is named by.
UNFINISHED = "unfinished"
_META, _CHUNKS, _BM25 = "meta.json", "chunks.json", "bm25"
# What reading a damaged, truncated or foreign snapshot raises (`_read`'s checks and json/bm25s).
_DAMAGED = (OSError, ValueError, KeyError, TypeError, IndexError)


def folder(data_dir: Path, collection: str) -> Path:
    """Where the snapshots of one collection live (in server mode, the client's data folder)."""
    return data_dir / "lexical" / collection


def load(base: Path, store: Store) -> tuple[list[Chunk], LexicalIndex] | None:
    """The chunks and BM25 index saved for the store's current state, or None (with a warning why)."""
    marks = store.marks()
    state = str(marks.get(STATE) or "")
    if marks.get(UNFINISHED):
        why = "an indexing run changed the index and has not finished"
    elif not state or not (base / state / _META).is_file():
        why = f"none is saved for this index state in {base}"
    else:
        try:
            return _read(base / state, state, store.count())
        except _DAMAGED as exc:
            why = f"the one in {base / state} is damaged ({type(exc).__name__}: {exc})"
    log.warning("Building the BM25 index from every stored chunk: %s. `rag index` saves one.", why)
    return None


def save(base: Path, state: str, store: Store) -> None:
    """Save the store's chunks and their BM25 index as the snapshot of `state`, unless an intact one is there.

    Written into a temporary folder that is renamed into place, so a reader sees all or nothing.
    Other snapshots are removed, except the one of the state still marked (servers load it until
    the run marks `state`); a server using a removed one keeps its open files.
    """
    target = base / state
    marked = str(store.marks().get(STATE) or "")
    if not _intact(target, state, store):
        chunks = store.all_chunks()
        if chunks:
            base.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=base))
            tmp.chmod(0o755)  # mkdtemp's 0700 would hide it from a server running as another user
            try:
                _write(tmp, state, chunks)
                tmp.rename(target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            log.info("saved the BM25 index of %d chunks to %s", len(chunks), target)
    _prune(base, keep={state, marked})


def _intact(target: Path, state: str, store: Store) -> bool:
    if not (target / _META).is_file():
        return False
    try:
        _read(target, state, store.count())
        return True
    except _DAMAGED as exc:
        log.warning("replacing the damaged BM25 snapshot %s (%s)", target, exc)
        shutil.rmtree(target, ignore_errors=True)
        return False


def _write(path: Path, state: str, chunks: list[Chunk]) -> None:
    LexicalIndex([c.text for c in chunks]).save(path / _BM25)
    metas: dict[str, int] = {}  # every chunk of an article carries the same metadata: stored once
    rows = [
        [c.chunk_id, c.doc_id, c.start, c.end, c.text, metas.setdefault(json.dumps(c.meta, sort_keys=True), len(metas))]
        for c in chunks
    ]
    body = {"metas": [json.loads(m) for m in metas], "rows": rows}
    (path / _CHUNKS).write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    meta = {"format": FORMAT, "bm25s": bm25s.__version__, "state": state, "chunks": len(chunks)}
    meta["sha256"] = {str(f.relative_to(path)): _digest(f) for f in sorted(path.rglob("*")) if f.is_file()}
    (path / _META).write_text(json.dumps(meta, indent=1), encoding="utf-8")


def _read(path: Path, state: str, count: int) -> tuple[list[Chunk], LexicalIndex]:
    """One snapshot; ValueError (or OSError) unless it is intact and saved for `state` over `count` chunks."""
    meta: dict[str, Any] = json.loads((path / _META).read_text(encoding="utf-8"))
    expected = {"format": FORMAT, "bm25s": bm25s.__version__, "state": state, "chunks": count}
    if wrong := {k: meta.get(k) for k, v in expected.items() if meta.get(k) != v}:
        now = {k: expected[k] for k in wrong}
        raise ValueError(f"saved for {wrong}, the index has {now}")
    files = {str(f.relative_to(path)) for f in path.rglob("*") if f.is_file()} - {_META}
    if files != set(meta["sha256"]):
        raise ValueError(f"files missing or added: {sorted(files ^ set(meta['sha256']))}")
    raw = (path / _CHUNKS).read_bytes()
    for name, digest in meta["sha256"].items():
        if (hashlib.sha256(raw).hexdigest() if name == _CHUNKS else _digest(path / name)) != digest:
            raise ValueError(f"{name} is not the file that was saved")
    body = json.loads(raw)
    metas = body["metas"]
    chunks = [Chunk(i, doc, start, end, text, dict(metas[m])) for i, doc, start, end, text, m in body["rows"]]
    if len(chunks) != count:
        raise ValueError(f"{len(chunks)} chunks saved, {count} stored")
    return chunks, LexicalIndex.load(path / _BM25, count)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _prune(base: Path, keep: set[str]) -> None:
    """Remove the snapshots of other states and what killed writes left."""
    if not base.is_dir():
        return
    for old in base.iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)

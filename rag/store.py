"""Chroma vector store; the only module that imports chromadb.

Cosine space, vectors always passed in (never Chroma's default embedding function), telemetry off.
Each chunk carries its document's `doc_hash`, which makes re-indexing incremental and crash-safe:
new chunks are written before the old version's chunks are deleted. The collection's metadata
carries a `generation` that every finished indexing run which changed something raises, so a
running server notices another process's run with one cheap metadata read.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import numpy as np

from rag.errors import RagError, StoreUnavailable
from rag.types import Chunk

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
GENERATION, STATE = "generation", "state"
_META_KEYS = ("title", "outlet", "date", "url")
_BATCH = 1000
DEFAULT_TIMEOUT = 10.0
_F = TypeVar("_F", bound=Callable[..., Any])


def _reachable(method: _F) -> _F:
    """A lost or stalled Chroma server becomes `StoreUnavailable` (HTTP 503 in the API), not a traceback."""

    @functools.wraps(method)
    def guarded(self: ChromaStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except RagError:
            raise
        except Exception as exc:
            import httpx  # chromadb's HTTP client; the embedded store never raises these

            if not isinstance(exc, httpx.TransportError):
                raise
            raise _unavailable(self.where, self.timeout, exc) from exc

    return cast(_F, guarded)


class ChromaStore:
    """One Chroma collection of chunks with their vectors and metadata.

    Embedded (`PersistentClient` in `data_dir`) by default; a `chroma run` server when `url` is set.
    """

    def __init__(
        self,
        data_dir: Path,
        collection: str,
        model: str,
        create: bool = True,
        url: str = "",
        rebuild: bool = False,
        fresh: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.model = model
        self.where = url or str(data_dir)
        self.timeout = timeout  # seconds a Chroma server may take for one request
        self._place = (data_dir, collection, url)
        if not url and not create and not (data_dir / "chroma.sqlite3").exists():
            raise RagError(
                f"There is no index in {data_dir} yet.", "Build it with `python -m rag index` (or set RAG_DATA_DIR)."
            )
        self._client = _http_client(url, timeout) if url else _persistent_client(data_dir, fresh)
        if rebuild and collection in {c.name for c in self._client.list_collections()}:
            self._client.delete_collection(collection)  # whatever wrote it: version or model may differ
        self._col = self._collection(collection, create)

    def _collection(self, name: str, create: bool) -> Any:
        existing = {c.name for c in self._client.list_collections()}
        if name not in existing:
            if not create:
                raise RagError(f"The index has no collection {name!r} yet.", "Build it with `python -m rag index`.")
            return self._client.create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embed_model": self.model, "schema": SCHEMA_VERSION},
            )
        col = self._client.get_collection(name, embedding_function=None)
        schema = (col.metadata or {}).get("schema")
        if schema != SCHEMA_VERSION:
            raise RagError(
                f"The index in {self.where} was written by another version of rag-assistant "
                f"(index format {schema!r}, this version reads {SCHEMA_VERSION!r}).",
                "Rebuild it from the articles: `python -m rag index --rebuild` (the articles are not touched).",
            )
        built_with = (col.metadata or {}).get("embed_model")
        if built_with != self.model:
            raise RagError(
                f"The index was built with the embedding model {built_with!r}, "
                f"but {self.model!r} is configured; vectors of two models cannot be mixed.",
                "Set RAG_EMBED_MODEL back, or rebuild: `python -m rag index --rebuild`.",
            )
        return col

    @_reachable
    def reset(self) -> None:
        """Drop every chunk (used by `index --rebuild`, e.g. after changing the model)."""
        name = self._col.name
        self._client.delete_collection(name)
        self._col = self._collection(name, create=True)

    def reopen(self) -> ChromaStore:
        """The same collection through a new client, which sees other processes' indexing runs."""
        data_dir, collection, url = self._place
        return ChromaStore(data_dir, collection, self.model, create=False, url=url, fresh=True, timeout=self.timeout)

    @_reachable
    def generation(self) -> str:
        """Which indexing run the index is at; read fresh each time (the collection object caches it).

        The collection id is part of it: `index --rebuild` makes a new collection.
        """
        col = self._current()
        return f"{col.id}:{(col.metadata or {}).get(GENERATION, 0)}"

    @_reachable
    def mark_state(self, state: str) -> bool:
        """Record what a finished indexing run left (`state`, a digest of the articles' versions).

        The generation rises when it differs from the last run's, also after a run that found
        nothing to do because a killed run before it had already written the changes.
        """
        col = self._current()
        meta = dict(col.metadata or {})
        if meta.get(STATE) == state:
            return False
        meta[GENERATION] = int(meta.get(GENERATION, 0)) + 1
        meta[STATE] = state
        col.modify(metadata=meta)
        return True

    @_reachable
    def marks(self) -> dict[str, Any]:
        """The collection's metadata as stored right now (generation, indexing lease)."""
        return dict(self._current().metadata or {})

    @_reachable
    def set_marks(self, **values: str | float) -> None:
        """Change some of the collection's metadata, keeping the rest (Chroma replaces all of it)."""
        col = self._current()
        col.modify(metadata={**(col.metadata or {}), **values})

    def _current(self) -> Any:
        from chromadb.errors import NotFoundError

        try:
            return self._client.get_collection(self._col.name, embedding_function=None)
        except NotFoundError as exc:  # dropped by `index --rebuild` meanwhile
            raise RagError(
                f"The index in {self.where} has no collection {self._col.name!r} right now ({type(exc).__name__}).",
                "It is probably being rebuilt; try again when `python -m rag index` has finished.",
            ) from exc

    @_reachable
    def count(self) -> int:
        return int(self._col.count())

    @_reachable
    def doc_hashes(self) -> dict[str, set[str]]:
        """doc id → the document versions present (more than one only after an interrupted run)."""
        out: dict[str, set[str]] = {}
        for meta in self._get_all(include=["metadatas"])["metadatas"]:
            out.setdefault(meta["doc"], set()).add(meta["doc_hash"])
        return out

    @_reachable
    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray, doc_hash: str) -> None:
        for i in range(0, len(chunks), _BATCH):
            part = chunks[i : i + _BATCH]
            self._col.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[i : i + _BATCH],
                documents=[c.text for c in part],
                metadatas=[_meta(c, doc_hash) for c in part],
            )

    @_reachable
    def delete_doc(self, doc: str, keep_hash: str | None = None) -> None:
        """Delete a document's chunks, except those of version `keep_hash`."""
        where: dict[str, Any] = {"doc": doc}
        if keep_hash is not None:
            where = {"$and": [{"doc": doc}, {"doc_hash": {"$ne": keep_hash}}]}
        self._col.delete(where=where)

    @_reachable
    def query(self, vector: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity (1 - cosine distance), best first.

        A chunk that another process deleted after the vector index was loaded comes back without
        text or metadata; it is left out (the server reloads once that indexing run has finished).
        """
        n = min(n, self.count())
        if n <= 0:
            return []
        res = self._col.query(query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"])
        rows = zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True)
        found = [(_chunk(i, d, m), 1.0 - float(dist)) for i, d, m, dist in rows if d is not None and m is not None]
        if len(found) < len(res["ids"][0]):
            log.debug("%d deleted chunks left out of a search", len(res["ids"][0]) - len(found))
        return found

    @_reachable
    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every chunk id with its stored embedding (exact search in benchmarks, exports)."""
        res = self._get_all(include=["embeddings"])
        return res["ids"], np.asarray(res["embeddings"], dtype=np.float32).reshape(len(res["ids"]), -1)

    @_reachable
    def all_chunks(self) -> list[Chunk]:
        res = self._get_all(include=["documents", "metadatas"])
        return [_chunk(i, d, m) for i, d, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)]

    def _get_all(self, include: list[str]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
        total = self.count()
        for offset in range(0, total, 5000):
            res = self._col.get(include=include, limit=5000, offset=offset)
            out["ids"].extend(res["ids"])
            for k in include:
                out[k].extend(res[k])  # embeddings come as a numpy array: extend, never +=
        return out


def _chroma() -> tuple[Any, Any]:
    """The chromadb module (imported only when a store opens) and its settings, telemetry off."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb, ChromaSettings(anonymized_telemetry=False)


def _persistent_client(data_dir: Path, fresh: bool = False) -> Any:
    """Chroma's embedded client; `fresh` bypasses its one-client-per-folder cache.

    A cached client keeps the vector index it loaded and never sees what another process wrote.
    The old client is only dropped from the cache, not stopped: searches still running on it
    finish, and it is freed with its last user.
    """
    chromadb, settings = _chroma()
    if fresh:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(data_dir), None)
        SharedSystemClient._identifier_to_refcount.pop(str(data_dir), None)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(data_dir), settings=settings)
    except Exception as exc:  # chromadb raises plain Exceptions for broken folders
        raise RagError(
            f"Cannot open the index in {data_dir}: {exc}",
            "Check the folder, or delete it and run `python -m rag index`.",
        ) from exc


def _http_client(url: str, timeout: float) -> Any:
    chromadb, settings = _chroma()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RagError(f"RAG_CHROMA_URL={url!r} is not an http(s) URL.", "Use e.g. http://localhost:8000.")
    try:
        client = chromadb.HttpClient(
            host=parts.hostname,
            port=parts.port or (443 if parts.scheme == "https" else 80),
            ssl=parts.scheme == "https",
            settings=settings,
        )
        _set_timeout(client, timeout)
        client.heartbeat()
        return client
    except Exception as exc:  # connection errors come in many types
        raise _unavailable(url, timeout, exc) from exc


def _set_timeout(client: Any, timeout: float) -> None:
    """chromadb's HTTP client waits forever (httpx timeout None): a stalled server would hang every request."""
    import httpx

    client._server._session.timeout = httpx.Timeout(timeout)


def _unavailable(url: str, timeout: float, exc: Exception) -> StoreUnavailable:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        reason = f"the Chroma server did not answer within {timeout:g} s"
    else:
        reason = f"the Chroma server cannot be reached ({type(exc).__name__}: {exc})"
    return StoreUnavailable(
        f"The index is not reachable: {reason} ({url}).",
        "Check that `chroma run` is up (or unset RAG_CHROMA_URL); requests work again as soon as it answers.",
        reason,
    )


def _meta(c: Chunk, doc_hash: str) -> dict[str, Any]:
    return {
        "doc": c.doc_id,
        "start": c.start,
        "end": c.end,
        "doc_hash": doc_hash,
        **{k: c.meta.get(k, "") for k in _META_KEYS},
    }


def _chunk(chunk_id: str, text: str, m: dict[str, Any]) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=m["doc"],
        start=int(m["start"]),
        end=int(m["end"]),
        text=text,
        meta={k: str(m.get(k, "")) for k in _META_KEYS},
    )

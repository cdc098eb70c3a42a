"""Chroma vector store; with its clients in `rag.chroma`, the only modules that import chromadb.

Cosine space, vectors always passed in (never Chroma's default embedding function), telemetry off.
Each chunk carries its document's `doc_hash`, which makes re-indexing incremental and crash-safe:
new chunks are written before the old version's chunks are deleted. The collection's metadata
carries a `generation` that every finished indexing run which changed something raises, so a
running server notices another process's run with one cheap metadata read.

`index --rebuild` (and the repair of a damaged index) writes a new collection `<name>.g<n>` while
the old one keeps serving; a pointer collection `<name>.current` then names the new one, and the
old one is deleted. A killed rebuild leaves the old index serving and an orphan the next run removes.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag import chroma
from rag.chroma import DEFAULT_TIMEOUT, http_client, persistent_client, reachable, vector_folders
from rag.errors import RagError
from rag.types import Chunk

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
GENERATION, STATE = "generation", "state"
# Rows per write: below the most Chroma takes in one call (`get_max_batch_size()`, a few thousand
# records), and a request of bounded size to a `chroma run` server.
_BATCH = 1000
# Rows per read when every chunk is loaded (BM25 at start-up, repair): at 100k chunks, twenty
# responses of a few MB each instead of one that holds the whole index.
_PAGE = 5000
POINTER = ".current"  # suffix of the collection whose metadata names the collection queries go to
_GEN = re.compile(r"\.g(\d+)$")


@runtime_checkable
class Store(Protocol):
    """What indexing, retrieval and repair need of a vector store; `ChromaStore` below is the one there is.

    tests/test_store.py is the contract every implementation passes (the docstrings are ChromaStore's).
    """

    model: str  # the embedding model's id, recorded with the vectors
    where: str  # where the index lives, for messages

    @property
    def name(self) -> str: ...
    def count(self) -> int: ...
    def add(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, doc_hash: str | Sequence[str], sentences: Sequence[str] = ()
    ) -> None: ...
    def delete_doc(self, doc: str, keep_hash: str | None = None) -> None: ...
    def doc_hashes(self) -> dict[str, set[str]]: ...
    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]: ...
    def search(
        self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Chunk, float, str]]: ...
    def all_chunks(self) -> list[Chunk]: ...
    def versioned_chunks(self) -> list[tuple[Chunk, str]]: ...
    def all_vectors(self) -> tuple[list[str], np.ndarray]: ...
    def findable(self, n: int) -> int: ...
    def generation(self) -> str: ...
    def mark_state(self, state: str) -> bool: ...
    def marks(self) -> dict[str, Any]: ...
    def set_marks(self, **values: str | float) -> None: ...
    def reopen(self) -> Store: ...
    def successor(self) -> Store: ...
    def promote(self) -> None: ...
    def drop_stale(self) -> list[str]: ...


class ChromaStore:
    """One Chroma collection of chunks with their vectors and metadata.

    Embedded (`PersistentClient` in `data_dir`) by default; a `chroma run` server when `url` is set.
    `collection` is the configured name; the collection opened is the one its pointer names (see
    the module docstring), or `name` when given (a rebuild's new collection). `rebuild` opens the
    serving collection whatever version or model wrote it, since it is about to be replaced.
    `ef_search` (None: as stored) is HNSW's search breadth, a setting of the collection in Chroma:
    given, it is written to a collection that has another one (see `chroma.search_breadth`).
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
        name: str = "",
        ef_search: int | None = None,
    ) -> None:
        self.model = model
        self.where = url or str(data_dir)
        self.timeout = timeout  # seconds a Chroma server may take for one request
        self.base = collection
        self.ef_search = ef_search
        self._place = (data_dir, collection, url)
        if not url and not create and not (data_dir / "chroma.sqlite3").exists():
            raise RagError(
                f"There is no index in {data_dir} yet.", "Build it with `python -m rag index` (or set RAG_DATA_DIR)."
            )
        self._client = http_client(url, timeout) if url else persistent_client(data_dir, fresh)
        self._col = self._collection(name or self._serving(), create, check=not rebuild)

    @property
    def name(self) -> str:
        """The Chroma collection this store reads and writes."""
        return str(self._col.name)

    def _serving(self) -> str:
        """The collection queries go to: the pointer's after a rebuild, else the configured name."""
        from chromadb.errors import NotFoundError

        try:
            pointer = self._client.get_collection(self.base + POINTER, embedding_function=None)
        except NotFoundError:
            return self.base
        return str((pointer.metadata or {}).get("current") or self.base)

    def _collection(self, name: str, create: bool, check: bool = True) -> Any:
        existing = {c.name for c in self._client.list_collections()}
        if name not in existing:
            if not create:
                raise RagError(f"The index has no collection {name!r} yet.", "Build it with `python -m rag index`.")
            hnsw: dict[str, Any] = {"space": "cosine"}
            if self.ef_search is not None:
                hnsw["ef_search"] = self.ef_search
            return self._client.create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": hnsw},
                metadata={"embed_model": self.model, "schema": SCHEMA_VERSION},
            )
        col = self._client.get_collection(name, embedding_function=None)
        if not check:
            chroma.search_breadth(col, self.ef_search)
            return col
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
        chroma.search_breadth(col, self.ef_search)
        return col

    def reopen(self) -> ChromaStore:
        """The serving collection through a new client, which sees other processes' indexing runs."""
        data_dir, collection, url = self._place
        return ChromaStore(
            data_dir,
            collection,
            self.model,
            create=False,
            url=url,
            fresh=True,
            timeout=self.timeout,
            ef_search=self.ef_search,
        )

    @reachable
    def generation(self) -> str:
        """Which indexing run the index is at; read fresh each time (the collection object caches it).

        The serving collection's id is part of it: `index --rebuild` makes a new collection. When
        that is no longer this store's collection, the answer differs on every call, so whoever
        holds this store opens the serving one anew.
        """
        col = self._get(self._serving())
        if col.id != self._col.id:
            return f"moved to {col.name}:{time.monotonic_ns()}"
        return f"{col.id}:{(col.metadata or {}).get(GENERATION, 0)}"

    @reachable
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

    @reachable
    def marks(self) -> dict[str, Any]:
        """The collection's metadata as stored right now (generation, indexing lease)."""
        return dict(self._current().metadata or {})

    @reachable
    def set_marks(self, **values: str | float) -> None:
        """Change some of the collection's metadata, keeping the rest (Chroma replaces all of it)."""
        col = self._current()
        col.modify(metadata={**(col.metadata or {}), **values})

    def _current(self) -> Any:
        return self._get(self._col.name)

    def _get(self, name: str) -> Any:
        from chromadb.errors import NotFoundError

        try:
            return self._client.get_collection(name, embedding_function=None)
        except NotFoundError as exc:  # dropped by `index --rebuild` meanwhile
            raise RagError(
                f"The index in {self.where} has no collection {name!r} right now ({type(exc).__name__}).",
                "It is probably being rebuilt; try again when `python -m rag index` has finished.",
            ) from exc

    @reachable
    def findable(self, n: int) -> int:
        """How many distinct chunks one search for `n` nearest neighbours returns (`n` unless damaged).

        Chroma counts chunks from its SQLite records but searches its HNSW files, so a lost or
        truncated vector folder shows here as a shortfall or an error (`IndexDamaged`).
        """
        dim = self._current()._model.dimension  # the public Collection has no accessor for it
        if n <= 0 or not dim:
            return 0
        probe = np.full(dim, 1.0 / math.sqrt(dim), dtype=np.float32)
        res = self._col.query(query_embeddings=[probe], n_results=n, include=[])
        return len(set(res["ids"][0]))

    @reachable
    def successor(self) -> ChromaStore:
        """A new, empty collection to rebuild into; queries keep going to the serving one until `promote`."""
        taken = [int(m.group(1)) for n in self._names() if (m := _GEN.search(n))]
        data_dir, _, url = self._place
        name = f"{self.base}.g{max(taken, default=0) + 1}"
        return ChromaStore(
            data_dir, self.base, self.model, url=url, timeout=self.timeout, name=name, ef_search=self.ef_search
        )

    @reachable
    def promote(self) -> None:
        """Make this collection the serving one: one metadata write, so readers see the old or the new."""
        pointer = self._client.get_or_create_collection(self.base + POINTER, embedding_function=None)
        pointer.modify(metadata={"current": self.name})

    @reachable
    def drop_stale(self) -> list[str]:
        """Delete this index's collections that do not serve (a finished or killed rebuild's leftovers)."""
        serving = self._serving()
        stale = [n for n in self._names() if n != serving]
        for name in stale:
            self._drop(name)
        return stale

    def _names(self) -> list[str]:
        """This index's collections: the configured name and its rebuilds `<name>.g<n>`."""
        names = [str(getattr(c, "name", c)) for c in self._client.list_collections()]
        return [n for n in names if n == self.base or (n.startswith(self.base) and _GEN.fullmatch(n[len(self.base) :]))]

    def _drop(self, name: str) -> None:
        """Delete a collection and its vector folder (Chroma 1.5 leaves the folder on disk)."""
        from chromadb.errors import NotFoundError

        try:
            col = self._client.get_collection(name, embedding_function=None)
            folders = [] if self._place[2] else vector_folders(self._place[0], col.id)
            self._client.delete_collection(name)
        except NotFoundError:  # another run removed it first
            return
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        log.info("removed the old collection %s of %s", name, self.where)

    @reachable
    def count(self) -> int:
        return int(self._col.count())

    @reachable
    def doc_hashes(self) -> dict[str, set[str]]:
        """doc id → the document versions present (more than one only after an interrupted run)."""
        out: dict[str, set[str]] = {}
        for page in self._pages(include=["metadatas"]):
            for meta in page["metadatas"]:
                out.setdefault(meta["doc"], set()).add(meta["doc_hash"])
        return out

    @reachable
    def add(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, doc_hash: str | Sequence[str], sentences: Sequence[str] = ()
    ) -> None:
        """Write chunks with their vectors; `doc_hash` is their document version (one for all, or
        one per chunk: several documents in one write), `sentences` each chunk's packed sentence
        vectors. Why several documents at once: each write costs Chroma about 40 ms whatever its
        size, a third of a small article's indexing time."""
        packed = list(sentences) or [""] * len(chunks)
        versions = [doc_hash] * len(chunks) if isinstance(doc_hash, str) else list(doc_hash)
        for i in range(0, len(chunks), _BATCH):
            part, notes, vers = chunks[i : i + _BATCH], packed[i : i + _BATCH], versions[i : i + _BATCH]
            self._col.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[i : i + _BATCH],
                documents=[c.text for c in part],
                metadatas=[chroma.record_meta(c, v, p) for c, v, p in zip(part, vers, notes, strict=True)],
            )

    @reachable
    def delete_doc(self, doc: str, keep_hash: str | None = None) -> None:
        """Delete a document's chunks, except those of version `keep_hash`."""
        where: dict[str, Any] = {"doc": doc}
        if keep_hash is not None:
            where = {"$and": [{"doc": doc}, {"doc_hash": {"$ne": keep_hash}}]}
        self._col.delete(where=where)

    @reachable
    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity (1 - cosine distance), best first; `where` filters them."""
        return [(c, s) for c, s, _ in self.search(vector, n, where)]

    @reachable
    def search(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[Chunk, float, str]]:
        """`query`, each chunk with its packed sentence vectors ("" when it has none; `rag.sentvec`).

        A chunk that another process deleted after the vector index was loaded comes back without
        text or metadata; it is left out (the server reloads once that indexing run has finished).
        """
        n = min(n, self.count())
        if n <= 0:
            return []
        res = self._col.query(
            query_embeddings=[vector], n_results=n, where=where, include=["documents", "metadatas", "distances"]
        )
        rows = zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True)
        found = [
            (chroma.record_chunk(i, d, m), 1.0 - float(dist), str(m.get(chroma.SENTENCES, "")))
            for i, d, m, dist in rows
            if d is not None and m is not None
        ]
        if len(found) < len(res["ids"][0]):
            log.debug("%d deleted chunks left out of a search", len(res["ids"][0]) - len(found))
        return found

    @reachable
    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every chunk id with its stored embedding (exact search in benchmarks, exports)."""
        res = self._get_all(include=["embeddings"])
        return res["ids"], np.asarray(res["embeddings"], dtype=np.float32).reshape(len(res["ids"]), -1)

    @reachable
    def all_chunks(self) -> list[Chunk]:
        return [c for c, _ in self.versioned_chunks()]

    @reachable
    def versioned_chunks(self) -> list[tuple[Chunk, str]]:
        """Every chunk with its document's version (`doc_hash`): what a repair re-embeds."""
        out: list[tuple[Chunk, str]] = []
        for page in self._pages(include=["documents", "metadatas"]):  # a page's sentence vectors go with it
            rows = zip(page["ids"], page["documents"], page["metadatas"], strict=True)
            out.extend((chroma.record_chunk(i, d, m), str(m["doc_hash"])) for i, d, m in rows)
        return out

    def _get_all(self, include: list[str]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
        for res in self._pages(include):
            out["ids"].extend(res["ids"])
            for k in include:
                out[k].extend(res[k])  # embeddings come as a numpy array: extend, never +=
        return out

    def _pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        """Every record, `_PAGE` at a time: metadata carries sentence vectors, so never all at once."""
        for offset in range(0, self.count(), _PAGE):
            yield self._col.get(include=include, limit=_PAGE, offset=offset)

"""Chroma clients for `rag.store`: opening them, their timeouts, Chroma's errors as ours, chunks as records.

With `rag.store`, the only module that imports chromadb (lazily: importing rag opens nothing).
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from rag.errors import IndexDamaged, RagError, StoreUnavailable
from rag.types import ArticleMeta, Chunk

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 10.0
_F = TypeVar("_F", bound=Callable[..., Any])


def reachable(method: _F) -> _F:
    """A lost or stalled Chroma server becomes `StoreUnavailable` (HTTP 503 in the API), not a traceback.

    Chroma's "internal error" is what unreadable vector files (truncated, half deleted) give:
    `IndexDamaged`, which says to rebuild.
    """

    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except RagError:
            raise
        except Exception as exc:
            import httpx  # chromadb's HTTP client; the embedded store never raises these
            from chromadb.errors import InternalError

            if isinstance(exc, InternalError):
                raise IndexDamaged(self.where, f"Chroma cannot read it ({exc})") from exc
            if not isinstance(exc, httpx.TransportError):
                raise
            raise unavailable(self.where, self.timeout, exc) from exc

    return cast(_F, guarded)


def _chroma() -> tuple[Any, Any]:
    """The chromadb module (imported only when a store opens) and its settings, telemetry off."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb, ChromaSettings(anonymized_telemetry=False)


def persistent_client(data_dir: Path, fresh: bool = False) -> Any:
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


def http_client(url: str, timeout: float) -> Any:
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
        raise unavailable(url, timeout, exc) from exc


def _set_timeout(client: Any, timeout: float) -> None:
    """chromadb's HTTP client waits forever (httpx timeout None): a stalled server would hang every request."""
    import httpx

    client._server._session.timeout = httpx.Timeout(timeout)


def unavailable(url: str, timeout: float, exc: Exception) -> StoreUnavailable:
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


def search_breadth(col: Any, ef_search: int | None) -> None:
    """Give an existing collection `ef_search` (None: leave it); its vectors stay as they are.

    Chroma reads it when it loads the vector index: an embedded store opened after this uses it;
    a `chroma run` server that has the collection loaded uses it after its restart.
    """
    stored = ((col.configuration_json or {}).get("hnsw") or {}).get("ef_search")
    if ef_search is None or stored is None or stored == ef_search:
        return
    try:
        col.modify(configuration={"hnsw": {"ef_search": ef_search}})
    except Exception as exc:  # a read-only index still serves, with the breadth it has
        log.warning("cannot set ef_search=%d on %s (%s); it searches with %d", ef_search, col.name, exc, stored)
        return
    log.info("HNSW ef_search of %s set to %d (was %d)", col.name, ef_search, stored)


def vector_folders(data_dir: Path, collection_id: Any) -> list[Path]:
    """The HNSW folders of an embedded collection, named by segment id in Chroma's SQLite file.

    Chroma 1.5 leaves them on disk when it deletes a collection; a rebuild removes them itself.
    """
    try:
        with closing(sqlite3.connect(f"file:{data_dir / 'chroma.sqlite3'}?mode=ro", uri=True)) as db:
            rows = db.execute(
                "SELECT id FROM segments WHERE collection = ? AND scope = 'VECTOR'", (str(collection_id),)
            ).fetchall()
    except sqlite3.Error as exc:
        log.warning("cannot find the vector folder of an old collection in %s: %s", data_dir, exc)
        return []
    return [data_dir / str(row[0]) for row in rows]


# The metadata key of a chunk's packed sentence vectors (`rag.sentvec`).
SENTENCES = "sentence_vectors"


def record_meta(c: Chunk, doc_hash: str, sentences: str = "") -> dict[str, Any]:
    """A chunk's Chroma metadata: its place in the document, the document's version, the article's
    fields and, when it has them, its packed sentence vectors (`rag.sentvec`)."""
    meta = {"doc": c.doc_id, "start": c.start, "end": c.end, "doc_hash": doc_hash, **c.article.as_dict()}
    return meta | {SENTENCES: sentences} if sentences else meta


def record_chunk(chunk_id: str, text: str, m: dict[str, Any]) -> Chunk:
    """The chunk a Chroma record holds (`record_meta` in reverse)."""
    return Chunk(
        chunk_id=chunk_id,
        doc_id=m["doc"],
        start=int(m["start"]),
        end=int(m["end"]),
        text=text,
        meta=ArticleMeta.from_mapping(m).as_dict(),
    )

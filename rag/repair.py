"""A damaged vector index is found by comparing it with Chroma's own records, and rebuilt from them.

Chroma keeps each chunk's text and metadata in SQLite and its vector in HNSW files. A truncated
or deleted vector folder leaves the records intact, so the passages a search can no longer reach
are re-embedded from their stored text into a new collection that replaces the damaged one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from rag import sentvec
from rag.config import Settings
from rag.embed import Embedder
from rag.errors import IndexDamaged, RagError
from rag.store import Store
from rag.types import Chunk

log = logging.getLogger(__name__)
_TRIES = 2  # another process's indexing run may change the count between two reads
# HNSW is approximate even over intact files: near-duplicate passages can leave a few nodes that
# no search reaches (41 of the 100,001 chunks of the bench's synthetic 100k corpus; 151 of 5,000
# vectors in 50 tight clusters). Rebuilding builds the same kind of graph, so calling that damage
# made a large index refuse every question and every `rag index` re-embed it all. What damage
# leaves is far coarser: a truncated file fails to load, a deleted vector folder keeps only the
# vectors still in Chroma's log (a fifth of 1,270 in the tests).
UNREACHABLE_SHARE = 0.05


def damage(store: Store) -> str:
    """What is wrong with the vector index, or "" when one search reaches its stored chunks, all
    but the few that HNSW itself leaves unreachable (`UNREACHABLE_SHARE`).

    The count is read before and after the search: chunks written or deleted meanwhile by
    another process are not damage; a second try settles a count that moved both ways.
    """
    found, after = 0, 0
    try:
        for _ in range(_TRIES):
            before = store.count()
            found = store.findable(before)
            after = store.count()
            stored = min(before, after)
            if found >= stored - int(stored * UNREACHABLE_SHARE):
                if found < stored:
                    log.info(
                        "%d of the %d passages in %s are out of reach of vector search (HNSW leaves some "
                        "near-duplicates unlinked); keyword search still finds them",
                        stored - found,
                        stored,
                        store.where,
                    )
                return ""
    except IndexDamaged as exc:
        return exc.reason
    return f"a search over its vectors reaches {found} of the {after} stored passages"


def check(store: Store) -> None:
    """Raise `IndexDamaged` (rebuild, don't retry) when the vector index is damaged."""
    if wrong := damage(store):
        raise IndexDamaged(store.where, wrong)


def restore(
    damaged: Store,
    target: Store,
    embedder: Callable[[int], Embedder],
    group: int,
    renew: Callable[[], None],
    why: str,
    settings: Settings,
) -> None:
    """Re-embed every stored passage of `damaged` into `target`, `group` chunks per encode call;
    `embedder` is given the characters to embed (as in `rag.index.index_folder`).

    When the records cannot be read either, `target` stays empty and the indexing run that
    follows rebuilds it from the articles folder alone.
    """
    try:
        stored = damaged.versioned_chunks()
    except RagError as exc:
        log.warning(
            "The vector index in %s is damaged (%s) and its stored passages cannot be read (%s); "
            "rebuilding it from the articles folder.",
            damaged.where,
            why,
            exc.message,
        )
        return
    log.warning(
        "The vector index in %s is damaged: %s. Rebuilding it from the %d stored passages; "
        "the old index answers until the new one is complete.",
        damaged.where,
        why,
        len(stored),
    )
    encoder = embedder(sum(len(c.text) for c, _ in stored))
    for at in range(0, len(stored), group):
        part = stored[at : at + group]
        vectors, sentences = sentvec.embed(encoder, [c.text for c, _ in part], settings.sentence_vectors)
        by_version: dict[str, list[int]] = {}
        for i, (_, version) in enumerate(part):
            by_version.setdefault(version, []).append(i)
        for version, rows in by_version.items():
            chunks: list[Chunk] = [part[i][0] for i in rows]
            target.add(chunks, vectors[rows], version, [sentences[i] for i in rows])
        renew()

"""HNSW search breadth on a built index: `python -m eval.bench.hnsw DATA_DIR [--ef N ...] [--json]`.

For each `ef_search` (`RAG_EF_SEARCH`): recall@10 and recall@50 (the dense candidates a hybrid
search fetches; ties counted, `eval.bench.run.recall`, recall@10 by id too) of Chroma's HNSW search
against exact search over the same stored vectors, the latency of the vector search alone and of a
whole hybrid search, on the dev questions. Reuses an index that `rag index` or `python -m
eval.bench --scale N` built, so a sweep costs minutes, not a rebuild per value. The collection is
left at RAG_EF_SEARCH, which every process sets when it opens the index anyway.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.bench.run import dev_questions, percentiles, recall
from rag.config import Settings
from rag.pipeline import Assistant
from rag.retrieve import Retriever

log = logging.getLogger("eval.bench.hnsw")


def sweep(settings: Settings, efs: Sequence[int], questions: Sequence[str], repeat: int) -> list[dict[str, Any]]:
    """One row per ef_search value. Every value's index is loaded side by side and the timed passes
    take turns, so load from other processes on the machine falls on all values alike."""
    a = Assistant(settings)
    ids, vecs = a.store().all_vectors()
    queries = a.embedder.embed_queries(list(questions))
    sims = queries @ vecs.T
    rows, retrievers = [], []
    for ef in efs:
        s = dataclasses.replace(settings, ef_search=ef)
        # Chroma reads ef_search when it loads the vector index: the setting, then a fresh client,
        # whose first search loads the index with it.
        store = Assistant(s, embedder=a.embedder).store().reopen()
        row: dict[str, Any] = {"ef_search": ef, "chunks": store.count()}
        row["recall@10"], row["recall@10_by_id"] = recall(store, queries, sims, ids, 10)
        row["recall@50"], _ = recall(store, queries, sims, ids, 50)
        rows.append(row)
        retrievers.append(Retriever(store, a.embedder, s))
    vector_ms: list[list[float]] = [[] for _ in efs]
    search_ms: list[list[float]] = [[] for _ in efs]
    for _ in range(repeat):
        for i, r in enumerate(retrievers):
            for v in queries:
                t = time.perf_counter()
                r.store.query(v, settings.candidates)
                vector_ms[i].append((time.perf_counter() - t) * 1000)
            for q in questions:
                t = time.perf_counter()
                r.search(q)
                search_ms[i].append((time.perf_counter() - t) * 1000)
    for row, v_ms, s_ms in zip(rows, vector_ms, search_ms, strict=True):
        row["vector_search_ms"] = percentiles(v_ms)
        row["search_ms"] = percentiles(s_ms)
        log.info("%s", json.dumps(row))
    Assistant(settings, embedder=a.embedder).store()  # back to RAG_EF_SEARCH
    return rows


def markdown(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        f"{rows[0]['chunks']} chunks" if rows else "",
        "",
        "| ef_search | recall@10 | by id | recall@50 | vector search p50 / p95 (ms) | hybrid search p50 / p95 (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        v, h = r["vector_search_ms"], r["search_ms"]
        lines.append(
            f"| {r['ef_search']} | {r['recall@10']} | {r['recall@10_by_id']} | {r['recall@50']} "
            f"| {v['p50']} / {v['p95']} "
            f"| {h['p50']} / {h['p95']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m eval.bench.hnsw", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("data_dir", type=Path, help="an index's RAG_DATA_DIR")
    p.add_argument("--ef", type=int, nargs="+", default=[10, 50, 100, 200, 400], help="ef_search values")
    p.add_argument("--repeat", type=int, default=3, help="passes over the questions for the latencies")
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of the table")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    rows = sweep(Settings.from_env(data_dir=args.data_dir), args.ef, dev_questions(), args.repeat)
    print(json.dumps(rows) if args.json else markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

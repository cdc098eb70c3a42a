"""Embedding backends side by side: `python -m eval.bench.onnx [--json]`.

torch (sentence-transformers) against the ONNX export in fp32 and with dynamic int8 weights
(`rag.embed.onnx`): passage throughput on the seed chunks, single-query latency, agreement with
the torch vectors, and dense-only MRR@10 / Recall@5 on the dev questions. An ONNX backend is worth
offering as the default only if it is faster and loses at most 0.01 MRR@10.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Sequence

import numpy as np

from eval.bench.run import percentiles
from eval.dev import score
from eval.questions_io import load_docs, load_questions
from eval.sets import SETS
from rag.chunk import chunks_for
from rag.config import Settings
from rag.embed import Embedder, create_embedder
from rag.embed.torch import SentenceTransformerEmbedder
from rag.provision_onnx import ensure_export
from rag.types import Hit


def measure(embedder: Embedder, texts: Sequence[str], questions: Sequence[str]) -> tuple[dict, np.ndarray, np.ndarray]:
    embedder.embed_passages(list(texts[:8]))  # warm
    t = time.perf_counter()
    passages = embedder.embed_passages(list(texts))
    rate = len(texts) / (time.perf_counter() - t)
    ms, queries = [], []
    for q in questions:
        t = time.perf_counter()
        queries.append(embedder.embed_queries([q])[0])
        ms.append((time.perf_counter() - t) * 1000)
    return {"passages_per_s": round(rate, 1), "query_ms": percentiles(ms, (50, 95))}, passages, np.asarray(queries)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench.onnx", description=__doc__)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    settings = Settings.from_env()
    docs = load_docs(settings.seeds_dir)
    questions = [q for q in load_questions(SETS["dev"].questions, docs) if q.answerable]
    chunks = [c for d in docs.values() for c in chunks_for(d, settings)]
    st = SentenceTransformerEmbedder(settings)
    ensure_export(settings, int8=True, st=st)  # from the model loaded above, not a second load
    backends: dict[str, Embedder] = {"torch": st} | {
        name: create_embedder(dataclasses.replace(settings, embed_backend=name)) for name in ("onnx", "onnx-int8")
    }
    rows, reference = {}, None
    for name, emb in backends.items():
        row, passages, queries = measure(emb, [c.text for c in chunks], [q.question for q in questions])
        reference = passages if reference is None else reference
        row["cos_to_torch"] = round(float(np.mean(np.sum(passages * reference, axis=1))), 5)
        sims = queries @ passages.T
        rankings = {
            q.id: [Hit(chunks[j], float(sims[i, j])) for j in np.argsort(-sims[i])[:10]]
            for i, q in enumerate(questions)
        }
        quality = score(rankings, questions)
        row |= {"MRR@10": round(quality["MRR@10"], 4), "R@5": round(quality["R@5"], 4)}
        rows[name] = row
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{len(chunks)} seed chunks, {len(questions)} answerable dev questions, dense only\n")
    print("| backend | passages/s | query p50 ms | query p95 ms | cos to torch | MRR@10 | R@5 |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        q = r["query_ms"]
        print(
            f"| {name} | {r['passages_per_s']} | {q['p50']} | {q['p95']} | {r['cos_to_torch']} | {r['MRR@10']} "
            f"| {r['R@5']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

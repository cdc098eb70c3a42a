"""Compare retrieval methods and fusion settings on a question file: `python -m eval.dev`.

Dense and lexical candidates are computed once per question; every fusion setting is then
scored from those lists, so a sweep costs one model pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from statistics import mean

import ir_measures
from ir_measures import RR, R

from eval.metrics import Span, evidence_run, recall_in_budget
from eval.questions_io import Question, load_docs, load_questions
from eval.sets import SETS
from rag.config import Fusion, Settings
from rag.fusion import fuse
from rag.pipeline import Assistant
from rag.types import Hit


def spans(hits: Sequence[Hit]) -> list[Span]:
    return [Span(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in hits]


def score(rankings: dict[str, list[Hit]], questions: Sequence[Question], k: int = 10) -> dict[str, float]:
    """MRR@10 and R@5 (ir-measures) and recall in 1,000 characters over the answerable questions."""
    runs = {q.id: spans(rankings[q.id])[:k] for q in questions if q.answerable}
    evidence = {q.id: q.evidence for q in questions if q.answerable}
    agg = ir_measures.calc_aggregate([RR @ 10, R @ 5], *evidence_run(runs, evidence))
    return {
        "MRR@10": float(agg.get(RR @ 10, 0.0)),
        "R@5": float(agg.get(R @ 5, 0.0)),
        "R@1000c": mean(recall_in_budget(runs[q], evidence[q], 1000) for q in runs),
        "n": len(runs),
    }


def candidates(a: Assistant, questions: Sequence[Question], n: int) -> tuple[dict, dict]:
    dense = {q.id: a.retriever.dense(q.question, n) for q in questions}
    lexical = {q.id: a.retriever.lexical_hits(q.question, n) for q in questions}
    return dense, lexical


def sweep(a: Assistant, questions: Sequence[Question]) -> list[dict]:
    n = a.retriever.store.count()
    dense, lexical = candidates(a, questions, n)
    out = [{"method": "lexical", **score(lexical, questions)}, {"method": "dense", **score(dense, questions)}]
    grid: tuple[tuple[Fusion, int], ...] = (("rrf", 60), ("rrf", 20), ("rrf", 5), ("score", 0))
    for fusion, rrf_k in grid:
        for w in (0.5, 0.6, 0.7, 0.8, 0.9):
            s = dataclasses.replace(a.settings, fusion=fusion, dense_weight=w, rrf_k=rrf_k)
            for adaptive in (False, True):
                lw = {
                    q.id: (1 - w) * (a.retriever.lexical.coverage(q.question) if adaptive else 1.0) for q in questions
                }
                fused = {q.id: fuse(dense[q.id], lexical[q.id], s, lw[q.id]) for q in questions}
                name = f"hybrid {fusion} k={rrf_k} w={w}{' adaptive' if adaptive else ''}"
                out.append({"method": name, **score(fused, questions)})
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--questions", type=Path, default=SETS["dev"].questions)
    p.add_argument("--sizes", default="", help="comma-separated chunk sizes to sweep, e.g. 300,600,1000")
    p.add_argument("--lang", default="", help="only questions of this language")
    args = p.parse_args(argv)
    base = Settings.from_env()
    docs = load_docs(base.seeds_dir)
    questions = [q for q in load_questions(args.questions, docs) if not args.lang or q.lang == args.lang]
    sizes = [int(x) for x in args.sizes.split(",") if x] or [base.chunk_size]
    embedder = None
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            s = dataclasses.replace(  # never the user's Chroma server: indexing would remove their articles
                base,
                data_dir=Path(tmp),
                chroma_url="",
                chunk_size=size,
                chunk_overlap=min(base.chunk_overlap, size // 4),
            )
            a = Assistant(s, embedder=embedder)
            a.index(progress=False)
            embedder = a.embedder
            for row in sweep(a, questions):
                print(
                    json.dumps(
                        {
                            "chunk_size": size,
                            **{k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()},
                        }
                    )
                )


if __name__ == "__main__":
    main()

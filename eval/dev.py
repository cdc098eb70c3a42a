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

from eval.metrics import Span, recall_at, recall_in_budget, reciprocal_rank
from eval.questions_io import Question, load_docs, load_questions
from rag.config import Fusion, Settings
from rag.fusion import fuse
from rag.pipeline import Assistant
from rag.types import Hit

DEV = Path(__file__).parent / "questions" / "dev.jsonl"


def spans(hits: Sequence[Hit]) -> list[Span]:
    return [Span(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in hits]


def score(rankings: dict[str, list[Hit]], questions: Sequence[Question], k: int = 10) -> dict[str, float]:
    rows = [(spans(rankings[q.id])[:k], q.evidence) for q in questions if q.answerable]
    return {
        "MRR@10": mean(reciprocal_rank(h, e, 10) for h, e in rows),
        "R@5": mean(recall_at(h, e, 5) for h, e in rows),
        "R@1000c": mean(recall_in_budget(h, e, 1000) for h, e in rows),
        "n": len(rows),
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
    p.add_argument("--questions", type=Path, default=DEV)
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

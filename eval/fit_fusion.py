"""Fit the BM25 bonus of the boost fusion: `python -m eval.fit_fusion`.

Both question sets (dev over seeds/, xquad-de) are indexed once; each answerable question's
dense and BM25 candidates are fused for every weight of a grid. Leave-one-article-out
cross-validation: the weight for an article's questions is the one that does best on every other
article (the mean of the two sets' MRR@10, so the 82 dev questions count as much as the 1,048 of
the benchmark); the held-out figures are what the README reports.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence

import numpy as np

from eval.metrics import Span, recall_at, reciprocal_rank
from eval.runner import MIN_COVER
from eval.sets import SETS, indexed
from rag.config import Settings
from rag.embed import Embedder, create_embedder
from rag.fusion import fuse, lexical_weight

GRID = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15)


@dataclasses.dataclass
class Scored:
    """Per-question figures for every grid weight."""

    set: str
    lang: str
    article: str
    rr: np.ndarray
    r5: np.ndarray


def score_set(name: str, base: Settings, embedder: Embedder, grid: Sequence[float]) -> list[Scored]:
    qset = SETS[name]
    out = []
    with indexed(qset, base, embedder) as a:
        r = a.retriever
        for q in qset.load():
            if not q.answerable:
                continue
            dense = r.dense(q.question, base.candidates)
            lexical = r.lexical_hits(q.question, base.candidates)
            rr, r5 = [], []
            for w in grid:
                s = dataclasses.replace(base, lexical_boost=w)
                hits = fuse(dense, lexical, s, lexical_weight(q.question, r.lexical, s))
                spans = [Span(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in hits[:10]]
                rr.append(reciprocal_rank(spans, q.evidence, 10, MIN_COVER))
                r5.append(recall_at(spans, q.evidence, 5, MIN_COVER))
            out.append(Scored(name, q.lang, f"{name}/{q.evidence[0].doc}", np.array(rr), np.array(r5)))
    return out


def objective(rows: Sequence[Scored]) -> np.ndarray:
    """Mean over sets of each set's MRR@10, per grid weight."""
    sets = sorted({r.set for r in rows})
    return np.mean([np.mean([r.rr for r in rows if r.set == s], axis=0) for s in sets], axis=0)


def cross_validate(rows: Sequence[Scored], grid: Sequence[float]) -> tuple[list[float], list[float], list[float]]:
    """Held-out RR and R@5 per question, and the weight each article's fold chose."""
    rr, r5, chosen = [0.0] * len(rows), [0.0] * len(rows), []
    for article in sorted({r.article for r in rows}):
        best = int(np.argmax(objective([r for r in rows if r.article != article])))
        chosen.append(grid[best])
        for i, r in enumerate(rows):
            if r.article == article:
                rr[i], r5[i] = float(r.rr[best]), float(r.r5[best])
    return rr, r5, chosen


def breakdown(rows: Sequence[Scored], rr: Sequence[float], r5: Sequence[float]) -> dict[str, dict[str, float]]:
    out = {}
    for s in sorted({r.set for r in rows}):
        for lang in ("all", "de", "en"):
            idx = [i for i, r in enumerate(rows) if r.set == s and lang in ("all", r.lang)]
            out[f"{s} {lang}"] = {
                "MRR@10": round(float(np.mean([rr[i] for i in idx])), 4),
                "R@5": round(float(np.mean([r5[i] for i in idx])), 4),
                "n": len(idx),
            }
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", default=",".join(map(str, GRID)), help="comma-separated lexical_boost values")
    args = p.parse_args(argv)
    grid = [float(x) for x in args.grid.split(",")]
    base = dataclasses.replace(Settings.from_env(), fusion="boost", adaptive="language")
    embedder = create_embedder(base)
    rows = [r for name in sorted(SETS) for r in score_set(name, base, embedder, grid)]
    rr, r5, chosen = cross_validate(rows, grid)
    whole = objective(rows)
    dense = grid.index(0.0) if 0.0 in grid else None
    report = {
        "grid": grid,
        "objective_per_weight": [round(float(x), 4) for x in whole],
        "best_on_all": grid[int(np.argmax(whole))],
        "chosen_per_fold": {str(w): chosen.count(w) for w in sorted(set(chosen))},
        "cross_validated": breakdown(rows, rr, r5),
    }
    if dense is not None:  # weight 0: dense only, the reference
        report["dense_only"] = breakdown(rows, [float(r.rr[dense]) for r in rows], [float(r.r5[dense]) for r in rows])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

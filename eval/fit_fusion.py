"""Fit the dense score's sentence weight and the boost fusion's BM25 bonus: `python -m eval.fit_fusion`.

Both question sets (dev over seeds/, xquad-de) are indexed once; each answerable question's
dense candidates are ranked for every sentence weight of one grid (`rag.sentvec`) and fused with
its BM25 candidates for every bonus of another. One sentence weight serves both languages; a
question's language (as `rag.lang.detect` sees it) picks which of the two bonuses applies, so each
is fitted on its own questions. Leave-one-article-out cross-validation: the weights for an
article's questions are the ones with the best MRR@10 over every other article's questions; the
held-out figures are what the README reports.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence

import numpy as np
from ir_measures import RR, Measure, R

from eval.metrics import Span, per_query
from eval.questions_io import Question
from eval.runner import MIN_COVER
from eval.sets import SETS, indexed
from rag import sentvec
from rag.config import Settings
from rag.embed import Embedder, create_embedder
from rag.fusion import fuse, lexical_weight
from rag.lang import detect

GRID = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3)
SENTENCE_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclasses.dataclass
class Scored:
    """Per-question figures for every (sentence weight, bonus) of the grids."""

    set: str
    lang: str
    detected: str
    article: str
    rr: np.ndarray
    r5: np.ndarray


def score_set(
    name: str, base: Settings, embedder: Embedder, grid: Sequence[float], sentence_grid: Sequence[float]
) -> list[Scored]:
    qset = SETS[name]
    questions = [q for q in qset.load() if q.answerable]
    runs: dict[str, list[Span]] = {}  # one run per question and weights: "id@sentence index@bonus index"
    with indexed(qset, base, embedder) as a:
        r = a.retriever
        for q in questions:
            vec, found = r.nearest(q.question, base.candidates)
            german = r.translations(q.question)
            lexical = r.lexical_hits(q.question, base.candidates, translations=german)
            for j, sw in enumerate(sentence_grid):
                dense = sentvec.rank(found, vec, sw)
                for i, w in enumerate(grid):
                    s = dataclasses.replace(base, lexical_boost=w, lexical_boost_en=w)
                    hits = fuse(dense, lexical, s, lexical_weight(q.question, r.lexical, s, german))
                    runs[f"{q.id}@{j}@{i}"] = [Span(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in hits[:10]]
    evidence = {
        f"{q.id}@{j}@{i}": q.evidence for q in questions for j in range(len(sentence_grid)) for i in range(len(grid))
    }
    scores = per_query([RR @ 10, R @ 5], runs, evidence, MIN_COVER)

    def per_weight(q: Question, measure: Measure) -> np.ndarray:
        return np.array(
            [[scores[f"{q.id}@{j}@{i}"][measure] for i in range(len(grid))] for j in range(len(sentence_grid))]
        )

    return [
        Scored(
            name,
            q.lang,
            detect(q.question),
            f"{name}/{q.evidence[0].doc}",
            per_weight(q, RR @ 10),
            per_weight(q, R @ 5),
        )
        for q in questions
    ]


def objective(rows: Sequence[Scored]) -> np.ndarray:
    """MRR@10 over the questions of both sets, per (sentence weight, bonus).

    Pooled by question: weighting the 82 dev questions like the 1,048 of the benchmark let a fold
    that holds out one dev article choose from some 40 questions, and its choice swung to 0.2.
    """
    return np.mean([r.rr for r in rows], axis=0)


def best(rows: Sequence[Scored]) -> tuple[int, dict[str, int]]:
    """The sentence weight (index) best for both languages together, and each language's best bonus at it."""
    total = np.zeros(len(rows[0].rr))
    per_lang = {}
    for lang in ("de", "en"):
        mine = [r for r in rows if r.detected == lang]
        summed = objective(mine) * len(mine) if mine else np.zeros_like(rows[0].rr)  # pooled by question
        per_lang[lang] = summed.argmax(axis=1)
        total += summed.max(axis=1)
    j = int(np.argmax(total))
    return j, {lang: int(bonus[j]) for lang, bonus in per_lang.items()}


def cross_validate(
    rows: Sequence[Scored], grid: Sequence[float], sentence_grid: Sequence[float]
) -> tuple[list[float], list[float], dict]:
    """Held-out RR and R@5 per question, and the weights the folds chose."""
    rr, r5 = [0.0] * len(rows), [0.0] * len(rows)
    chosen: dict[str, list[float]] = {"sentence": [], "de": [], "en": []}
    for article in sorted({r.article for r in rows}):
        j, bonus = best([r for r in rows if r.article != article])
        chosen["sentence"].append(sentence_grid[j])
        for lang, i in bonus.items():
            chosen[lang].append(grid[i])
        for n, r in enumerate(rows):
            if r.article == article:
                i = bonus[r.detected] if r.detected in bonus else bonus["de"]
                rr[n], r5[n] = float(r.rr[j, i]), float(r.r5[j, i])
    return rr, r5, {name: {str(w): picks.count(w) for w in sorted(set(picks))} for name, picks in chosen.items()}


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
    p.add_argument(
        "--sentence-grid", default=",".join(map(str, SENTENCE_GRID)), help="comma-separated sentence_weight values"
    )
    args = p.parse_args(argv)
    grid = [float(x) for x in args.grid.split(",")]
    sentence_grid = [float(x) for x in args.sentence_grid.split(",")]
    base = dataclasses.replace(Settings.from_env(), fusion="boost", adaptive="language")
    embedder = create_embedder(base)
    rows = [r for name in sorted(SETS) for r in score_set(name, base, embedder, grid, sentence_grid)]
    rr, r5, chosen = cross_validate(rows, grid, sentence_grid)
    j, bonus = best(rows)
    report: dict[str, object] = {"grid": grid, "sentence_grid": sentence_grid}
    report["best_on_all"] = {"sentence_weight": sentence_grid[j], **{f"bonus_{k}": grid[i] for k, i in bonus.items()}}
    for lang in ("de", "en"):
        whole = objective([r for r in rows if r.detected == lang])
        report[f"{lang}_objective"] = [[round(float(x), 4) for x in row] for row in whole]
    report["chosen_per_fold"] = chosen
    report["cross_validated"] = breakdown(rows, rr, r5)
    if 0.0 in grid and 0.0 in sentence_grid:  # both weights 0: the chunk vectors alone, the reference
        zj, zi = sentence_grid.index(0.0), grid.index(0.0)
        report["dense_only"] = breakdown(rows, [float(r.rr[zj, zi]) for r in rows], [float(r.r5[zj, zi]) for r in rows])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

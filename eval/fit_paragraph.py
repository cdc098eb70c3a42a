"""Choose how long a paragraph may be and stay one chunk (`RAG_PARAGRAPH_RATIO`): `python -m eval.fit_paragraph`.

The grid is in characters at the configured chunk size (600: 800 characters is a ratio of 4/3).

MRR@10 rewards longer chunks by construction (a longer chunk holds more of its article), so it
cannot choose a chunk length. The objective is what a reader gets, per answerable question: the
answer names the fact, its first cited sentence does, and the evidence lies within the first
1,000 characters of the sources (R@1000c); each counts 0 or 1. Both question sets are indexed
once per value and answered in full (refusals of unanswerable questions are reported beside).
Leave-one-article-out cross-validation: an article's questions get the value with the best mean
objective over every other article's questions, pooled by question; the held-out figures are
what the README reports.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence

import numpy as np
from ir_measures import RR, R

from eval.answers import first_cited, names_all
from eval.metrics import Span, per_query, recall_in_budget
from eval.runner import MIN_COVER
from eval.sets import SETS, indexed
from rag.config import Settings
from rag.embed import Embedder, create_embedder

GRID = (0, 700, 800, 900, 1100)
FIGURES = ("named", "first", "R@1000c", "MRR@10", "R@5")


@dataclasses.dataclass
class Outcome:
    """One question's figures under one value of the grid (NaN where a figure does not apply)."""

    set: str
    lang: str
    article: str  # "" for a question the articles do not answer
    refused: bool
    figures: dict[str, float]

    @property
    def objective(self) -> float:
        return self.figures["named"] + self.figures["first"] + self.figures["R@1000c"]


def outcomes(name: str, settings: Settings, embedder: Embedder) -> list[Outcome]:
    """Every question of the set answered over an index chunked with `settings`; the ranking
    figures read the sources the answer was made from (their final order, as `search` gives it)."""
    qset = SETS[name]
    questions = qset.load()
    out, runs, evidence = [], {}, {}
    with indexed(qset, settings, embedder) as a:
        for q in questions:
            events = list(a.answer_stream(q.question))
            ans = events[-1].answer
            assert ans is not None  # the stream always ends with the answer
            figures = dict.fromkeys(FIGURES, np.nan)
            if q.answerable:
                hits = list(events[0].hits[:10])  # the "sources" event
                if len(hits) < 10:  # RAG_TOP_K below 10: MRR@10 still reads ten
                    hits = a.search(q.question, k=10)
                runs[q.id] = [Span(h.chunk.doc_id, h.chunk.start, h.chunk.end) for h in hits]
                evidence[q.id] = q.evidence
                figures["R@1000c"] = recall_in_budget(runs[q.id], q.evidence, 1000, MIN_COVER)
                if q.must_mention:
                    figures["named"] = float(not ans.refused and names_all(ans.text, q.must_mention))
                    figures["first"] = float(not ans.refused and names_all(first_cited(ans), q.must_mention))
            article = f"{name}/{q.evidence[0].doc}" if q.answerable else ""
            out.append(Outcome(name, q.lang, article, ans.refused, figures))
    ranked = per_query([RR @ 10, R @ 5], runs, evidence, MIN_COVER)
    for q, o in zip(questions, out, strict=True):
        if q.id in ranked:
            o.figures["MRR@10"], o.figures["R@5"] = ranked[q.id][RR @ 10], ranked[q.id][R @ 5]
    return out


def best(table: Sequence[Sequence[Outcome]], questions: Sequence[int]) -> int:
    """The grid index with the best mean objective over these questions; ties go to the smaller
    value (the grid is ascending: shorter chunks, and 0 is the splitter's own behaviour)."""
    return max(range(len(table)), key=lambda v: (np.mean([table[v][i].objective for i in questions]), -v))


def cross_validate(table: Sequence[Sequence[Outcome]]) -> tuple[list[int], dict[int, int]]:
    """For each question, the grid index its held-out fold chose; and how many folds chose each.

    A question the articles do not answer belongs to no fold: it gets the value chosen on all.
    """
    first = table[0]
    scored = [i for i, o in enumerate(first) if o.article and not np.isnan(o.objective)]
    chosen = [best(table, scored)] * len(first)
    folds: dict[int, int] = {}
    for article in sorted({first[i].article for i in scored}):
        pick = best(table, [i for i in scored if first[i].article != article])
        folds[pick] = folds.get(pick, 0) + 1
        for i, o in enumerate(first):
            if o.article == article:
                chosen[i] = pick
    return chosen, folds


def summary(rows: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    """Mean figures and refusals per set and language."""
    out = {}
    for s in sorted({o.set for o in rows}):
        for lang in ("all", "de", "en"):
            mine = [o for o in rows if o.set == s and lang in ("all", o.lang)]
            block = {f: round(float(np.nanmean([o.figures[f] for o in mine])), 4) for f in FIGURES}
            block["unanswerable refused"] = sum(o.refused for o in mine if not o.article)
            out[f"{s} {lang}"] = block
    return out


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m eval.fit_paragraph", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--grid",
        default=",".join(map(str, GRID)),
        help="comma-separated longest paragraphs kept whole, in characters (0: none)",
    )
    args = p.parse_args(argv)
    grid = [int(x) for x in args.grid.split(",")]
    base = Settings.from_env()
    embedder = create_embedder(base)
    table = []
    for v in grid:
        settings = dataclasses.replace(base, paragraph_ratio=v / base.chunk_size)
        table.append([o for name in sorted(SETS) for o in outcomes(name, settings, embedder)])
    chosen, folds = cross_validate(table)
    held = [table[v][i] for i, v in enumerate(chosen)]
    report = {
        "chunk_size": base.chunk_size,
        "grid": grid,
        "per_value": {str(v): summary(rows) for v, rows in zip(grid, table, strict=True)},
        "chosen_per_fold": {str(grid[v]): n for v, n in sorted(folds.items())},
        "cross_validated": summary(held),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Retrieval metrics over evidence spans, so scores do not depend on how documents were chunked.

A hit is relevant to an evidence quote when the hit's span covers (at least `min_cover` of) the
quote's span in the cleaned document. Ranked measures (MRR, recall@k, nDCG) come from ir-measures
over evidence ids (`judged_ids`); only what it has no measure for, recall within a character
budget of context, is computed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import ir_measures
from ir_measures import Measure


@dataclass(frozen=True)
class Span:
    doc: str
    start: int
    end: int

    def cover(self, other: Span) -> float:
        """Share of `other` that lies inside this span."""
        if self.doc != other.doc or other.end <= other.start:
            return 0.0
        inter = min(self.end, other.end) - max(self.start, other.start)
        return max(0, inter) / (other.end - other.start)


def relevant(hit: Span, evidence: Span, min_cover: float = 1.0) -> bool:
    return hit.cover(evidence) >= min_cover - 1e-9


def recall_in_budget(hits: Sequence[Span], evidence: Sequence[Span], budget: int, min_cover: float = 1.0) -> float:
    """Share of evidence inside the first `budget` characters of context (hits concatenated, best first).

    The hit that crosses the budget contributes only its first characters, as a prompt would cut it.
    """
    if not evidence:
        return 0.0
    context: list[Span] = []
    left = budget
    for h in hits:
        if left <= 0:
            break
        take = min(left, h.end - h.start)
        context.append(Span(h.doc, h.start, h.start + take))
        left -= take
    return sum(any(relevant(c, e, min_cover) for c in context) for e in evidence) / len(evidence)


def judged_ids(hits: Sequence[Span], evidence: Sequence[Span], min_cover: float = 1.0) -> list[str]:
    """Name each hit after the evidence it is the first to cover, else after itself.

    This turns chunk rankings into runs over evidence ids, so standard IR measures (ir-measures)
    count each evidence quote once, whatever the chunking; a second hit on the same evidence
    counts as not relevant.
    """
    seen: set[int] = set()
    out = []
    for h in hits:
        match = next((i for i, e in enumerate(evidence) if i not in seen and relevant(h, e, min_cover)), None)
        if match is None:
            out.append(f"{h.doc}:{h.start}-{h.end}")
        else:
            seen.add(match)
            out.append(f"evidence-{match}")
    return out


def evidence_run(
    runs: Mapping[str, Sequence[Span]], evidence: Mapping[str, Sequence[Span]], min_cover: float = 1.0
) -> tuple[list[ir_measures.Qrel], list[ir_measures.ScoredDoc]]:
    """Qrels (one per evidence quote) and a run over evidence ids, ranked as the hits were."""
    qrels = [ir_measures.Qrel(qid, f"evidence-{i}", 1) for qid, ev in evidence.items() for i in range(len(ev))]
    run = [
        ir_measures.ScoredDoc(qid, doc_id, float(len(hits) - rank))
        for qid, hits in runs.items()
        for rank, doc_id in enumerate(judged_ids(hits, evidence[qid], min_cover))
    ]
    return qrels, run


def per_query(
    measures: Iterable[Measure],
    runs: Mapping[str, Sequence[Span]],
    evidence: Mapping[str, Sequence[Span]],
    min_cover: float = 1.0,
) -> dict[str, dict[Measure, float]]:
    """Every measure for every query of `runs` (0.0 where a query retrieved nothing relevant)."""
    measures = list(measures)
    out: dict[str, dict[Measure, float]] = {qid: dict.fromkeys(measures, 0.0) for qid in runs}
    for m in ir_measures.iter_calc(measures, *evidence_run(runs, evidence, min_cover)):
        out[m.query_id][m.measure] = float(m.value)
    return out

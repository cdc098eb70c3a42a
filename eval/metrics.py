"""Retrieval metrics over evidence spans, so scores do not depend on how documents were chunked.

A hit is relevant to an evidence quote when the hit's span covers (at least `min_cover` of) the
quote's span in the cleaned document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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


def reciprocal_rank(hits: Sequence[Span], evidence: Sequence[Span], k: int = 10, min_cover: float = 1.0) -> float:
    for rank, h in enumerate(hits[:k], 1):
        if any(relevant(h, e, min_cover) for e in evidence):
            return 1.0 / rank
    return 0.0


def recall_at(hits: Sequence[Span], evidence: Sequence[Span], k: int, min_cover: float = 1.0) -> float:
    """Share of evidence quotes found in the top k hits."""
    if not evidence:
        return 0.0
    top = hits[:k]
    return sum(any(relevant(h, e, min_cover) for h in top) for e in evidence) / len(evidence)


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

"""Answer-stage figures: refusals against `answerable`, expected facts named, citations on evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval.metrics import Span
from eval.questions_io import Question
from rag.pipeline import Assistant


def answer_metrics(a: Assistant, questions: Sequence[Question]) -> dict[str, Any]:
    """Confusion matrix (answered/refused × answerable/unanswerable), must-mention coverage, citation precision."""
    matrix = {"answerable_answered": 0, "answerable_refused": 0, "unanswerable_answered": 0, "unanswerable_refused": 0}
    mention_hits = mention_total = cited_ok = cited_total = 0
    for q in questions:
        ans = a.answer(q.question)
        key = ("answerable" if q.answerable else "unanswerable") + ("_refused" if ans.refused else "_answered")
        matrix[key] += 1
        if not (q.answerable and not ans.refused):
            continue
        text = ans.text.lower()
        mention_total += len(q.must_mention)
        mention_hits += sum(term.lower() in text for term in q.must_mention)
        for c in ans.citations:
            cited_total += 1
            span = Span(c.doc, c.start, c.end)
            cited_ok += any(span.cover(e) > 0 or e.cover(span) > 0 for e in q.evidence)
    return {
        **matrix,
        "must_mention_coverage": mention_hits / mention_total if mention_total else 0.0,
        "citation_precision": cited_ok / cited_total if cited_total else 0.0,
    }

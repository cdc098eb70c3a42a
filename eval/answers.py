"""Answer-stage figures per language: refusals against `answerable`, facts named, fact in the first
cited sentence, answer length, citation verbatim rate and citation precision."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from eval.metrics import Span
from eval.questions_io import Question
from rag.pipeline import Assistant
from rag.types import Answer, Document

CONFUSION = ("answerable_answered", "answerable_refused", "unanswerable_answered", "unanswerable_refused")
_MARKER = re.compile(r"\[(\d+)\]")


def names_all(text: str, terms: Sequence[str]) -> bool:
    """Every expected term occurs in the text (case and whitespace ignored)."""
    flat = " ".join(text.lower().split())
    return bool(terms) and all(" ".join(t.lower().split()) in flat for t in terms)


def first_cited(ans: Answer) -> str:
    """The quote behind the answer's first `[n]` marker: what a reader reads first."""
    m = _MARKER.search(ans.text)
    by_n = {c.n: c.quote for c in ans.citations}
    return by_n.get(int(m.group(1)), "") if m else ""


def answer_metrics(
    a: Assistant, questions: Sequence[Question], docs: dict[str, Document], tick: Callable[[], None] = lambda: None
) -> dict[str, Any]:
    """The figures for all questions and per language ("de", "en")."""
    rows = []
    for q in questions:
        rows.append((q, a.answer(q.question)))
        tick()
    out = summarize(rows, docs)
    out["by_lang"] = {
        lang: summarize([r for r in rows if r[0].lang == lang], docs) for lang in sorted({q.lang for q in questions})
    }
    return out


def summarize(rows: Sequence[tuple[Question, Answer]], docs: dict[str, Document]) -> dict[str, Any]:
    """Confusion counts and rates over (question, answer) pairs.

    Facts named and fact-first count over every answerable question with `must_mention` terms, so
    a wrong refusal costs as much as an answer that misses the fact.
    """
    matrix = dict.fromkeys(CONFUSION, 0)
    named = first = factual = cited_ok = cited = verbatim = 0
    lengths = []
    for q, ans in rows:
        matrix[("answerable" if q.answerable else "unanswerable") + ("_refused" if ans.refused else "_answered")] += 1
        if q.answerable and q.must_mention:
            factual += 1
            if not ans.refused:
                named += names_all(ans.text, q.must_mention)
                first += names_all(first_cited(ans), q.must_mention)
        if ans.refused:
            continue
        lengths.append(len(ans.text))
        for c in ans.citations:
            cited += 1
            doc = docs.get(c.doc)
            verbatim += doc is not None and doc.text[c.start : c.end] == c.quote
            span = Span(c.doc, c.start, c.end)
            cited_ok += any(span.cover(e) > 0 or e.cover(span) > 0 for e in q.evidence)
    answerable = matrix["answerable_answered"] + matrix["answerable_refused"]
    unanswerable = matrix["unanswerable_answered"] + matrix["unanswerable_refused"]
    return {
        **matrix,
        "answered_rate": matrix["answerable_answered"] / answerable if answerable else 0.0,
        "refused_rate": matrix["unanswerable_refused"] / unanswerable if unanswerable else 0.0,
        "facts_named": named / factual if factual else 0.0,
        "fact_first": first / factual if factual else 0.0,
        "answer_chars": sum(lengths) / len(lengths) if lengths else 0.0,
        "verbatim": verbatim / cited if cited else 1.0,
        "citation_precision": cited_ok / cited if cited else 0.0,
    }

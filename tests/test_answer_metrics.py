"""The answer figures of `python -m eval --answers`, on hand-computed cases before they are trusted."""

from __future__ import annotations

import pytest

from eval.answers import first_cited, names_all, summarize
from eval.cli import regressions
from eval.metrics import Span
from eval.questions_io import Question
from rag.types import Answer, Citation, Document

DOC = Document("d", "Die Minister trafen sich 2013 in Tokio. Sie beschlossen Marinemanöver.")


def _cite(n: int, start: int, end: int) -> Citation:
    return Citation(n, "d", start, end, DOC.text[start:end])


def test_names_all_ignores_case_and_whitespace_and_needs_every_term() -> None:
    assert names_all("Sie  beschlossen\nMarinemanöver", ["beschlossen marinemanöver"])
    assert not names_all("Tokio 2013", ["2013", "Kasan"])
    assert not names_all("anything", [])


def test_first_cited_is_the_quote_behind_the_first_marker() -> None:
    ans = Answer(
        "Sie beschlossen Marinemanöver. [2] Die Minister trafen sich 2013 in Tokio. [1]",
        (_cite(1, 0, 39), _cite(2, 40, 70)),
    )
    assert first_cited(ans) == "Sie beschlossen Marinemanöver."
    assert first_cited(Answer("no markers")) == ""


def test_summarize_on_a_hand_made_case() -> None:
    when = Question("q1", "Wann?", "de", True, evidence=(Span("d", 0, 39),), must_mention=("2013",))
    what = Question("q2", "Was?", "de", True, evidence=(Span("d", 40, 70),), must_mention=("Marinemanöver",))
    other = Question("q3", "Wer gewann?", "de", False)
    rows = [
        # The fact is named, but only in the second quote.
        (
            when,
            Answer(
                "Sie beschlossen Marinemanöver. [1] Die Minister trafen sich 2013 in Tokio. [2]",
                (_cite(1, 40, 70), _cite(2, 0, 39)),
            ),
        ),
        (what, Answer("In den Artikeln steht dazu nichts.", refused=True)),  # a wrong refusal
        (other, Answer("Die Minister trafen sich 2013 in Tokio. [1]", (Citation(1, "d", 0, 39, "verändert"),))),
    ]
    m = summarize(rows, {"d": DOC})
    assert (m["answerable_answered"], m["answerable_refused"]) == (1, 1)
    assert (m["unanswerable_answered"], m["unanswerable_refused"]) == (1, 0)
    assert m["facts_named"] == pytest.approx(0.5) and m["fact_first"] == 0.0
    assert m["verbatim"] == pytest.approx(2 / 3)  # the third quote is not the document's text
    assert m["answered_rate"] == 0.5 and m["refused_rate"] == 0.0


def test_gate_reads_per_language_answer_figures() -> None:
    base = {"MRR@10": 0.8, "de/facts_named": 0.9, "en/refused_rate": 0.5}
    assert regressions({"MRR@10": 0.79, "de/facts_named": 0.89, "en/refused_rate": 0.49}, base) == []
    assert len(regressions({"MRR@10": 0.79, "de/facts_named": 0.85, "en/refused_rate": 0.49}, base)) == 1
    assert regressions({"MRR@10": 0.79}, base) == []  # a run without --answers is gated on retrieval only
    # Over 6 unanswerable questions one more answered moves the rate by 1/6: tolerated, two are not.
    assert regressions({"en/refused_rate": 0.5 - 1 / 6}, base, {"en/refused_rate": 6}) == []
    assert len(regressions({"en/refused_rate": 0.5 - 2 / 6}, base, {"en/refused_rate": 6})) == 1

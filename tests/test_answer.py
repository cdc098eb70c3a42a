"""Cited answers from the extractive generator on the real index: spans, diversity, refusal, follow-ups."""

from __future__ import annotations

import json

import pytest

from eval.answers import first_cited
from rag.cli import main
from rag.generate import Turn
from rag.ingest import load_document
from rag.pipeline import Assistant

from .conftest import SEEDS

pytestmark = pytest.mark.slow


def _doc_text(doc: str) -> str:
    return load_document(SEEDS / f"{doc}.txt").text


def test_citations_are_exact_spans_and_every_marker_has_one(assistant: Assistant) -> None:
    ans = assistant.answer("Wer vertrat Russland bei den 2+2-Beratungen in Tokio?")
    assert not ans.refused and ans.citations and ans.generator == "extractive"
    for c in ans.citations:
        assert _doc_text(c.doc)[c.start : c.end] == c.quote
        assert f"[{c.n}]" in ans.text
    assert any("Lawrow" in c.quote for c in ans.citations)


def test_maneuver_question_draws_on_several_articles(assistant: Assistant) -> None:
    ans = assistant.answer("Welche Länder hielten Manöver ab?")
    assert len({c.doc for c in ans.citations}) >= 2, ans.text
    # The participants are named (in the quotes or the article labels), not left to "dabei".
    text = ans.text.lower()
    for country in (("russ", "moskau"), ("chin", "peking"), ("japan",), ("us-", "usa", "amerika")):
        assert any(c in text for c in country), (country, ans.text)


@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("Wo findet der BRICS-Gipfel statt?", "Kasan"),
        ("Who represented Russia at the 2+2 talks in Tokyo?", "Lawrow"),
        ("Wer ist der Generalsekretär der NATO?", "Rutte"),
    ],
)
def test_the_answering_sentence_comes_first(assistant: Assistant, question: str, needle: str) -> None:
    ans = assistant.answer(question)
    assert needle in first_cited(ans), ans.text


@pytest.mark.parametrize(
    "question",
    ["Wie hoch ist der Verteidigungshaushalt Japans?", "How large is Germany's defence budget?"],
)
def test_near_topic_questions_the_articles_do_not_answer_are_refused(assistant: Assistant, question: str) -> None:
    ans = assistant.answer(question)
    assert ans.refused and not ans.citations and ans.related, ans.text


def test_follow_up_asking_when_gets_a_date(assistant: Assistant) -> None:
    history = [Turn("Worüber berieten die Außen- und Verteidigungsminister Russlands und Japans in Tokio?")]
    ans = assistant.answer("Und wann war das?", history)
    assert not ans.refused and "2013" in ans.text.split("[", 1)[0], ans.text


def test_streaming_sends_sources_before_text(assistant: Assistant) -> None:
    kinds = [e.kind for e in assistant.answer_stream("Where will the BRICS summit take place?")]
    assert kinds[0] == "sources" and kinds[-1] == "done" and "delta" in kinds


@pytest.mark.parametrize(
    ("question", "refusal"),
    [
        ("Wer gewann die Fußball-Weltmeisterschaft 2014 in Brasilien?", "In den Artikeln steht dazu nichts."),
        ("What is the recipe for a good apple pie?", "The articles don't say."),
    ],
)
def test_refuses_in_the_question_language_and_offers_related(assistant: Assistant, question: str, refusal: str) -> None:
    ans = assistant.answer(question)
    assert ans.refused and ans.text == refusal and not ans.citations
    assert 0 < len(ans.related) <= 3


def test_answers_when_the_articles_do_say(assistant: Assistant) -> None:
    ans = assistant.answer("Wo findet der BRICS-Gipfel statt?")
    assert not ans.refused and "Kasan" in ans.text


def test_follow_up_uses_the_history(assistant: Assistant) -> None:
    history = [Turn("Worüber berieten die Außen- und Verteidigungsminister Russlands und Japans in Tokio?")]
    ans = assistant.answer("Und was sagte Schoigu dazu?", history)
    assert not ans.refused
    assert any(c.doc.startswith("000_") and "Schoigu" in c.quote for c in ans.citations), ans.text


def test_cli_ask_json_and_question_file(assistant: Assistant, tmp_path, capsys) -> None:
    data = ["--data-dir", str(assistant.settings.data_dir)]
    assert main([*data, "ask", "--json", "Wo findet der BRICS-Gipfel statt?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"answer", "citations", "refused"} and out["citations"][0]["quote"]
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"id": "a", "question": "Wer ist Beloussow?"}\n{"id": "b", "question": "Who is Rutte?"}\n')
    assert main([*data, "ask", "--questions", str(qfile), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"] and all("refused" in r for r in rows)


def test_cli_ask_rejects_empty_question(assistant: Assistant, capsys) -> None:
    assert main(["--data-dir", str(assistant.settings.data_dir), "ask", "   "]) == 2
    assert "empty" in capsys.readouterr().err

"""Expected answer types of German and English questions, and candidates of that type in sentences."""

from __future__ import annotations

import pytest

from rag.answer_type import has_candidate, last_question, question_type


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Wann trafen sich die Minister erstmals in Tokio?", "date"),
        ("In welchem Jahr wurde die NATO gegründet?", "date"),
        ("When did the exercise take place?", "date"),
        ("Wie viele Punkte gab die Verteidigung ab?", "number"),
        ("Wie hoch ist Japans Verteidigungshaushalt?", "number"),
        ("How many career sacks did Jared Allen have?", "number"),
        ("Wer vertrat Russland?", "person"),
        ("Who succeeded Stoltenberg?", "person"),
        ("Wo findet der BRICS-Gipfel statt?", "place"),
        ("Where will the summit take place?", "place"),
        ("Welche Länder hielten Manöver ab?", "other"),
        ("Worüber zeigte sich Schoigu besorgt?", "other"),
        # A follow-up is searched joined to the question before it: the last question decides.
        ("Wer vertrat Russland bei den Gesprächen? Und wann war das?", "date"),
    ],
)
def test_question_types(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_last_question_of_a_joined_follow_up() -> None:
    assert last_question("Wer kam nach Tokio? Und wann war das?") == "Und wann war das?"
    assert last_question("Wer kam?") == "Wer kam?"


@pytest.mark.parametrize(
    ("kind", "sentence", "question", "found"),
    [
        ("date", "Die Minister trafen sich am 2. November 2013 in Tokio.", "Wann trafen sie sich?", True),
        ("date", "Die Minister trafen sich in Tokio.", "Wann trafen sie sich?", False),
        # A year the question already names is no answer to "when".
        ("date", "Im Jahr 2013 trafen sich die Minister.", "Wann 2013 trafen sie sich?", False),
        ("number", "Die Verteidigung gab nur 308 Punkte ab.", "How many points?", True),
        ("number", "Zwei Schiffe nahmen teil.", "Wie viele Schiffe?", True),
        ("number", "Die Schiffe nahmen teil.", "Wie viele Schiffe?", False),
        ("person", "Übernommen hatte er es von Jens Stoltenberg.", "Wer war Ruttes Vorgänger?", True),
        ("person", "Übernommen hatte er es von Jens Stoltenberg.", "Was sagte Jens Stoltenberg?", False),
        ("place", "Der Gipfel findet im russischen Kasan statt.", "Where is the summit?", True),
        ("place", "Der Gipfel findet statt.", "Where is the summit?", False),
        ("place", "Der Gipfel findet in Kasan statt.", "Where is the summit?", True),
        ("other", "Der Gipfel findet in Kasan statt.", "Warum?", False),
    ],
)
def test_candidates_of_the_expected_type(kind: str, sentence: str, question: str, found: bool) -> None:
    assert has_candidate(kind, sentence, question) is found

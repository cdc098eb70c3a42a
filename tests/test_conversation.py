"""Follow-up detection and the deterministic rewrite, with generators that do or do not rewrite."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from rag.conversation import is_follow_up, standalone
from rag.generate import GeneratorUnavailable, Turn

FIRST = "Worüber berieten die Minister Russlands und Japans in Tokio?"


@pytest.mark.parametrize(
    "question",
    [
        "Und was sagte Schoigu dazu?",
        "und wann war das?",
        "Aber wer war dabei?",
        "What about China?",
        "Wie steht es mit Südkorea?",
        "Wer war dort?",  # a pronoun of place
        "Who said that?",
        "Was sagte er?",
    ],
)
def test_follow_ups(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        FIRST,
        "Wo findet der BRICS-Gipfel statt?",
        "Who represented Russia at the talks in Tokyo?",
        # A pronoun in a long question: it names its own topic.
        "Was sagte der russische Verteidigungsminister Schoigu bei den Beratungen in Tokio über die "
        "Raketenabwehr, die Japan dort aufbauen will?",
        "Undine Müller?",  # "und" only as a whole word
    ],
)
def test_questions_that_stand_alone(question: str) -> None:
    assert not is_follow_up(question)


class Rewriter:
    """A generator that offers an LLM-style rewrite (a real class, as any LLM generator is)."""

    def __init__(self, reply: str = "", fail: bool = False) -> None:
        self.reply, self.fail, self.asked = reply, fail, 0

    def generate(self, question: str, sources: Sequence[object], lang: str, evidence: Sequence[object] = ()):
        return iter(())

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        self.asked += 1
        if self.fail:
            raise GeneratorUnavailable("LLM server down", "start it")
        return self.reply


def test_without_history_or_follow_up_the_question_is_unchanged() -> None:
    assert standalone("Und was sagte Schoigu dazu?", []) == "Und was sagte Schoigu dazu?"
    assert standalone("Wo findet der BRICS-Gipfel statt?", [Turn(FIRST)]) == "Wo findet der BRICS-Gipfel statt?"


def test_a_follow_up_is_joined_to_the_last_question() -> None:
    history = [Turn("Wer kam nach Tokio?", "Schoigu [1]"), Turn(FIRST, "Über Sicherheit [1]")]
    assert standalone("Und was sagte Schoigu dazu?", history) == f"{FIRST} Und was sagte Schoigu dazu?"


def test_a_generator_that_rewrites_is_asked_first() -> None:
    gen = Rewriter("  Was sagte Schoigu in Tokio?  ")
    assert standalone("Und was sagte er?", [Turn(FIRST)], gen) == "Was sagte Schoigu in Tokio?"  # type: ignore[arg-type]
    assert standalone("Wo ist Kasan?", [Turn(FIRST)], gen) == "Wo ist Kasan?"  # type: ignore[arg-type]
    assert gen.asked == 1  # not for a question that stands alone


@pytest.mark.parametrize("gen", [Rewriter(""), Rewriter(fail=True)], ids=["empty", "unavailable"])
def test_an_empty_or_failed_rewrite_falls_back_to_the_join(gen: Rewriter) -> None:
    assert standalone("Und was sagte er?", [Turn(FIRST)], gen) == f"{FIRST} Und was sagte er?"  # type: ignore[arg-type]

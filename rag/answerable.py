"""Whether the retrieved evidence answers the question at all: refusal from evidence, not one threshold.

Similarity alone cannot tell "Wie hoch ist Japans Verteidigungshaushalt?" (on topic, not in the
articles) from an answerable question. Signals that can: the question's words or names that
the whole corpus lacks, the answer score of the best sentence (which knows whether a date or a
number of the expected kind is there), the best sentence's share of the question's rare words.
A logistic model over them is fitted by `python -m eval.fit_select` (cross-validated by
article); its weights and threshold live in `select_weights.json` beside `rag.select`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from rag.select import FEATURES as SENTENCE_FEATURES
from rag.select import Candidate

FEATURES = (
    "support",
    "best_score",
    "best_sim",
    "best_lex_idf",
    "type_hit",
    "type_miss",
    "unknown_words",
    "unknown_names",
    "is_en",
    "en_support",
    "en_align",
)
_NAME = re.compile(r"^(\d|[A-ZÄÖÜ])")
# A year is written alike in every language and every article that speaks of it names it.
_YEAR = re.compile(r"^(1[0-9]{3}|20[0-9]{2})$")


def features(question: str, lang: str, support: float, best: Candidate | None, missing: Sequence[str]) -> list[float]:
    """The question-level signals, in `FEATURES` order.

    `missing` are the question's content words the corpus lacks (`LexicalIndex.unknown_words`).
    Content words count for German questions only (an English word is expected to be missing from
    German articles); names and numbers count in both languages. The first word is not a name.
    """
    is_en = 1.0 if lang == "en" else 0.0
    words = question.split()
    first = words[0] if words else ""
    names = [w for w in missing if _NAME.match(w) and w != first.strip("¿?!.,")]
    row = best.features if best is not None else tuple(0.0 for _ in SENTENCE_FEATURES)

    def f(name: str) -> float:
        return float(row[SENTENCE_FEATURES.index(name)])

    return [
        support,
        best.score if best is not None else -10.0,
        f("sim"),
        f("lex_idf"),
        f("type_hit"),
        f("type_miss"),
        0.0 if is_en else min(len([w for w in missing if len(w) >= 4]), 3),
        min(len(names), 3),
        is_en,
        is_en * support,
        f("en_align"),
    ]


def probability(x: Sequence[float], weights: dict[str, float]) -> float:
    """The fitted logistic model's probability that the evidence answers the question."""
    z = weights.get("bias", 0.0) + sum(weights.get(name, 0.0) * v for name, v in zip(FEATURES, x, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def answers(
    question: str,
    lang: str,
    support: float,
    evidence: Sequence[Candidate],
    unknown: Callable[[str], list[str]],
    weights: dict[str, float],
) -> bool:
    """Whether to answer: no year in the question is missing from the corpus, and the model's
    probability reaches the fitted threshold.

    A year no article mentions ("Who won the 2014 football World Cup?", "Japan's defence budget
    for 2026") marks a question about something else: on both question sets it held for 12 of 190
    questions the articles do not answer and for none of the 1,130 they do.
    """
    missing = unknown(question)
    if any(_YEAR.match(w) for w in missing):
        return False
    x = features(question, lang, support, evidence[0] if evidence else None, missing)
    return probability(x, weights) >= weights.get("threshold", 0.5)

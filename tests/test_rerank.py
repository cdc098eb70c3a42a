"""The sources' final order (`rag.rerank`): logic on hand-made hits, and the engine's order end to end."""

from __future__ import annotations

import numpy as np

from rag.pipeline import Assistant
from rag.rerank import by_answer
from rag.select import Candidate
from rag.types import Chunk, Hit

TEXT = "Erster Satz über nichts. Zweiter Satz nennt die Antwort. Dritter Satz wiederholt die Frage. " * 3


def _hit(start: int, end: int, score: float, doc: str = "a") -> Hit:
    return Hit(Chunk(f"{doc}:{start}", doc, start, end, TEXT[start:end]), score)


def _sentence(source: int, start: int, end: int, score: float, doc: str = "a") -> Candidate:
    return Candidate(source, doc, start, end, TEXT[start:end], score, np.zeros(1))


def test_the_source_whose_sentence_answers_moves_up_and_the_evidence_follows() -> None:
    hits = [_hit(0, 30, 0.86), _hit(30, 60, 0.85), _hit(60, 90, 0.70)]
    evidence = [_sentence(2, 30, 55, 5.0), _sentence(1, 0, 24, 1.0), _sentence(3, 60, 88, -2.0)]
    ranked, moved = by_answer(hits, evidence, 0.025)
    assert [h.chunk.start for h in ranked] == [30, 0, 60]
    assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)
    for c in moved:  # every sentence still points at the chunk it was read from
        chunk = ranked[c.source - 1].chunk
        assert chunk.start <= c.start and c.end <= chunk.end
    assert moved[0].source == 1 and moved[0].text == evidence[0].text


def test_a_small_weight_leaves_a_clear_retrieval_lead_alone() -> None:
    hits = [_hit(0, 30, 0.95), _hit(30, 60, 0.80)]
    evidence = [_sentence(2, 30, 55, 3.0), _sentence(1, 0, 24, 1.0)]
    ranked, _ = by_answer(hits, evidence, 0.025)
    assert [h.chunk.start for h in ranked] == [0, 30]


def test_weight_zero_keeps_the_retrievers_order_and_scores() -> None:
    hits = [_hit(0, 30, 0.86), _hit(30, 60, 0.85)]
    evidence = [_sentence(2, 30, 55, 5.0), _sentence(1, 0, 24, 1.0)]
    ranked, moved = by_answer(hits, evidence, 0.0)
    assert ranked == hits and moved == evidence


def test_sources_below_the_read_ones_keep_their_order_below_them() -> None:
    hits = [_hit(0, 30, 0.90), _hit(30, 60, 0.89), _hit(60, 90, 0.88), _hit(90, 120, 0.87)]
    evidence = [_sentence(2, 30, 55, 4.0), _sentence(1, 0, 24, -3.0)]  # the last two were not read
    ranked, _ = by_answer(hits, evidence, 0.025, depth=2)
    assert [h.chunk.start for h in ranked] == [30, 0, 60, 90]
    assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)


def test_overlapping_chunks_both_count_a_shared_sentence() -> None:
    # The selector lists a sentence once, under the first source that holds it.
    hits = [_hit(0, 40, 0.86), _hit(25, 90, 0.86), _hit(0, 30, 0.87, doc="b")]
    evidence = [_sentence(1, 30, 55, 5.0), _sentence(3, 0, 24, 0.0, doc="b")]
    ranked, _ = by_answer(hits, evidence, 0.025)
    assert [h.chunk.doc_id for h in ranked][:1] == ["a"]
    assert ranked[0].chunk.start == 25  # holds the answering sentence whole; the first chunk cuts it


def test_search_and_the_answer_show_the_sources_in_one_order(assistant: Assistant) -> None:
    question = "Welche Länder hielten Manöver ab?"
    hits = assistant.search(question)
    shown = next(e.hits for e in assistant.answer_stream(question) if e.kind == "sources")
    assert [h.chunk.chunk_id for h in shown] == [h.chunk.chunk_id for h in hits]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_the_answer_quotes_the_first_source_first(assistant: Assistant) -> None:
    # In the retriever's order the article that answers is the second source, and the answer opened with [2].
    answer = assistant.answer("Which articles discuss the war in Ukraine?")
    assert not answer.refused
    assert answer.citations[0].n == 1

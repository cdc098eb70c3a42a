"""Sentence vectors beside chunk vectors (`rag.sentvec`): packing, scoring, and the stored round trip.

Fast tests with the deterministic `HashEmbedder` and a real temporary Chroma; what the sentence
vectors are worth for retrieval is measured with the real model in `python -m eval`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag import sentvec
from rag.config import Settings
from rag.pipeline import Assistant
from rag.types import Chunk

from .conftest import SEEDS
from .hash_embedder import HashEmbedder


class CallCounting(HashEmbedder):
    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts))
        return super().embed_passages(texts, progress)


def test_pack_keeps_cosines_within_a_thousandth() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(5, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    back = sentvec.unpack(sentvec.pack(v), 384)
    assert back.shape == (5, 384) and back.dtype == np.float32
    assert np.max(np.abs(np.sum(back * v, axis=1) - 1.0)) < 1e-3


def test_embed_gives_each_multi_sentence_chunk_its_sentences_in_one_call() -> None:
    texts = ["Erster Satz hier. Zweiter Satz dort. Dritter Satz.", "Nur ein Satz ohne Ende"]
    embedder = CallCounting()
    vectors, packed = sentvec.embed(embedder, texts)
    assert embedder.calls == [2 + 3]  # chunks and sentences together
    assert vectors.shape == (2, embedder.dim) and packed[1] == ""
    stored = sentvec.unpack(packed[0], embedder.dim)
    fresh = embedder.embed_passages(["Erster Satz hier.", "Zweiter Satz dort.", "Dritter Satz."])
    assert np.allclose(stored, fresh, atol=2e-3)


def test_rank_mixes_the_best_sentence_in() -> None:
    q = np.array([1.0, 0.0])
    packed = sentvec.pack(np.array([[0.0, 1.0], [0.8, 0.6]]))
    mixed, plain = Chunk("m", "d", 0, 5, "x"), Chunk("p", "d", 5, 9, "y")
    found = [sentvec.Found(mixed, 0.5, packed), sentvec.Found(plain, 0.5, "")]
    scores = {h.chunk.chunk_id: h.score for h in sentvec.rank(found, q, 0.5)}
    assert scores == pytest.approx({"m": 0.5 * 0.5 + 0.5 * 0.8, "p": 0.5}, abs=1e-3)
    assert {h.score for h in sentvec.rank(found, q, 0.0)} == {0.5}


def test_rank_lets_a_chunk_with_the_answering_sentence_overtake() -> None:
    q = np.array([1.0, 0.0])
    blurred = Chunk("a", "d", 0, 10, "x")
    broad = Chunk("b", "d", 10, 20, "y")
    found = [sentvec.Found(broad, 0.7, ""), sentvec.Found(blurred, 0.6, sentvec.pack(np.eye(2)))]
    assert [h.chunk.chunk_id for h in sentvec.rank(found, q, 0.5)] == ["a", "b"]
    assert [h.chunk.chunk_id for h in sentvec.rank(found, q, 0.0)] == ["b", "a"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    data = tmp_path_factory.mktemp("sentvec")
    settings = Settings.from_env(data_dir=data, seeds_dir=SEEDS, chroma_url="", collection="articles")
    a = Assistant(settings, embedder=HashEmbedder())
    a.index(progress=False)
    return a


def test_stored_sentence_vectors_rank_the_dense_candidates(indexed: Assistant) -> None:
    """Index → Chroma metadata → search → rank: each dense score is the chunk cosine mixed with the
    best cosine of the chunk's sentences, embedded afresh here."""
    r = indexed.retriever
    question = "Welche Länder hielten Manöver ab?"
    q = r.embedder.embed_queries([question])[0]
    hits = r.dense(question, 10)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    mixed = 0
    for h in hits:
        cos = float(r.embedder.embed_passages([h.chunk.text])[0] @ q)
        sents = sentvec.texts(h.chunk.text)
        if len(sents) > 1:
            best = float(np.max(r.embedder.embed_passages(sents) @ q))
            expected = 0.5 * cos + 0.5 * best
            mixed += 1
        else:
            expected = cos
        assert h.score == pytest.approx(expected, abs=3e-3)
    assert mixed > 0


def test_chunks_read_back_without_the_vectors(indexed: Assistant) -> None:
    """The packed vectors stay in Chroma: chunks, snapshots and answers never carry them."""
    chunks = indexed.retriever.store.all_chunks()
    assert chunks and all(set(c.meta) == {"title", "outlet", "date", "url"} for c in chunks)
    found = indexed.retriever.store.search(indexed.embedder.embed_queries(["Manöver"])[0], 5)
    assert any(packed for _, _, packed in found)


def test_retrieval_support_stays_the_chunk_cosine(indexed: Assistant) -> None:
    """The refusal floor is calibrated on the best chunk cosine, whatever the ranking mixes in."""
    r = indexed.retriever
    question = "Wer traf sich in Tokio?"
    q = r.embedder.embed_queries([question])[0]
    best = max(float(c @ q) for c in r.embedder.embed_passages([c.text for c in r.chunks]))
    assert r.retrieve(question).support == pytest.approx(best, abs=1e-4)


def test_a_sentence_weight_outside_0_to_1_is_refused(tmp_path: Path) -> None:
    from rag.errors import SettingsError

    with pytest.raises(SettingsError, match="RAG_SENTENCE_WEIGHT"):
        Settings(sentence_weight=1.5)


def test_the_answer_stage_reuses_the_stored_sentence_vectors(tmp_path: Path) -> None:
    """A question's first answer embeds none of the sentences the index holds vectors for, and
    the question itself once."""
    seen: list[str] = []
    asked: list[str] = []

    class Recording(HashEmbedder):
        def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
            seen.extend(texts)
            return super().embed_passages(texts, progress)

        def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
            asked.extend(texts)
            return super().embed_queries(texts)

    settings = Settings.from_env(data_dir=tmp_path, seeds_dir=SEEDS, chroma_url="", collection="articles")
    a = Assistant(settings, embedder=Recording())
    a.index(progress=False)
    question = "Welche Länder hielten Manöver ab?"
    stored = a.retriever.retrieve(question).sentences
    assert len(stored) > 10
    seen.clear()
    asked.clear()
    a.answer(question)
    assert not set(seen) & set(stored)
    # A sentence read with the one before it is scored from the two vectors, not embedded again.
    assert not [t for t in seen if any(t.startswith(s) and len(t) > len(s) for s in stored)]
    assert asked == [question]


def test_weight_0_indexes_without_sentence_vectors_and_switching_re_embeds(tmp_path: Path) -> None:
    """RAG_SENTENCE_WEIGHT=0 embeds the chunks alone; turning sentence vectors on re-embeds every article."""
    embedder = CallCounting()
    base = Settings.from_env(data_dir=tmp_path, seeds_dir=SEEDS, chroma_url="", collection="articles")
    off = Assistant(Settings.from_env(data_dir=tmp_path, seeds_dir=SEEDS, chroma_url="", sentence_weight=0.0), embedder)
    report = off.index(progress=False)
    assert sum(embedder.calls) == report.chunks
    q = embedder.embed_queries(["Manöver"])[0]
    assert not any(packed for _, _, packed in off.store().search(q, report.chunks))
    embedder.calls.clear()
    on = Assistant(base, embedder)
    again = on.index(progress=False)
    assert len(again.updated) == 5 and sum(embedder.calls) > again.chunks
    assert any(packed for _, _, packed in on.store().search(q, again.chunks))


def test_damaged_sentence_vectors_leave_the_chunk_its_cosine(caplog: pytest.LogCaptureFixture) -> None:
    """A metadata string that is not packed vectors is logged and ignored, never a failed search."""
    q = np.array([1.0, 0.0])
    good = sentvec.pack(np.eye(2))
    found = [
        sentvec.Found(Chunk("a", "d", 0, 5, "x"), 0.4, "not base64!"),
        sentvec.Found(Chunk("b", "d", 5, 9, "y"), 0.3, good[:-4]),
        sentvec.Found(Chunk("c", "d", 9, 12, "z"), 0.2, good),
    ]
    scores = {h.chunk.chunk_id: h.score for h in sentvec.rank(found, q, 0.5)}
    assert scores == pytest.approx({"a": 0.4, "b": 0.3, "c": 0.6}, abs=1e-3)
    assert "damaged sentence vectors" in caplog.text
    assert sentvec.unpack("not base64!", 2).shape == (0, 2)

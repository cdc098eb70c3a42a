"""Cross-lingual word coverage (`rag.align`): its arithmetic, its place in the selection, the real model's states."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from rag.align import SHORTLIST, Aligner, content, recall
from rag.config import Settings
from rag.embed import STATES_LAYER, TokenEncoder, group_words
from rag.errors import RagError
from rag.select import FEATURES, Selector
from rag.types import Chunk, Hit

from .conftest import earlier_export
from .hash_embedder import HashEmbedder


class WordEmbedder(HashEmbedder):
    """HashEmbedder plus token states: one hashed vector per word, so equal words align with 1.0."""

    def token_states(self, texts: Sequence[str], query: bool = False) -> list[list[tuple[str, np.ndarray]]]:
        out = []
        for text in texts:
            words = []
            for w in text.split():
                v = np.zeros((1, 64))
                v[0, zlib.crc32(w.strip("?.,").lower().encode()) % 64] = 1.0
                words.append((w, v))
            out.append(words)
        return out


class BrokenEncoder(HashEmbedder):
    def token_states(self, texts: Sequence[str], query: bool = False) -> list[list[tuple[str, np.ndarray]]]:
        raise RagError("model-layer6.onnx is missing.", "Delete the export folder.")


def _hit(text: str) -> Hit:
    return Hit(Chunk("a:0", "a", 0, len(text), text, {}), 1.0)


SENTENCES = [f"Satz {i} nennt die Flotte und den Hafen von Ort{i}." for i in range(SHORTLIST + 3)]


def test_words_are_grouped_by_their_pieces_and_the_prompt_is_left_out() -> None:
    pieces = ["▁query", ":", "▁Marine", "man", "över", "▁ab", "?"]
    states = np.arange(len(pieces) * 2, dtype=float).reshape(len(pieces), 2) + 1
    words = group_words(pieces, states, skip=1)
    assert [w for w, _ in words] == ["Marinemanöver", "ab?"]
    assert [len(s) for _, s in words] == [3, 2]
    assert np.allclose(np.linalg.norm(words[0][1], axis=1), 1.0)


def test_coverage_counts_content_words_only() -> None:
    one, two = np.eye(3)[:1], np.eye(3)[1:2]
    words = [("What", one), ("is", one), ("manoeuvres?", two), ("42", one)]
    assert np.array_equal(content(words), two)  # stop words, numbers and short words carry no content
    assert recall(np.vstack([one, two]), np.vstack([two, two])) == pytest.approx(0.5)
    assert recall(np.zeros((0, 3)), two) == 0.0


def test_an_english_question_aligns_the_first_stages_shortlist_only() -> None:
    assert isinstance(WordEmbedder(), TokenEncoder) and not isinstance(HashEmbedder(), TokenEncoder)
    text = " ".join(SENTENCES)
    selector = Selector(WordEmbedder(), weights={"sim": 1.0, "en_align": 5.0}, shortlist={"sim": 1.0})
    sents, x, _ = selector.features("Which fleet used the port of Ort8?", [_hit(text)])
    col = x[:, FEATURES.index("en_align")]
    first = np.argsort(-x[:, FEATURES.index("sim")], kind="stable")[:SHORTLIST]
    rest = np.setdiff1d(np.arange(len(sents)), first)
    assert len(rest) and np.all(col[rest] == col[first].min())
    _, x_all, _ = selector.features("Which fleet used the port of Ort8?", [_hit(text)], shortlist=None)
    assert np.allclose(x_all[first], x[first])
    best = [i for i, s in enumerate(sents) if "Ort8" in s.text][0]
    assert x_all[best, FEATURES.index("en_align")] == x_all[:, FEATURES.index("en_align")].max()
    _, x_de, _ = selector.features("Welche Flotte nutzte den Hafen von Ort8?", [_hit(text)])
    assert not x_de[:, FEATURES.index("en_align")].any()  # German questions have their stems


def test_without_token_states_english_questions_rank_by_the_first_stage(caplog: pytest.LogCaptureFixture) -> None:
    text = " ".join(SENTENCES)
    weights = {"sim": 1.0, "en_align": 5.0, "bias": 0.0}
    first = {"sim": 2.0}
    broken = Selector(BrokenEncoder(), weights=weights, shortlist=first)
    with caplog.at_level(logging.WARNING):
        ranked = broken.rank("Which fleet used the port of Ort8?", [_hit(text)])
    assert "without word alignment" in caplog.text and "Delete the export folder" in caplog.text
    plain = Selector(HashEmbedder(), weights=first, shortlist=first).rank(
        "Which fleet used the port of Ort8?", [_hit(text)]
    )
    assert [c.score for c in ranked] == [c.score for c in plain]
    assert broken.aligner is not None and not broken.aligner.available  # warned once, not per question


@pytest.mark.slow
def test_the_cut_graph_gives_the_middle_layer_and_shares_the_weights(settings: Settings) -> None:
    from rag.embed import create_embedder
    from rag.embed.onnx import STATES
    from rag.embed.torch import SentenceTransformerEmbedder
    from rag.provision_onnx import ensure_export

    folder = ensure_export(settings)
    assert (folder / STATES).stat().st_size < 1_000_000  # the weights stay in model.onnx.data
    texts = ["Die Minister beschlossen, gemeinsame Marinemanöver abzuhalten.", "Wer vertrat Russland?"]
    onnx = create_embedder(dataclasses.replace(settings, embed_backend="onnx"))
    torch = SentenceTransformerEmbedder(settings)
    assert isinstance(onnx, TokenEncoder) and STATES_LAYER == 6
    for text, a, b in zip(texts, onnx.token_states(texts), torch.token_states(texts), strict=True):
        assert [w for w, _ in a] == [w for w, _ in b] == text.split()
        assert min(float(np.sum(x * y, axis=1).min()) for (_, x), (_, y) in zip(a, b, strict=True)) > 0.9999


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "answers", "misses"),
    [
        (
            "Which countries decided to hold naval manoeuvres?",
            "Die Minister beschlossen, gemeinsame Marinemanöver abzuhalten.",
            "Die Minister trafen sich in Tokio zu Beratungen über Sicherheit.",
        ),
        (
            "What was in demand at the time?",
            "In einer Zeit steigender Nachfrage nach deutschsprachigen Publikationen wurde Luthers Version "
            "schnell zu einer populären und einflussreichen Bibelübersetzung.",
            "Im November schrieb Luther Das Urteil von Martin Luther über das Klostergelübde.",
        ),
    ],
)
def test_english_words_find_their_german_translation(embedder, question: str, answers: str, misses: str) -> None:
    """ "naval manoeuvres" is "Marinemanöver", "demand" is "Nachfrage": no stem is shared."""
    cover = Aligner(embedder).coverage(question, [answers, misses], [None, None])
    assert cover is not None and cover[0, 0] > cover[1, 0] + 0.1


@pytest.mark.slow
def test_an_export_made_before_gets_the_cut_graph(settings: Settings, tmp_path) -> None:
    """A model folder exported by an earlier release has no model-layer6.onnx: the next start cuts it."""
    from rag.embed import create_embedder
    from rag.embed.onnx import DATA, STATES

    mine, good, old = earlier_export(settings, tmp_path)
    for f in good.iterdir():
        if f.name == DATA:  # onnxruntime refuses weights that resolve outside the model's folder
            shutil.copyfile(f, old / f.name)
        elif f.name != STATES:
            (old / f.name).symlink_to(f)
    texts = ["Die Minister beschlossen, gemeinsame Marinemanöver abzuhalten."]
    states = create_embedder(mine).token_states(texts)
    assert (old / STATES).is_file() and not (old / STATES).is_symlink()
    reference = create_embedder(dataclasses.replace(settings, embed_backend="onnx")).token_states(texts)
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(states[0], reference[0], strict=True))

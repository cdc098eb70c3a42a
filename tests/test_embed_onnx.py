"""The ONNX backends embed like the torch model they are exported from, and int8 keeps its own index."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from rag.chunk import chunk_document
from rag.config import Settings
from rag.embed_onnx import OnnxEmbedder
from rag.errors import RagError
from rag.ingest import load_document
from rag.pipeline import Assistant
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def texts(settings: Settings) -> list[str]:
    doc = load_document(sorted(SEEDS.glob("*.txt"))[0])
    return [c.text for c in chunk_document(doc, settings.chunk_size, settings.chunk_overlap)]


@pytest.mark.parametrize(("int8", "floor"), [(False, 0.9999), (True, 0.95)])
def test_onnx_vectors_match_torch(settings: Settings, embedder, texts: list[str], int8: bool, floor: float) -> None:
    onnx = OnnxEmbedder(settings, int8=int8, st=embedder)
    for a, b in (
        (onnx.embed_passages(texts), embedder.embed_passages(texts)),
        (onnx.embed_queries(["Wer vertrat Russland?"]), embedder.embed_queries(["Wer vertrat Russland?"])),
    ):
        assert a.shape == b.shape and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-4)
        assert np.min(np.sum(a * b, axis=1)) >= floor


def test_onnx_backend_serves_the_torch_index_but_int8_refuses_it(assistant: Assistant, tmp_path: Path) -> None:
    onnx = Assistant(dataclasses.replace(assistant.settings, embed_backend="onnx"))
    hits = onnx.search("Wo findet der BRICS-Gipfel statt?", k=3)
    assert hits[0].chunk.chunk_id == assistant.search("Wo findet der BRICS-Gipfel statt?", k=3)[0].chunk.chunk_id
    int8 = Assistant(dataclasses.replace(assistant.settings, embed_backend="onnx-int8"))
    with pytest.raises(RagError, match="--rebuild"):
        int8.search("Wo findet der BRICS-Gipfel statt?")


def test_unknown_backend_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(RagError, match="torch, onnx or onnx-int8"):
        _ = Assistant(dataclasses.replace(settings, embed_backend="tpu")).embedder

"""Text → vectors: the `Embedder` protocol, the name an index records, and the backends by name.

Each backend module only serves (`torch`: sentence-transformers, `onnx`: onnxruntime) and is
imported when chosen, so a process that serves the ONNX export never imports torch. Building the
model folder and exporting it to ONNX live in `rag.provision` and `rag.provision_onnx`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from rag.config import Settings
from rag.errors import RagError
from rag.provision import DEFAULT_MODEL_ID


class Embedder(Protocol):
    """Turns queries and passages into L2-normalized vectors."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


def model_id(settings: Settings) -> str:
    """The name recorded in the index, so an index is never queried with another model.

    The fp32 ONNX export gives the same vectors as torch (cosine 1.0) and shares the name; int8
    weights change the vectors, so an int8 index is its own kind.
    """
    base = settings.embed_model or DEFAULT_MODEL_ID
    return base + " int8" if settings.embed_backend == "onnx-int8" else base


def _torch(settings: Settings) -> Embedder:
    from rag.embed.torch import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings)


def _onnx(settings: Settings, int8: bool = False) -> Embedder:
    from rag.embed.onnx import OnnxEmbedder
    from rag.provision_onnx import ensure_export

    return OnnxEmbedder(ensure_export(settings, int8), model_id(settings), int8, settings.batch_size)


EMBEDDERS: dict[str, Callable[[Settings], Embedder]] = {
    "torch": _torch,
    "onnx": _onnx,
    "onnx-int8": lambda settings: _onnx(settings, int8=True),
}


def create_embedder(settings: Settings) -> Embedder:
    """The embedder `RAG_EMBED_BACKEND` names."""
    factory = EMBEDDERS.get(settings.embed_backend)
    if factory is None:
        raise RagError(
            f"RAG_EMBED_BACKEND={settings.embed_backend!r} is not a known backend.", "Use torch, onnx or onnx-int8."
        )
    return factory(settings)

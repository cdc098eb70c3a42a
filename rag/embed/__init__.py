"""Text → vectors: the `Embedder` protocol, the name an index records, and the backends by name.

Each backend module only serves (`torch`: sentence-transformers, `onnx`: onnxruntime) and is
imported when chosen, so a process that serves the ONNX export never imports torch. Building the
model folder and exporting it to ONNX live in `rag.provision` and `rag.provision_onnx`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from rag.config import Settings
from rag.errors import RagError
from rag.provision import DEFAULT_MODEL_ID


class Embedder(Protocol):
    """Turns queries and passages into L2-normalized vectors."""

    @property
    def name(self) -> str:
        """The model's name, recorded in the index (`model_id`)."""
        ...

    @property
    def dim(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


@runtime_checkable
class TokenEncoder(Protocol):
    """Token states from the middle of the encoder, for aligning an English question's words with a
    German sentence's (`rag.align`); the embedders that serve the real model provide it."""

    def token_states(self, texts: Sequence[str], query: bool = False) -> list[list[tuple[str, np.ndarray]]]:
        """Per text, its words in order, each with its tokens' L2-normalised states (one row per token)."""
        ...


# Which layer's states: the middle of e5-small's twelve aligns words across languages best
# (`rag.align`; layers 4-12 measured, 6 and 8 best, 6 costs half the model).
STATES_LAYER = 6


def group_words(pieces: Sequence[str], states: np.ndarray, skip: int) -> list[tuple[str, np.ndarray]]:
    """Token states grouped by word: a SentencePiece piece that starts with "▁" starts a word.

    `pieces` and `states` cover the text's tokens without special tokens; the first `skip` words
    (the model's "query: " / "passage: " prompt) are left out.
    """
    out: list[tuple[str, list[int]]] = []
    for i, piece in enumerate(pieces):
        if piece.startswith("▁") or not out:
            out.append((piece.lstrip("▁"), [i]))
        else:
            out[-1] = (out[-1][0] + piece, [*out[-1][1], i])
    rows = states / np.maximum(np.linalg.norm(states, axis=-1, keepdims=True), 1e-9)
    return [(word, rows[idx]) for word, idx in out[skip:] if word]


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

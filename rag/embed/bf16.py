"""Passages through the e5 model on torch in bfloat16, for indexing runs (`rag.embed.indexing`).

The weights are held in bf16 (layer norms included), not cast per call under `torch.autocast`:
autocast re-casts every weight on every forward pass, which cost 1.37 x the time on an AMX Xeon
(7.9 against 10.8 s for the bench's 1,042 chunks and 1,438 sentences), and the vectors still
agree with the fp32 export to cosine 0.99996 (0.99998 with autocast; README "Performance").

Why not the `torch` backend with autocast: sentence-transformers alone takes about 9 s to import,
which a run pays before its first vector; transformers' model class takes about 4 s with torch.
The ONNX export's tokenizer (SentencePiece, the same ids), prompts, mean pooling and batching by
length (`rag.embed.onnx.encode`) keep everything but the matrix products as the serving path has it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from rag import provision
from rag.config import Settings
from rag.embed import model_id
from rag.embed.onnx import META, encode, tokenizer
from rag.errors import RagError


class Bf16Encoder:
    """Embedder protocol over transformers' model of the export's source, matrix products in bf16."""

    def __init__(self, settings: Settings) -> None:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        from rag.provision_onnx import ensure_export

        folder = ensure_export(settings)
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        source = settings.embed_model or str(provision.provisioned(settings.cache_dir))
        hf_logging.disable_progress_bar()
        try:
            self.model = AutoModel.from_pretrained(source, dtype=torch.bfloat16).eval()
        except (OSError, ValueError) as exc:
            raise RagError(
                f"Could not load {source!r} for indexing in bfloat16: {exc}",
                "Set RAG_INDEX_BF16=off to index with the embed backend.",
            ) from exc
        self.torch = torch
        self.tokenizer = tokenizer(folder, meta)
        self.name, self.dim = model_id(settings), int(meta["dim"])
        self.batch_size = settings.batch_size
        self._query, self._passage = str(meta["query_prompt"]), str(meta["passage_prompt"])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return encode([self._query + t for t in texts], self.tokenizer, self._forward, self.batch_size, self.dim)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return encode([self._passage + t for t in texts], self.tokenizer, self._forward, self.batch_size, self.dim)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return np.asarray(out.last_hidden_state.float().numpy())

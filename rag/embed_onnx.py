"""The same e5 model through onnxruntime, fp32 or dynamically quantized to int8 (`RAG_EMBED_BACKEND`).

sentence-transformers' own ONNX backend needs `optimum`, whose releases pin transformers < 5 and
clash with this project's pins, so the export is done here: torch.onnx from the model we already
load, then onnxruntime's `quantize_dynamic` for int8. Mean pooling and L2 normalisation as in the
model's sentence-transformers config. The files are built once into the model cache.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.embed import DEFAULT_MODEL_ID, SentenceTransformerEmbedder, model_id

log = logging.getLogger(__name__)


def onnx_files(settings: Settings) -> tuple[Path, Path]:
    """Where the fp32 and int8 exports of the current model live."""
    base = settings.embed_model or DEFAULT_MODEL_ID
    folder = settings.cache_dir / "models" / ("onnx-" + re.sub(r"[^\w.-]+", "_", base))
    return folder / "model.onnx", folder / "model-int8.onnx"


def export(st: SentenceTransformerEmbedder, fp32: Path, int8: Path) -> None:
    """torch → ONNX (dynamic batch and length), then dynamic int8 quantisation of the weights."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Encoder(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: Any, mask: Any) -> Any:
            return self.model(input_ids=ids, attention_mask=mask).last_hidden_state

    fp32.parent.mkdir(parents=True, exist_ok=True)
    sample = st.model.tokenizer(["passage: Beispiel", "passage: ein zweiter Satz"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    tmp = fp32.with_suffix(".tmp")
    log.info("exporting the embedding model to ONNX (once): %s", fp32)
    torch.onnx.export(
        Encoder(st.model[0].auto_model).eval(),
        (sample["input_ids"], sample["attention_mask"]),
        str(tmp),
        input_names=["input_ids", "attention_mask"],
        output_names=["hidden"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
        opset_version=17,
        dynamo=False,
    )
    tmp.rename(fp32)
    tmp8 = int8.with_suffix(".tmp")
    quantize_dynamic(str(fp32), str(tmp8), weight_type=QuantType.QInt8)
    tmp8.rename(int8)


class OnnxEmbedder:
    """Embedder protocol over onnxruntime; tokenizer and prompts come from the sentence-transformers model."""

    def __init__(self, settings: Settings, int8: bool = False, st: SentenceTransformerEmbedder | None = None) -> None:
        import onnxruntime as ort

        st = st or SentenceTransformerEmbedder(settings)
        fp32_path, int8_path = onnx_files(settings)
        if not (fp32_path.is_file() and int8_path.is_file()):
            export(st, fp32_path, int8_path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 0  # onnxruntime's default: one per core
        path = int8_path if int8 else fp32_path
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.tokenizer = st.model.tokenizer
        self.max_tokens = int(st.model.max_seq_length or 512)
        self.batch_size = settings.batch_size
        self.dim = st.dim
        self.name = model_id(dataclasses.replace(settings, embed_backend="onnx-int8" if int8 else "onnx"))
        self._query, self._passage = st._query, st._passage

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query + t for t in texts])

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode([self._passage + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts])  # similar lengths per batch: less padding
        for i in range(0, len(texts), self.batch_size):
            idx = order[i : i + self.batch_size]
            enc = self.tokenizer(
                [texts[j] for j in idx], padding=True, truncation=True, max_length=self.max_tokens, return_tensors="np"
            )
            mask = enc["attention_mask"].astype(np.int64)
            (hidden,) = self.session.run(None, {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": mask})
            pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
            out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out

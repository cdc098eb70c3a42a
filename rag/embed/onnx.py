"""The e5 model through onnxruntime, fp32 (the default) or dynamically quantized to int8.

Why: a query embeds in about 11 ms instead of 25, and serving never imports torch or
sentence-transformers, which alone take five of the ten seconds of a cold start. The export is
made once from the sentence-transformers model into the model cache, with everything serving
needs beside it (tokenizer.json, prompts, pooling length), so later processes load only
onnxruntime and tokenizers.

sentence-transformers' own ONNX backend needs `optimum`, whose releases pin transformers < 5 and
clash with this project's pins, so the export is done here: torch.onnx, then onnxruntime's
`quantize_dynamic` for int8. Mean pooling and L2 normalisation as in the model's config.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.config import Settings
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.embed import SentenceTransformerEmbedder

log = logging.getLogger(__name__)

FP32, INT8, TOKENIZER, META = "model.onnx", "model-int8.onnx", "tokenizer.json", "embedder.json"


def onnx_dir(settings: Settings) -> Path:
    """Where the exports of the current model live (one folder per model, shared by checkouts)."""
    from rag.embed import DEFAULT_MODEL_ID

    base = settings.embed_model or DEFAULT_MODEL_ID
    return settings.cache_dir / "models" / ("onnx-" + re.sub(r"[^\w.-]+", "_", base))


def _write(final: Path, write: Callable[[str], object]) -> None:
    """`write(path)` into a temporary name of this process, then rename: a crash or a second
    process exporting at the same time never leaves half a file under the final name."""
    tmp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
    write(str(tmp))
    os.replace(tmp, final)


def export(st: SentenceTransformerEmbedder, folder: Path) -> None:
    """torch → ONNX (dynamic batch and length), plus the tokenizer and settings serving needs.

    The meta file is written last: its presence means the folder is complete.
    """
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: Any, mask: Any) -> Any:
            return self.model(input_ids=ids, attention_mask=mask).last_hidden_state

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = st.model.tokenizer
    sample = tokenizer(["passage: Beispiel", "passage: ein zweiter Satz"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    log.info("exporting the embedding model to ONNX (once): %s", folder)
    _write(
        folder / FP32,
        lambda path: torch.onnx.export(
            Encoder(st.model[0].auto_model).eval(),
            (sample["input_ids"], sample["attention_mask"]),
            path,
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden": axes},
            opset_version=17,
            dynamo=False,
        ),
    )
    _write(folder / TOKENIZER, tokenizer.backend_tokenizer.save)
    meta = {
        "name": st.name,
        "dim": st.dim,
        "query_prompt": st._query,
        "passage_prompt": st._passage,
        "max_tokens": int(st.model.max_seq_length or 512),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "pad_token": str(tokenizer.pad_token or "<pad>"),
    }
    _write(folder / META, lambda path: Path(path).write_text(json.dumps(meta, indent=2), encoding="utf-8"))


def quantize(folder: Path) -> None:
    """Dynamic int8 weights from the fp32 export (onnxruntime.quantization)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    log.info("quantizing the ONNX model to int8 (once): %s", folder / INT8)
    _write(folder / INT8, lambda path: quantize_dynamic(str(folder / FP32), path, weight_type=QuantType.QInt8))


def ensure_export(settings: Settings, int8: bool = False, st: SentenceTransformerEmbedder | None = None) -> Path:
    """The export folder, made on first use (loads torch once; later runs never do)."""
    folder = onnx_dir(settings)
    if not (folder / META).is_file():
        if st is None:
            from rag.embed import SentenceTransformerEmbedder

            st = SentenceTransformerEmbedder(settings)
        export(st, folder)
    if int8 and not (folder / INT8).is_file():
        quantize(folder)
    return folder


class OnnxEmbedder:
    """Embedder protocol over onnxruntime and the model's own fast tokenizer; no torch at run time."""

    def __init__(self, settings: Settings, int8: bool = False, st: SentenceTransformerEmbedder | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from rag.embed import model_id

        folder = ensure_export(settings, int8, st)
        try:
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 0  # onnxruntime's default: one per core
            path = folder / (INT8 if int8 else FP32)
            # The session first: loading briefly holds the weights twice, and the tokenizer's
            # 250k-piece vocabulary (about 300 MB) should not add to that peak.
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        except Exception as exc:  # onnxruntime raises its own classes (InvalidProtobuf, Fail, ...)
            raise RagError(
                f"The ONNX export in {folder} is damaged: {exc}",
                f"Delete {folder}; the next run exports it again (or set RAG_EMBED_BACKEND=torch).",
            ) from exc
        self.tokenizer.enable_truncation(int(meta["max_tokens"]))
        self.tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=str(meta["pad_token"]))
        self.batch_size = settings.batch_size
        self.dim = int(meta["dim"])
        self.name = model_id(settings)
        self._query, self._passage = str(meta["query_prompt"]), str(meta["passage_prompt"])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query + t for t in texts])

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode([self._passage + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths per batch: less padding
        for i in range(0, len(texts), self.batch_size):
            idx = order[i : i + self.batch_size]
            enc = self.tokenizer.encode_batch([texts[j] for j in idx])
            ids = np.asarray([e.ids for e in enc], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
            (hidden,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
            out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out

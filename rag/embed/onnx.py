"""The `onnx` backends: the e5 export through onnxruntime, fp32 (the default) or int8 weights.

Why: a query embeds in about 11 ms instead of 25, and serving never imports torch or
sentence-transformers, which alone take five of the ten seconds of a cold start. This module only
reads an export folder (`rag.provision_onnx` makes it: the model, tokenizer.json, prompts and
pooling length), so a serving process loads only onnxruntime and tokenizers. Mean pooling and L2
normalisation as in the model's config.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed import STATES_LAYER, group_words
from rag.errors import RagError

# The export folder's files; `rag.provision_onnx` writes META last, so its presence means complete.
# DATA holds the fp32 model's weights, which onnxruntime memory-maps instead of copying; SPM is the
# tokenizer as a SentencePiece model, where the model's tokenizer is one (XLM-R, e5).
FP32, INT8, TOKENIZER, META = "model.onnx", "model-int8.onnx", "tokenizer.json", "embedder.json"
DATA, SPM = FP32 + ".data", "tokenizer.model"
# The fp32 graph cut after layer STATES_LAYER, reading the same memory-mapped DATA (`rag.align`).
STATES = f"model-layer{STATES_LAYER}.onnx"


class _Pieces:
    """SentencePiece with the ids and the <s> … </s> frame of the Hugging Face tokenizer it was made from.

    Why: tokenizers' Unigram model keeps the 250k pieces in a trie of hash maps, 282 MB of a
    serving process; SentencePiece holds the same model in 54 MB and gives the same ids
    (`rag.provision_onnx.write_spm` checks that before it writes the file; the same ids for every
    line of the seeds and every benchmark question, `tests/test_embed_onnx.py`). Only degenerate
    input such as 5,000 × "x" can segment differently, where two segmentations score alike.
    """

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        import sentencepiece

        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
        self.bos, self.eos = self.sp.bos_id(), self.sp.eos_id()
        self.pad = int(meta["pad_id"])
        self.max_tokens = int(meta["max_tokens"])

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = [[self.bos, *ids[: self.max_tokens - 2], self.eos] for ids in self.sp.encode(texts)]
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)], mask[i, : len(r)] = r, 1
        return ids, mask

    def piece(self, token: int) -> str:
        return str(self.sp.id_to_piece(token))


class _HuggingFace:
    """The model's own tokenizer.json through `tokenizers` (models SentencePiece cannot stand in for)."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(path))
        self.tokenizer.enable_truncation(int(meta["max_tokens"]))
        self.tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=str(meta["pad_token"]))

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        enc = self.tokenizer.encode_batch(texts)
        return np.asarray([e.ids for e in enc], dtype=np.int64), np.asarray(
            [e.attention_mask for e in enc], dtype=np.int64
        )

    def piece(self, token: int) -> str:
        return str(self.tokenizer.id_to_token(token))


def tokenizer(folder: Path, meta: dict[str, Any]) -> _Pieces | _HuggingFace:
    """SentencePiece where the export has it, else tokenizer.json."""
    return _Pieces(folder / SPM, meta) if (folder / SPM).is_file() else _HuggingFace(folder / TOKENIZER, meta)


def encode(
    texts: Sequence[str],
    pieces: _Pieces | _HuggingFace,
    forward: Callable[[np.ndarray, np.ndarray], np.ndarray],
    batch_size: int,
    dim: int,
) -> np.ndarray:
    """Mean-pooled, L2-normalised vectors of `texts` (prompts included), in batches of similar
    length (less padding); `forward` maps token ids and mask to the last hidden states."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    for i in range(0, len(texts), batch_size):
        idx = order[i : i + batch_size]
        ids, mask = pieces.encode([texts[j] for j in idx])
        hidden = forward(ids, mask)
        pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    return out


class OnnxEmbedder:
    """Embedder protocol over onnxruntime and the model's own fast tokenizer; no torch at run time."""

    def __init__(self, folder: Path, name: str, int8: bool = False, batch_size: int = 32) -> None:
        import onnxruntime as ort

        try:
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 0  # onnxruntime's default: one per core
            path = folder / (INT8 if int8 else FP32)
            # The session first: a model that holds its weights inline is briefly in memory twice
            # while it loads, and the tokenizer should not add to that peak. The default export
            # keeps them in DATA, which is memory-mapped instead.
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            self.tokenizer = tokenizer(folder, meta)
        except Exception as exc:  # onnxruntime raises its own classes (InvalidProtobuf, Fail, ...)
            raise RagError(
                f"The ONNX export in {folder} is damaged: {exc}",
                f"Delete {folder}; the next run exports it again (or set RAG_EMBED_BACKEND=torch).",
            ) from exc
        self.batch_size = batch_size
        self.folder = folder
        self._states: Any = None  # the cut graph's session, opened by the first English question
        self._states_lock = threading.Lock()
        self.dim = int(meta["dim"])
        self.name = name
        self._query, self._passage = str(meta["query_prompt"]), str(meta["passage_prompt"])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query + t for t in texts])

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode([self._passage + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]  # type: ignore[no-any-return]

        return encode(texts, self.tokenizer, forward, self.batch_size, self.dim)

    def token_states(self, texts: Sequence[str], query: bool = False) -> list[list[tuple[str, np.ndarray]]]:
        prompt = self._query if query else self._passage
        with self._states_lock:  # concurrent first questions open one session
            if self._states is None:
                import onnxruntime as ort

                path = self.folder / STATES
                if not path.is_file():
                    raise RagError(f"{path} is missing.", f"Delete {self.folder}; the next run exports it again.")
                self._states = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        out: list[list[tuple[str, np.ndarray]]] = []
        for i in range(0, len(texts), self.batch_size):
            ids, mask = self.tokenizer.encode([prompt + t for t in texts[i : i + self.batch_size]])
            (hidden,) = self._states.run(None, {"input_ids": ids, "attention_mask": mask})
            for row, states, n in zip(ids, hidden, mask.sum(1), strict=True):
                inner = slice(1, int(n) - 1)  # without <s> and </s>
                pieces = [self.tokenizer.piece(int(t)) for t in row[inner]]
                out.append(group_words(pieces, states[inner], len(prompt.split())))
        return out
